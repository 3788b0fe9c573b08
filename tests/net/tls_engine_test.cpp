#include "net/tls_engine.hpp"

#include <doctest/doctest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "net/tls_context.hpp"

using dschat::TlsClientOptions;
using dschat::TlsContext;
using dschat::TlsEngine;
using dschat::TlsState;

namespace {

/// One ephemeral server certificate for every test: making a key is the slow part.
const TlsContext& server_context() {
  static const TlsContext context = TlsContext::server_ephemeral();
  return context;
}

TlsContext client_context(TlsClientOptions::Verify verify) {
  TlsClientOptions options;
  options.verify = verify;
  if (verify == TlsClientOptions::Verify::fingerprint) options.fingerprint = server_context().fingerprint();
  return TlsContext::client(options);
}

/// The server's certificate in a file, as --tls-ca takes it; removed at the end.
struct CaFile {
  CaFile()
      : path(std::filesystem::temp_directory_path() /
             ("dschat-tls-ca-" + std::to_string(getpid()) + ".pem")) {
    std::ofstream(path) << server_context().certificate_pem();
  }
  ~CaFile() { std::filesystem::remove(path); }
  std::filesystem::path path;
};

TlsContext ca_client_context(const CaFile& ca) {
  TlsClientOptions options;
  options.verify = TlsClientOptions::Verify::ca_file;
  options.ca_file = ca.path.string();
  return TlsContext::client(options);
}

/// How ciphertext is cut on its way: each flight in two at `at` (0: whole), or one byte at a time.
struct Cut {
  std::size_t at = 0;
  bool every_byte = false;
};

void deliver(TlsEngine& to, std::string_view bytes, Cut cut) {
  if (cut.every_byte) {
    for (const char& byte : bytes)
      to.feed_ciphertext(std::string_view(&byte, 1));
  } else if (cut.at == 0 || cut.at >= bytes.size()) {
    to.feed_ciphertext(bytes);
  } else {
    to.feed_ciphertext(bytes.substr(0, cut.at));
    to.feed_ciphertext(bytes.substr(cut.at));
  }
}

/// Moves ciphertext both ways until neither side has any to send; returns the longest flight's size.
std::size_t pump(TlsEngine& client, TlsEngine& server, Cut cut = {}) {
  std::size_t longest = 0;
  for (int round = 0; round < 16; ++round) {
    const std::string to_server = client.take_ciphertext();
    const std::string to_client = server.take_ciphertext();
    if (to_server.empty() && to_client.empty()) return longest;
    longest = std::max({longest, to_server.size(), to_client.size()});
    deliver(server, to_server, cut);
    deliver(client, to_client, cut);
  }
  FAIL("the engines never stop sending");
  return longest;
}

/// Everything the engine has decrypted, read 7 bytes at a time so that reads end inside records.
std::string read_all(TlsEngine& engine) {
  std::string text;
  std::array<char, 7> buffer{};
  while (const std::size_t n = engine.read_plaintext(buffer))
    text.append(buffer.data(), n);
  return text;
}

/// A client and a server that have completed their handshake.
struct Session {
  explicit Session(const TlsContext& client_ctx, std::string_view host = "localhost")
      : server(TlsEngine::server(server_context())), client(TlsEngine::client(client_ctx, host)) {
    pump(client, server);
    REQUIRE(client.state() == TlsState::open);
    REQUIRE(server.state() == TlsState::open);
  }
  TlsEngine server;
  TlsEngine client;
};

/// A whole session: handshake, a line each way, returns the longest flight; cut decides how bytes arrive.
std::size_t exchange(const TlsContext& client_ctx, Cut cut) {
  TlsEngine server = TlsEngine::server(server_context());
  TlsEngine client = TlsEngine::client(client_ctx, "localhost");
  server.write_plaintext("* welcome\n");  // waits for the handshake
  std::size_t longest = pump(client, server, cut);
  CHECK(client.handshake_done());
  CHECK(server.handshake_done());
  client.write_plaintext("hello\nworld\n");
  longest = std::max(longest, pump(client, server, cut));
  CHECK(read_all(server) == "hello\nworld\n");
  CHECK(read_all(client) == "* welcome\n");
  CHECK(server.state() == TlsState::open);
  CHECK(client.state() == TlsState::open);
  return longest;
}

}  // namespace

