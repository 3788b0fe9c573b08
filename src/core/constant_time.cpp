#include "core/constant_time.hpp"

#include <cstddef>

namespace dschat {

bool equal_constant_time(std::string_view expected, std::string_view given) noexcept {
  // Every byte of given is compared with a byte of expected (cycling through it), the differences are
  // gathered without a branch, and the lengths are compared the same way: nothing stops the loop early.
  // Reading through volatile keeps the compiler from turning the loop back into an early-exit memcmp.
  const auto* want = reinterpret_cast<const volatile unsigned char*>(expected.data());
  const auto* got = reinterpret_cast<const volatile unsigned char*>(given.data());
  const std::size_t want_size = expected.size();
  std::size_t difference = want_size ^ given.size();
  for (std::size_t i = 0; i < given.size(); ++i) {
    const unsigned char w = want_size == 0 ? 0 : want[i % want_size];
    difference |= static_cast<unsigned char>(w ^ got[i]);
  }
  return difference == 0;
}

}  // namespace dschat
