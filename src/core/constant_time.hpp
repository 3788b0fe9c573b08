#pragma once

#include <string_view>

namespace dschat {

/// True when given equals expected (the room password). The time taken depends on given.size() only: not
/// on where the texts differ, nor on the length or content of expected.
bool equal_constant_time(std::string_view expected, std::string_view given) noexcept;

}  // namespace dschat