TEST_CASE("TlsEngine: a handshake and a line each way, whatever the cut") {
  const TlsContext client_ctx = client_context(TlsClientOptions::Verify::fingerprint);
  const std::size_t longest = exchange(client_ctx, {});
  CHECK(longest > 100);
  exchange(client_ctx, {.every_byte = true});
  for (std::size_t at = 1; at < longest; ++at) {
    CAPTURE(at);
    exchange(client_ctx, {.at = at});
  }
}

TEST_CASE("TlsEngine outlives the TlsContexts it was made from") {
  std::optional<TlsContext> server_ctx = TlsContext::server_ephemeral();
  std::optional<TlsContext> client_ctx = TlsContext::client({.verify = TlsClientOptions::Verify::fingerprint,
                                                             .ca_file = {},
                                                             .fingerprint = server_ctx->fingerprint()});
  TlsEngine server = TlsEngine::server(*server_ctx);
  TlsEngine client = TlsEngine::client(*client_ctx, "localhost");
  server_ctx.reset();
  client_ctx.reset();
  client.write_plaintext("still here\n");
  pump(client, server);
  CHECK(client.state() == TlsState::open);
  CHECK(read_all(server) == "still here\n");
}

TEST_CASE("TlsEngine: TLS 1.3 by default, TLS 1.2 still accepted") {
  const TlsContext insecure = client_context(TlsClientOptions::Verify::insecure);
  Session latest(insecure);
  CHECK(latest.client.protocol() == "TLSv1.3");
  CHECK(latest.server.protocol() == "TLSv1.3");

  TlsContext tls12 = client_context(TlsClientOptions::Verify::insecure);
  SSL_CTX_set_max_proto_version(tls12.native(), TLS1_2_VERSION);
  Session older(tls12);
  CHECK(older.server.protocol() == "TLSv1.2");
  older.server.write_plaintext("x\n");
  pump(older.client, older.server);
  CHECK(read_all(older.client) == "x\n");
}

TEST_CASE("TlsEngine: the server sends no session ticket") {
  const TlsContext insecure = client_context(TlsClientOptions::Verify::insecure);
  TlsEngine server = TlsEngine::server(server_context());
  TlsEngine client = TlsEngine::client(insecure, "localhost");
  server.feed_ciphertext(client.take_ciphertext());  // ClientHello
  client.feed_ciphertext(server.take_ciphertext());  // ServerHello ... Finished
  REQUIRE(client.handshake_done());
  server.feed_ciphertext(client.take_ciphertext());  // the client's Finished
  REQUIRE(server.handshake_done());
  // TLS 1.3 would send two NewSessionTicket messages here unless tickets are off.
  CHECK(server.take_ciphertext().empty());
}

TEST_CASE("TlsEngine::client with a pinned fingerprint") {
  SUBCASE("the server's certificate matches") {
    Session session(client_context(TlsClientOptions::Verify::fingerprint), "any.name.example");
    CHECK(session.client.error().empty());
  }

  SUBCASE("another certificate does not") {
    TlsClientOptions options;
    options.verify = TlsClientOptions::Verify::fingerprint;
    options.fingerprint = server_context().fingerprint();
    options.fingerprint[31] ^= 1;
    const TlsContext pinned = TlsContext::client(options);
    TlsEngine server = TlsEngine::server(server_context());
    TlsEngine client = TlsEngine::client(pinned, "localhost");
    pump(client, server);
    CHECK(client.state() == TlsState::failed);
    CHECK_FALSE(client.handshake_done());
    CHECK(client.error() ==
          "certificate fingerprint " + dschat::format_fingerprint(server_context().fingerprint()) +
              " does not match the pinned " + dschat::format_fingerprint(options.fingerprint));
    // The client's alert reaches the server, which fails as well.
    CHECK(server.state() == TlsState::failed);
    CHECK_FALSE(server.error().empty());
    client.write_plaintext("secret\n");
    CHECK(client.take_ciphertext().empty());
  }
}

