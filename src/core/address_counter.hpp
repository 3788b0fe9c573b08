#pragma once

#include <cstddef>
#include <map>

#include "core/access_list.hpp"

namespace dschat {

/// The connections open from each address, for --max-per-ip (docs/protocol.md, limits). IPv4 clients seen
/// v4-mapped count as their IPv4 address (IpAddress). Holds only the addresses with a connection open.
class AddressCounter {
 public:
  /// Counts a new connection from address unless limit are open from there already; true when counted.
  bool try_add(const IpAddress& address, std::size_t limit);

  /// A connection counted by try_add has ended.
  void remove(const IpAddress& address) noexcept;

  /// The connections open from address.
  std::size_t count(const IpAddress& address) const noexcept;

  /// The addresses with at least one connection open.
  std::size_t addresses() const noexcept { return open_.size(); }

 private:
  std::map<IpAddress, std::size_t> open_;
};

}  // namespace dschat
