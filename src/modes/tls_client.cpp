#include "modes/tls_client.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <asio/write.hpp>
#include <cerrno>
#include <cstdio>

#include "core/error.hpp"
#include "net/endpoint.hpp"

namespace dschat {

namespace {

/// Writes what the engine has for the socket.
void flush(asio::ip::tcp::socket& socket, TlsEngine& engine, std::error_code& error) {
  if (!engine.wants_write()) return;
  const std::string bytes = engine.take_ciphertext();
  asio::write(socket, asio::buffer(bytes), error);
}

}  // namespace

std::optional<TlsContext> make_client_tls(const TlsClientFlags& flags) {
  if (!flags.wanted()) return std::nullopt;
  const int ways = static_cast<int>(!flags.ca_file.empty()) + static_cast<int>(!flags.fingerprint.empty()) +
                   static_cast<int>(flags.insecure);
  if (ways > 1) throw UsageError("--tls-ca, --tls-fingerprint and --tls-insecure exclude each other");
  TlsClientOptions options;
  if (!flags.fingerprint.empty()) {
    options.verify = TlsClientOptions::Verify::fingerprint;
    options.fingerprint = parse_fingerprint(flags.fingerprint);
  } else if (!flags.ca_file.empty()) {
    options.verify = TlsClientOptions::Verify::ca_file;
    options.ca_file = flags.ca_file;
  } else if (flags.insecure) {
    options.verify = TlsClientOptions::Verify::insecure;
    std::fputs("dschat: warning: --tls-insecure: the server's certificate is not verified\n", stderr);
  }
  return TlsContext::client(options);
}

TlsEngine tls_handshake(asio::ip::tcp::socket& socket, const TlsContext& context, const std::string& host,
                        const std::string& server, std::chrono::milliseconds timeout) {
  TlsEngine engine = TlsEngine::client(context, host);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 16 * 1024> buffer{};
  std::error_code error;
  while (engine.state() == TlsState::handshaking) {
    flush(socket, engine, error);
    if (error) throw Error(fmt::format("TLS handshake with {} failed: {}", server, describe(error)));
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd wait{socket.native_handle(), POLLIN, 0};
    const int ready = ::poll(&wait, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
    if (ready == 0) throw Error(fmt::format("TLS handshake with {} timed out", server));
    if (ready < 0 && errno == EINTR) continue;
    const std::size_t n = socket.read_some(asio::buffer(buffer), error);
    if (error == asio::error::eof) {
      engine.feed_eof();
    } else if (error) {
      throw Error(fmt::format("TLS handshake with {} failed: {}", server, describe(error)));
    } else {
      engine.feed_ciphertext(std::string_view(buffer.data(), n));
    }
  }
  flush(socket, engine, error);  // an alert, or the client's last handshake message
  if (engine.state() == TlsState::failed) {
    throw Error(fmt::format("TLS handshake with {} failed: {}", server, engine.error()));
  }
  return engine;
}

void tls_write(asio::ip::tcp::socket& socket, TlsEngine& engine, std::string_view bytes,
               std::error_code& error) {
  engine.write_plaintext(bytes);
  flush(socket, engine, error);
}

std::size_t tls_read_some(asio::ip::tcp::socket& socket, TlsEngine& engine, std::span<char> buffer,
                          std::error_code& error) {
  error.clear();
  std::size_t n = engine.read_plaintext(buffer);
  if (n == 0 && engine.state() == TlsState::open) {
    const std::size_t got = socket.read_some(asio::buffer(buffer.data(), buffer.size()), error);
    if (error == asio::error::eof) {
      error.clear();
      engine.feed_eof();
    } else if (error) {
      return 0;
    } else {
      engine.feed_ciphertext(std::string_view(buffer.data(), got));
    }
    n = engine.read_plaintext(buffer);
  }
  std::error_code ignored;
  flush(socket, engine, ignored);
  if (n > 0) return n;
  switch (engine.state()) {
    case TlsState::closed:
      error = asio::error::eof;
      break;
    case TlsState::truncated:
      throw Error("the server closed the connection without TLS close_notify");
    case TlsState::failed:
      throw Error(fmt::format("TLS error: {}", engine.error()));
    case TlsState::handshaking:
    case TlsState::open:
      break;
  }
  return 0;
}

}  // namespace dschat