TEST_CASE("TlsEngine::client checks the host name against the certificate") {
  const CaFile ca;
  const TlsContext trusted = ca_client_context(ca);
  for (const std::string_view host : {"localhost", "127.0.0.1", "::1"}) {
    CAPTURE(host);
    Session session(trusted, host);
  }

  const auto refused = [&](std::string_view host) {
    TlsEngine server = TlsEngine::server(server_context());
    TlsEngine client = TlsEngine::client(trusted, host);
    pump(client, server);
    CHECK(client.state() == TlsState::failed);
    CHECK(server.state() == TlsState::failed);
    return client.error();
  };
  CHECK(refused("example.com") == "certificate verify failed: hostname mismatch (expected example.com)");
  CHECK(refused("10.0.0.1") == "certificate verify failed: IP address mismatch (expected 10.0.0.1)");
}

TEST_CASE("TlsEngine::client with --tls-insecure blames a damaged handshake, not the certificate") {
  TlsEngine server = TlsEngine::server(server_context());
  TlsEngine client = TlsEngine::client(client_context(TlsClientOptions::Verify::insecure), "localhost");
  server.feed_ciphertext(client.take_ciphertext());
  std::string flight = server.take_ciphertext();
  flight.back() = static_cast<char>(flight.back() ^ 1);  // inside the server's encrypted Finished
  client.feed_ciphertext(flight);
  CHECK(client.state() == TlsState::failed);
  CHECK(client.error().rfind("TLS handshake failed: ", 0) == 0);
}

TEST_CASE("TlsEngine::client with the system CAs refuses a self-signed certificate") {
  const TlsContext system = client_context(TlsClientOptions::Verify::system);
  TlsEngine server = TlsEngine::server(server_context());
  TlsEngine client = TlsEngine::client(system, "localhost");
  pump(client, server);
  CHECK(client.state() == TlsState::failed);
  CHECK(client.error() == "certificate verify failed: self-signed certificate");
}

TEST_CASE("TlsEngine::plaintext_pending says whether a read can give more without the socket") {
  Session session(client_context(TlsClientOptions::Verify::insecure));
  CHECK_FALSE(session.server.plaintext_pending());
  session.client.write_plaintext("first record\n");
  std::string records = session.client.take_ciphertext();
  session.client.write_plaintext("second\n");
  records += session.client.take_ciphertext();
  session.server.feed_ciphertext(records);
  CHECK(session.server.plaintext_pending());
  std::array<char, 5> buffer{};
  CHECK(session.server.read_plaintext(buffer) == 5);
  CHECK(session.server.plaintext_pending());  // the rest of the first record, and the second
  CHECK(read_all(session.server) == " record\nsecond\n");
  CHECK_FALSE(session.server.plaintext_pending());
}

TEST_CASE("TlsEngine::shutdown sends one close_notify and the peer sees a clean close") {
  Session session(client_context(TlsClientOptions::Verify::insecure));
  session.client.write_plaintext("last line\nno newline");
  session.client.shutdown();
  const std::string close = session.client.take_ciphertext();
  CHECK_FALSE(close.empty());
  session.client.shutdown();
  CHECK(session.client.take_ciphertext().empty());  // once only
  session.client.write_plaintext("too late\n");
  CHECK(session.client.take_ciphertext().empty());

  for (const char& byte : close)
    session.server.feed_ciphertext(std::string_view(&byte, 1));
  CHECK(read_all(session.server) == "last line\nno newline");
  CHECK(session.server.state() == TlsState::closed);
  session.server.feed_eof();
  CHECK(session.server.read_plaintext(std::span<char>()) == 0);
  CHECK(session.server.state() == TlsState::closed);
  // The server may still answer, then closes in turn.
  session.server.write_plaintext("bye\n");
  session.server.shutdown();
  session.client.feed_ciphertext(session.server.take_ciphertext());
  CHECK(read_all(session.client) == "bye\n");
  CHECK(session.client.state() == TlsState::closed);
}

