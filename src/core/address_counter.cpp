#include "core/address_counter.hpp"

namespace dschat {

bool AddressCounter::try_add(const IpAddress& address, std::size_t limit) {
  const auto [it, inserted] = open_.try_emplace(address, 0);
  if (it->second >= limit) return false;  // limit 0 refuses all: only an entry that was there can be full
  ++it->second;
  return true;
}

void AddressCounter::remove(const IpAddress& address) noexcept {
  const auto it = open_.find(address);
  if (it == open_.end()) return;
  // Forgetting an address once its last connection ends keeps the map as small as the connected clients.
  if (--it->second == 0) open_.erase(it);
}

std::size_t AddressCounter::count(const IpAddress& address) const noexcept {
  const auto it = open_.find(address);
  return it == open_.end() ? 0 : it->second;
}

}  // namespace dschat
