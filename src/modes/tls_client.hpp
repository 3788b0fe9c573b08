#pragma once

// TLS for the clients (dschat client, dschat chat): the flags, and the blocking handshake and I/O over a
// connected socket. The TlsEngine is sans-I/O; these move its ciphertext.

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "modes/tls_client_flags.hpp"
#include "net/tls_engine.hpp"

namespace dschat {

/// Checks the flags (at most one way to verify: a usage error otherwise) and makes the client context;
/// nullopt without TLS. With --tls-insecure, says on stderr that the server is not verified.
std::optional<TlsContext> make_client_tls(const TlsClientFlags& flags);

/// The TLS handshake with server (host as typed: its name or address is verified) over a connected
/// blocking socket, within timeout; throws Error with one line saying why it failed.
TlsEngine tls_handshake(asio::ip::tcp::socket& socket, const TlsContext& context, const std::string& host,
                        const std::string& server, std::chrono::milliseconds timeout);

/// Encrypts bytes and writes them to the blocking socket.
void tls_write(asio::ip::tcp::socket& socket, TlsEngine& engine, std::string_view bytes,
               std::error_code& error);

/// One blocking read from the socket, decrypted into buffer; may return 0 with no error (a partial
/// record): call again. eof after the server's close_notify; throws Error when the stream ends without
/// it or on a TLS error.
std::size_t tls_read_some(asio::ip::tcp::socket& socket, TlsEngine& engine, std::span<char> buffer,
                          std::error_code& error);

}  // namespace dschat
