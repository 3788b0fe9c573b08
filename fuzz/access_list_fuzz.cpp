// libFuzzer target for the access lists (docs/protocol.md, access control): the first byte picks how the
// rest is read (a flag's comma-separated list or a file) and which entries go to the deny list. Parsing
// throws nothing but UsageError; a parsed entry printed and parsed again is the same block; a block holds
// exactly the addresses a naive bit-by-bit comparison says it holds; the policy follows ncat's rule.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "core/access_list.hpp"
#include "core/error.hpp"

using dschat::AccessList;
using dschat::AccessPolicy;
using dschat::IpAddress;
using dschat::IpNetwork;
using dschat::fuzz::check;

namespace {

bool bit(const IpAddress& address, unsigned at) {
  return (address.bytes()[at / 8] >> (7 - at % 8)) & 1;
}

/// The prefix over the 16-byte form, where an IPv4 block's bits start at 96.
unsigned prefix_bits(const IpNetwork& network) {
  return network.base().is_v4() ? 96 + network.prefix_length() : network.prefix_length();
}

bool reference_contains(const IpNetwork& network, const IpAddress& address) {
  for (unsigned at = 0; at < prefix_bits(network); ++at)
    if (bit(network.base(), at) != bit(address, at)) return false;
  return true;
}

bool reference_any(const std::vector<IpNetwork>& networks, const IpAddress& address) {
  for (const IpNetwork& network : networks)
    if (reference_contains(network, address)) return true;
  return false;
}

IpAddress flipped(const IpAddress& address, unsigned at) {
  IpAddress::Bytes bytes = address.bytes();
  bytes[at / 8] ^= static_cast<unsigned char>(0x80 >> (at % 8));
  return IpAddress::v6(bytes);
}

void check_round_trip(const IpNetwork& network) {
  const std::string text = network.to_string();
  std::string problem;
  const auto again = IpNetwork::parse(text, problem);
  check(again.has_value(), "a printed entry does not parse", text + " " + problem);
  check(*again == network, "a printed entry parses as another block", text + " " + again->to_string());
  check(network.prefix_length() <= (network.base().is_v4() ? 32u : 128u), "prefix too long", text);
  check(network.contains(network.base()), "a block does not hold its base", text);
}

/// The probes: each base and each base with one bit flipped, and addresses cut from the input itself.
std::vector<IpAddress> probes(const std::vector<IpNetwork>& networks, std::string_view input) {
  std::vector<IpAddress> out;
  for (const IpNetwork& network : networks) {
    out.push_back(network.base());
    // The bits next to the prefix's end and to the byte and IPv4 boundaries.
    const unsigned prefix = prefix_bits(network);
    for (const unsigned at : {0u, 7u, 8u, 79u, 80u, 95u, 96u, 127u, prefix - 1, prefix, prefix + 1}) {
      if (at < 128) out.push_back(flipped(network.base(), at));
    }
  }
  for (std::size_t at = 0; at + 16 <= input.size() && out.size() < 4096; at += 16) {
    IpAddress::Bytes bytes{};
    for (std::size_t i = 0; i < 16; ++i)
      bytes[i] = static_cast<unsigned char>(input[at + i]);
    out.push_back(IpAddress::v6(bytes));
    out.push_back(IpAddress::v4({bytes[0], bytes[1], bytes[2], bytes[3]}));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  AccessList parsed;
  try {
    if (mode & 1) {
      parsed.add_file_text(text, "--allow-file f");
    } else {
      parsed.add_list(text, "--allow");
    }
  } catch (const dschat::UsageError& error) {
    const std::string_view what = error.what();
    check(what.find("--allow") != std::string_view::npos, "an error does not name its origin", what);
    check(what.find('\n') == std::string_view::npos, "an error is more than one line", what);
  }

  AccessPolicy policy;
  std::vector<IpNetwork> allow;
  std::vector<IpNetwork> deny;
  // The checks below grow with blocks times probes: the first max_checked blocks are enough.
  constexpr std::size_t max_checked = 16;
  std::vector<IpNetwork> checked;
  for (std::size_t i = 0; i < parsed.networks().size() && i < max_checked; ++i) {
    const IpNetwork& network = parsed.networks()[i];
    checked.push_back(network);
    check_round_trip(network);
    // Bits 1-7 of the mode byte pick the deny list for the first seven entries; bit 7 for the eighth too.
    const bool to_deny = (mode >> (1 + std::min<std::size_t>(i, 6))) & 1;
    (to_deny ? policy.deny : policy.allow).add(network);
    (to_deny ? deny : allow).push_back(network);
  }

  for (const IpAddress& address : probes(checked, text)) {
    // Details are formatted only on failure: these checks run thousands of times per input.
    const std::string shown = address.to_string();
    check(IpAddress::parse(shown) == address, "a printed address parses as another", shown);
    for (const IpNetwork& network : checked) {
      if (network.contains(address) != reference_contains(network, address))
        dschat::fuzz::fail("contains disagrees with the bit-by-bit reference",
                           network.to_string() + " " + shown);
    }
    const bool expected = allow.empty() ? !reference_any(deny, address) : reference_any(allow, address);
    check(policy.permits(address) == expected, "permits breaks ncat's rule", shown);
  }
  return 0;
}