TEST_CASE("TlsEngine: the end of the stream without close_notify is a truncation") {
  Session session(client_context(TlsClientOptions::Verify::insecure));

  SUBCASE("after whole records") {
    session.client.write_plaintext("complete\nunterminated");
    session.server.feed_ciphertext(session.client.take_ciphertext());
    session.server.feed_eof();
    CHECK(read_all(session.server) == "complete\nunterminated");
    CHECK(session.server.state() == TlsState::truncated);
    CHECK(session.server.error().empty());
  }

  SUBCASE("inside a record") {
    session.client.write_plaintext("complete\n");
    session.server.feed_ciphertext(session.client.take_ciphertext());
    session.client.write_plaintext("lost");
    const std::string record = session.client.take_ciphertext();
    session.server.feed_ciphertext(std::string_view(record).substr(0, record.size() / 2));
    CHECK(read_all(session.server) == "complete\n");
    CHECK(session.server.state() == TlsState::open);
    session.server.feed_eof();
    CHECK(read_all(session.server).empty());
    CHECK(session.server.state() == TlsState::truncated);
  }
}

TEST_CASE("TlsEngine: the end of the stream during the handshake") {
  TlsEngine server = TlsEngine::server(server_context());
  TlsEngine client = TlsEngine::client(client_context(TlsClientOptions::Verify::insecure), "localhost");
  const std::string hello = client.take_ciphertext();
  server.feed_ciphertext(std::string_view(hello).substr(0, 10));
  CHECK(server.state() == TlsState::handshaking);
  server.feed_eof();
  CHECK(server.state() == TlsState::failed);
  CHECK(server.error() == "connection closed during the TLS handshake");
}

TEST_CASE("TlsEngine: a peer that does not speak TLS is named at its first bytes") {
  SUBCASE("a plain text client") {
    TlsEngine server = TlsEngine::server(server_context());
    server.feed_ciphertext("hello\n");
    CHECK(server.state() == TlsState::failed);
    CHECK(server.error() == "client does not speak TLS: it sent \"hello\\x0a\"");
    CHECK(server.take_ciphertext().empty());  // not a word back
    server.feed_ciphertext("more");
    CHECK(server.error() == "client does not speak TLS: it sent \"hello\\x0a\"");
  }

  SUBCASE("an empty line") {
    TlsEngine server = TlsEngine::server(server_context());
    server.feed_ciphertext("\n");
    CHECK(server.error() == "client does not speak TLS: it sent \"\\x0a\"");
  }

  SUBCASE("a web browser on http://") {
    TlsEngine server = TlsEngine::server(server_context());
    server.feed_ciphertext("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    CHECK(server.error() == "client does not speak TLS: it sent \"GET / HTTP/1.1\\x0d\\x0a...\"");
  }

  SUBCASE("a plain text server") {
    TlsEngine client = TlsEngine::client(client_context(TlsClientOptions::Verify::insecure), "localhost");
    client.take_ciphertext();
    client.feed_ciphertext("* welcome guest-1\n");
    CHECK(client.state() == TlsState::failed);
    CHECK(client.error() == "server does not speak TLS: it sent \"* welcome guest-...\"");
  }
}

TEST_CASE("TlsEngine::server refuses a TLS 1.1 client") {
  TlsContext old = client_context(TlsClientOptions::Verify::insecure);
  SSL_CTX_set_security_level(old.native(), 0);  // OpenSSL 3 offers TLS 1.1 at level 0 only
  SSL_CTX_set_min_proto_version(old.native(), TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(old.native(), TLS1_1_VERSION);
  TlsEngine server = TlsEngine::server(server_context());
  TlsEngine client = TlsEngine::client(old, "localhost");
  pump(client, server);
  CHECK(server.state() == TlsState::failed);
  CHECK(server.error() == "TLS handshake failed: unsupported protocol");
  CHECK(client.state() == TlsState::failed);
  CHECK(client.error() == "TLS handshake failed: tlsv1 alert protocol version");
}
