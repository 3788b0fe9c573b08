#include "core/access_list.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/error.hpp"

namespace dschat {
namespace {

constexpr unsigned v4_offset = 96;            // bits before an IPv4 address inside its v4-mapped form
constexpr std::size_t max_address_text = 45;  // INET6_ADDRSTRLEN without its NUL
constexpr std::size_t max_shown = 64;

// Entries come from files too: an error message shows at most max_shown bytes, control bytes escaped.
std::string shown(std::string_view entry) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : entry.substr(0, max_shown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F) {
      out.push_back(c);
    } else {
      out.append("\\x").push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xF]);
    }
  }
  if (entry.size() > max_shown) out.append("...");
  return out;
}

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// The address with every bit from prefix on cleared.
IpAddress::Bytes masked(const IpAddress::Bytes& bytes, unsigned prefix) {
  IpAddress::Bytes out{};
  const unsigned whole = prefix / 8;
  std::copy_n(bytes.begin(), whole, out.begin());
  if (const unsigned bits = prefix % 8; bits != 0)
    out[whole] = static_cast<unsigned char>(bytes[whole] & (0xFF00 >> bits));
  return out;
}

std::optional<unsigned> parse_prefix(std::string_view text, unsigned max) {
  unsigned value = 0;
  if (text.empty() || text.size() > 3) return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

}  // namespace

IpAddress IpAddress::v4(const std::array<unsigned char, 4>& bytes) noexcept {
  IpAddress address;
  address.bytes_[10] = 0xFF;
  address.bytes_[11] = 0xFF;
  std::copy(bytes.begin(), bytes.end(), address.bytes_.begin() + 12);
  return address;
}

IpAddress IpAddress::v6(const Bytes& bytes) noexcept {
  IpAddress address;
  address.bytes_ = bytes;
  return address;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() > max_address_text) return std::nullopt;
  // inet_pton wants a NUL-terminated string; it accepts neither zones, brackets nor octal-looking parts.
  const std::string copy(text);
  if (copy.find('\0') != std::string::npos) return std::nullopt;
  if (copy.find(':') != std::string::npos) {
    Bytes bytes{};
    if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) return std::nullopt;
    return v6(bytes);
  }
  std::array<unsigned char, 4> bytes{};
  if (inet_pton(AF_INET, copy.c_str(), bytes.data()) != 1) return std::nullopt;
  return v4(bytes);
}

bool IpAddress::is_v4() const noexcept {
  return std::all_of(bytes_.begin(), bytes_.begin() + 10, [](unsigned char b) { return b == 0; }) &&
         bytes_[10] == 0xFF && bytes_[11] == 0xFF;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes_.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), text, sizeof text);
  }
  return text;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view entry, std::string& problem) {
  const auto slash = entry.find('/');
  const std::string_view address_text = entry.substr(0, slash);
  const auto address = IpAddress::parse(address_text);
  if (!address) {
    problem = "bad address";
    return std::nullopt;
  }
  // The prefix counts bits of the address as written: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
  const bool written_v4 = address_text.find(':') == std::string_view::npos;
  const unsigned offset = written_v4 ? v4_offset : 0;
  unsigned prefix = 128;
  if (slash != std::string_view::npos) {
    const auto written = parse_prefix(entry.substr(slash + 1), 128 - offset);
    if (!written) {
      problem = written_v4 ? "bad prefix length (at most 32 for IPv4)" : "bad prefix length (at most 128)";
      return std::nullopt;
    }
    prefix = offset + *written;
  }
  const IpNetwork network(IpAddress::v6(masked(address->bytes(), prefix)), prefix);
  if (network.base_ != *address) {
    problem = "host bits set (did you mean " + network.to_string() + "?)";
    return std::nullopt;
  }
  return network;
}

IpNetwork IpNetwork::host(const IpAddress& address) noexcept {
  return IpNetwork(address, 128);
}

bool IpNetwork::contains(const IpAddress& address) const noexcept {
  return masked(address.bytes(), prefix_) == base_.bytes();
}

unsigned IpNetwork::prefix_length() const noexcept {
  return base_.is_v4() && prefix_ >= v4_offset ? prefix_ - v4_offset : prefix_;
}

std::string IpNetwork::to_string() const {
  if (prefix_ == 128) return base_.to_string();
  return base_.to_string() + "/" + std::to_string(prefix_length());
}

void AccessList::add(const IpNetwork& network) {
  if (networks_.size() >= max_entries)
    throw UsageError("too many access list entries (at most " + std::to_string(max_entries) + ")");
  networks_.push_back(network);
}

void AccessList::add_entry(std::string_view entry, std::string_view where) {
  std::string problem;
  const auto network = IpNetwork::parse(entry, problem);
  if (!network) {
    // "host bits set (did you mean X?)" reads best with its hint after the entry.
    const auto hint = problem.find(" (");
    const std::string what = problem.substr(0, hint);
    const std::string tail = hint == std::string::npos ? "" : problem.substr(hint);
    throw UsageError(what + " in " + std::string(where) + ": " + shown(entry) + tail);
  }
  add(*network);
}

void AccessList::add_list(std::string_view list, std::string_view flag) {
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    const std::string_view entry = trimmed(list.substr(start, comma - start));
    if (entry.empty()) throw UsageError("empty entry in " + std::string(flag) + ": " + shown(list));
    add_entry(entry, flag);
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

void AccessList::add_file_text(std::string_view text, std::string_view origin) {
  // A file saved by a Windows editor may start with a UTF-8 byte order mark.
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  std::size_t start = text.substr(0, bom.size()) == bom ? bom.size() : 0;
  for (std::size_t line = 1; start < text.size(); ++line) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    entry = trimmed(entry.substr(0, entry.find('#')));
    if (!entry.empty()) add_entry(entry, std::string(origin) + " line " + std::to_string(line));
    start = end + 1;
  }
}

bool AccessList::contains(const IpAddress& address) const noexcept {
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const IpNetwork& network) { return network.contains(address); });
}

bool AccessPolicy::permits(const IpAddress& address) const noexcept {
  if (!allow.empty()) return allow.contains(address);
  return !deny.contains(address);
}

}  // namespace dschat
