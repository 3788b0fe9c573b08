// libFuzzer target for TlsEngine (docs/protocol.md, TLS): a client and a server engine talk through
// memory. The input picks how every flight is cut, whether and where one byte in flight is flipped, whether
// the client closes with close_notify, and the text the client sends (half before the handshake ends, half
// after). The server never reads anything but a prefix of what the client wrote; without a flipped byte it
// reads all of it, both sides are open, and the end of the stream is clean exactly when the client closed;
// a failed side always says why in one line.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "net/tls_context.hpp"
#include "net/tls_engine.hpp"

using dschat::TlsContext;
using dschat::TlsEngine;
using dschat::TlsState;
using dschat::fuzz::check;

namespace {

const TlsContext& server_context() {
  static const TlsContext context = TlsContext::server_ephemeral();
  return context;
}

const TlsContext& client_context() {
  static const TlsContext context = [] {
    dschat::TlsClientOptions options;
    options.verify = dschat::TlsClientOptions::Verify::fingerprint;
    options.fingerprint = server_context().fingerprint();
    return TlsContext::client(options);
  }();
  return context;
}

/// The wire between the engines: cuts every flight into pieces of `step` bytes (0: whole) and flips the
/// bits of `mask` in the byte at `flip_at`, counting every byte that crosses in either direction.
struct Wire {
  std::size_t step = 0;
  std::size_t flip_at = SIZE_MAX;
  unsigned char mask = 0;
  std::size_t crossed = 0;

  void carry(std::string bytes, TlsEngine& to) {
    if (flip_at >= crossed && flip_at - crossed < bytes.size())
      bytes[flip_at - crossed] = static_cast<char>(bytes[flip_at - crossed] ^ mask);
    crossed += bytes.size();
    const std::size_t piece = step == 0 ? bytes.size() : step;
    for (std::size_t at = 0; at < bytes.size(); at += piece)
      to.feed_ciphertext(std::string_view(bytes).substr(at, piece));
  }

  void pump(TlsEngine& client, TlsEngine& server) {
    for (int round = 0; round < 16; ++round) {
      std::string to_server = client.take_ciphertext();
      std::string to_client = server.take_ciphertext();
      if (to_server.empty() && to_client.empty()) return;
      carry(std::move(to_server), server);
      carry(std::move(to_client), client);
    }
    dschat::fuzz::fail("the engines never stop sending");
  }
};

std::string read_all(TlsEngine& engine) {
  std::string text;
  std::array<char, 100> buffer{};
  while (const std::size_t n = engine.read_plaintext(buffer))
    text.append(buffer.data(), n);
  return text;
}

void check_error(const TlsEngine& engine) {
  const bool failed = engine.state() == TlsState::failed;
  check(failed != engine.error().empty(), "failed without a reason, or a reason without failing",
        engine.error());
  check(engine.error().find('\n') == std::string::npos, "a reason of more than one line", engine.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  Wire wire;
  wire.step = data[0] & 0x3F;
  const bool close = (data[0] & 0x40) != 0;
  const bool flip = (data[0] & 0x80) != 0;
  wire.mask = data[3] == 0 ? 1 : data[3];
  if (flip) wire.flip_at = static_cast<std::size_t>(data[1]) << 8 | data[2];
  const std::string_view text(reinterpret_cast<const char*>(data + 4), size - 4);
  const std::string_view early = text.substr(0, text.size() / 2);
  const std::string_view late = text.substr(text.size() / 2);

  TlsEngine server = TlsEngine::server(server_context());
  TlsEngine client = TlsEngine::client(client_context(), "localhost");
  client.write_plaintext(early);
  wire.pump(client, server);
  client.write_plaintext(late);
  if (close) client.shutdown();
  wire.pump(client, server);
  server.feed_eof();
  const std::string received = read_all(server);

  check(text.substr(0, received.size()) == received, "the server read what the client never wrote", received);
  check_error(client);
  check_error(server);
  const bool flipped = wire.flip_at < wire.crossed;
  if (!flipped) {
    check(client.handshake_done() && server.handshake_done(), "no handshake on a clean wire", server.error());
    check(received == text, "the server lost text on a clean wire", received);
    check(server.state() == (close ? TlsState::closed : TlsState::truncated),
          "a clean close taken for a truncation, or the reverse");
  }
  return 0;
}
