#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dschat {

/// An IPv4 or IPv6 address. IPv4 is kept in its v4-mapped IPv6 form (::ffff:a.b.c.d), so a client seen as
/// 10.0.0.1 and one seen as ::ffff:10.0.0.1 on a dual-stack listener are the same address.
class IpAddress {
 public:
  /// The 16 bytes of the address in network order.
  using Bytes = std::array<unsigned char, 16>;

  /// The IPv4 address with these 4 bytes (network order, as asio::ip::address_v4::to_bytes gives them).
  static IpAddress v4(const std::array<unsigned char, 4>& bytes) noexcept;

  /// The IPv6 address with these 16 bytes; a v4-mapped one becomes the IPv4 address.
  static IpAddress v6(const Bytes& bytes) noexcept;

  /// Parses "10.0.0.1", "::1" or "::ffff:10.0.0.1"; nullopt for anything else (no zone, no brackets).
  static std::optional<IpAddress> parse(std::string_view text);

  /// True for an IPv4 address (also when it arrived v4-mapped).
  bool is_v4() const noexcept;

  /// The 16 bytes, v4-mapped for IPv4.
  const Bytes& bytes() const noexcept { return bytes_; }

  /// "10.0.0.1" for IPv4, the RFC 5952 form ("fe80::1") for IPv6.
  std::string to_string() const;

  /// Equal when the bytes are equal.
  friend bool operator==(const IpAddress&, const IpAddress&) = default;

  /// Ordered by the 16 bytes, so that an address can key a std::map (--max-per-ip).
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  Bytes bytes_{};
};

/// A CIDR block: "10.0.0.0/8", "fe80::/10", or one address ("127.0.0.1" is 127.0.0.1/32). An IPv4 block
/// matches IPv4 clients only; an IPv6 block matches an IPv4 client when it holds its v4-mapped form (so
/// ::/0 matches every client, 0.0.0.0/0 every IPv4 client).
class IpNetwork {
 public:
  /// Parses one entry; nullopt with `problem` set to a short reason ("bad address", "bad prefix length
  /// (at most 32 for IPv4)", "host bits set (did you mean 10.0.0.0/8?)"). Host bits are refused rather
  /// than masked: in an access list a typo must not silently widen or move the block.
  static std::optional<IpNetwork> parse(std::string_view entry, std::string& problem);

  /// The block of exactly this address.
  static IpNetwork host(const IpAddress& address) noexcept;

  /// True when address lies inside the block.
  bool contains(const IpAddress& address) const noexcept;

  /// The first address of the block.
  const IpAddress& base() const noexcept { return base_; }

  /// The prefix length as written: 0-32 for an IPv4 block, 0-128 for an IPv6 one.
  unsigned prefix_length() const noexcept;

  /// "10.0.0.0/8"; a single address is printed without its /32 or /128. parse(to_string()) gives it back.
  std::string to_string() const;

  /// Equal when base and prefix are equal.
  friend bool operator==(const IpNetwork&, const IpNetwork&) = default;

 private:
  IpNetwork(const IpAddress& base, unsigned prefix) noexcept : base_(base), prefix_(prefix) {}

  IpAddress base_;
  unsigned prefix_;  // over the 16-byte form: an IPv4 /8 is 104
};

/// A list of CIDR blocks from --allow/--deny flags and files (docs/protocol.md, access control).
class AccessList {
 public:
  /// At most this many entries in one list, flags and files together.
  static constexpr std::size_t max_entries = 65536;

  /// Adds each entry of a comma-separated list as given to flag ("--allow"); throws UsageError naming the
  /// flag and the entry ("bad address in --allow: 10.0.0.300/8").
  void add_list(std::string_view list, std::string_view flag);

  /// Adds the entries of a file's text: one per line, blank lines and # comments ignored; throws
  /// UsageError naming origin and the line ("bad address in --allow-file hosts line 3: 10.0.0.300/8").
  void add_file_text(std::string_view text, std::string_view origin);

  /// Adds one block; throws UsageError when the list is full.
  void add(const IpNetwork& network);

  /// True when a block holds address.
  bool contains(const IpAddress& address) const noexcept;

  /// True when the list has no entry.
  bool empty() const noexcept { return networks_.empty(); }

  /// The blocks in the order they were added.
  const std::vector<IpNetwork>& networks() const noexcept { return networks_; }

 private:
  void add_entry(std::string_view entry, std::string_view where);

  std::vector<IpNetwork> networks_;
};

/// Who may connect: ncat's rule. With an allow list, only allowed addresses may (allow wins over deny, so
/// the deny list then changes nothing); with only a deny list, everyone but the denied may.
struct AccessPolicy {
  AccessList allow;  ///< --allow, --allow-file
  AccessList deny;   ///< --deny, --deny-file

  /// True when a client at address may connect.
  bool permits(const IpAddress& address) const noexcept;

  /// True when the policy lets everyone in (no list at all).
  bool open() const noexcept { return allow.empty() && deny.empty(); }
};

}  // namespace dschat
