#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/exit_code.hpp"
#include "modes/tls_client.hpp"

namespace dschat {

/// Flags of `dschat chat` (alias `chat-client`).
struct ChatOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8888;
  bool timestamps = false;           ///< prefix each incoming line with the local time "[HH:MM:SS] "
  std::size_t max_line = 64 * 1024;  ///< longest line accepted from the server or standard input
  TlsClientFlags tls;                ///< --tls and how the server is verified
  std::string password;  ///< sent as "/pass PASSWORD" before anything else; empty: nothing is sent
};

/// The chat client (README, chat): relays standard input to the server and prints what the server sends,
/// both at once. On a terminal the line being typed is kept intact by a line editor; in a pipe or from a
/// file it prints plain lines only. Returns ok when the input ends or the server closes, interrupted on
/// Ctrl-C; throws Error when it cannot connect.
ExitCode run_chat_client(const ChatOptions& options);

}  // namespace dschat
