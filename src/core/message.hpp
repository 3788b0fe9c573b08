#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace dschat {

/// One line ready to send, line ending included. Formatted once, shared by every recipient, never changed.
using Message = std::shared_ptr<const std::string>;

/// A Message holding text followed by ending ("\n", or "\r\n" for a CRLF client).
Message make_message(std::string_view text, std::string_view ending = "\n");

/// A Message holding exactly bytes (no line ending added).
Message make_raw_message(std::string_view bytes);

/// msg for a CRLF client: every "\n" as "\r\n". Made from msg on first use and kept in cache, so that a
/// message sent to many CRLF clients is converted once, and never for a room of LF clients.
const Message& with_crlf(const Message& msg, Message& cache);

}  // namespace dschat
