#pragma once

#include <string>
#include <system_error>

namespace dschat::async_mode {

/// Why a connection ended, from the socket error that ended it: "connection reset" for a reset or a
/// broken pipe (DESIGN §2 wording), otherwise the error's own message.
std::string disconnect_reason(const std::error_code& error);

}  // namespace dschat::async_mode
