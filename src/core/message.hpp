#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace dschat {

/// One line ready to send, line ending included. Formatted once, shared by every recipient, never changed.
using Message = std::shared_ptr<const std::string>;

/// A Message holding text followed by "\n".
Message make_message(std::string_view text);

}  // namespace dschat
