#include "core/access_list.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

using dschat::AccessList;
using dschat::AccessPolicy;
using dschat::IpAddress;
using dschat::IpNetwork;

namespace {

IpAddress address(std::string_view text) {
  const auto parsed = IpAddress::parse(text);
  REQUIRE_MESSAGE(parsed, text);
  return *parsed;
}

IpNetwork network(std::string_view text) {
  std::string problem;
  const auto parsed = IpNetwork::parse(text, problem);
  REQUIRE_MESSAGE(parsed, text, ": ", problem);
  return *parsed;
}

/// The reason parse gives for text, or "" when it parses.
std::string problem_of(std::string_view text) {
  std::string problem;
  const auto parsed = IpNetwork::parse(text, problem);
  CHECK(parsed.has_value() == problem.empty());
  return problem;
}

/// The message of the UsageError that f throws, or "" when it throws none.
template <class F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const dschat::UsageError& error) {
    return error.what();
  }
  return "";
}

/// address with bit `bit` (0 = the top bit of the first byte) flipped.
IpAddress flipped(const IpAddress& address, unsigned bit) {
  IpAddress::Bytes bytes = address.bytes();
  bytes[bit / 8] ^= static_cast<unsigned char>(0x80 >> (bit % 8));
  return IpAddress::v6(bytes);
}

}  // namespace

TEST_CASE("IpAddress::parse") {
  CHECK(address("10.0.0.1").is_v4());
  CHECK(address("10.0.0.1").to_string() == "10.0.0.1");
  CHECK_FALSE(address("::1").is_v4());
  CHECK(address("::1").to_string() == "::1");
  CHECK(address("FE80:0:0:0:0:0:0:1").to_string() == "fe80::1");

  SUBCASE("a v4-mapped address is the IPv4 address") {
    CHECK(address("::ffff:10.0.0.1") == address("10.0.0.1"));
    CHECK(address("::ffff:a00:1") == address("10.0.0.1"));
    CHECK(address("::ffff:10.0.0.1").is_v4());
    CHECK(address("::ffff:10.0.0.1").to_string() == "10.0.0.1");
  }

  SUBCASE("the IPv4-compatible and NAT64 forms stay IPv6") {
    CHECK_FALSE(address("::10.0.0.1").is_v4());
    CHECK_FALSE(address("64:ff9b::10.0.0.1").is_v4());
    CHECK_FALSE(address("::fffe:10.0.0.1").is_v4());
  }

  SUBCASE("anything else is refused") {
    for (const std::string_view bad :
         {"", "10.0.0.300", "10.0.0", "10.0.0.1.2", "010.0.0.1", " 10.0.0.1", "10.0.0.1 ", "[::1]",
          "fe80::1%eth0", "::1::", "1::2::3", "localhost", "10.0.0.1/8", "::ffff:10.0.0.256", "0x0a.0.0.1"}) {
      CHECK_MESSAGE(!IpAddress::parse(bad), bad);
    }
    CHECK_FALSE(IpAddress::parse(std::string_view("10.0.0.1\0", 9)));
    CHECK_FALSE(IpAddress::parse(std::string(100, '1')));
  }
}

TEST_CASE("IpAddress::v4 and IpAddress::v6 take bytes as Asio gives them") {
  CHECK(IpAddress::v4({192, 168, 1, 2}) == address("192.168.1.2"));
  CHECK(IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 168, 1, 2}) == address("192.168.1.2"));
  CHECK(IpAddress::v6({0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) == address("fe80::1"));
}

TEST_CASE("IpAddress ordering keys a map by address") {
  std::map<IpAddress, int> connections;
  ++connections[address("10.0.0.1")];
  ++connections[address("::ffff:10.0.0.1")];
  ++connections[address("::1")];
  ++connections[address("10.0.0.2")];
  CHECK(connections.size() == 3);
  CHECK(connections[address("10.0.0.1")] == 2);
  CHECK(address("10.0.0.1") < address("10.0.0.2"));
  CHECK(address("::1") < address("10.0.0.1"));  // ::1 sorts before ::ffff:0:0
  CHECK(address("10.0.0.1") < address("fe80::1"));
}

TEST_CASE("IpNetwork::parse and IpNetwork::to_string") {
  CHECK(network("10.0.0.0/8").to_string() == "10.0.0.0/8");
  CHECK(network("10.0.0.0/8").prefix_length() == 8);
  CHECK(network("127.0.0.1") == network("127.0.0.1/32"));
  CHECK(network("127.0.0.1/32").to_string() == "127.0.0.1");
  CHECK(network("::1") == network("::1/128"));
  CHECK(network("::1/128").to_string() == "::1");
  CHECK(network("fe80::/10").to_string() == "fe80::/10");
  CHECK(network("0.0.0.0/0").prefix_length() == 0);
  CHECK(network("::/0").to_string() == "::/0");
  CHECK(network("::/0") != network("0.0.0.0/0"));

  SUBCASE("a v4-mapped block is the IPv4 block") {
    CHECK(network("::ffff:10.0.0.1") == network("10.0.0.1"));
    CHECK(network("::ffff:10.0.0.0/104") == network("10.0.0.0/8"));
    CHECK(network("::ffff:10.0.0.0/104").to_string() == "10.0.0.0/8");
    CHECK(network("::ffff:0:0/96") == network("0.0.0.0/0"));
    CHECK(network("::ffff:0:0/96").to_string() == "0.0.0.0/0");
  }

  SUBCASE("host bits are refused with the network as a hint") {
    CHECK(problem_of("10.0.0.1/8") == "host bits set (did you mean 10.0.0.0/8?)");
    CHECK(problem_of("192.168.1.10/24") == "host bits set (did you mean 192.168.1.0/24?)");
    CHECK(problem_of("::1/127") == "host bits set (did you mean ::/127?)");
    CHECK(problem_of("fe80::1/10") == "host bits set (did you mean fe80::/10?)");
    CHECK(problem_of("128.0.0.0/0") == "host bits set (did you mean 0.0.0.0/0?)");
    CHECK(problem_of("::ffff:0:0/95") == "host bits set (did you mean ::fffe:0:0/95?)");
    CHECK(problem_of("10.0.0.0/7") == "");
    CHECK(problem_of("11.0.0.0/7") == "host bits set (did you mean 10.0.0.0/7?)");
  }

  SUBCASE("prefix lengths") {
    CHECK(problem_of("10.0.0.0/32") == "");
    CHECK(problem_of("10.0.0.0/33") == "bad prefix length (at most 32 for IPv4)");
    CHECK(problem_of("::/128") == "");
    CHECK(problem_of("::/129") == "bad prefix length (at most 128)");
    CHECK(problem_of("::ffff:10.0.0.1/128") == "");
    CHECK(problem_of("::ffff:10.0.0.1/104") == "host bits set (did you mean 10.0.0.0/8?)");
    for (const std::string_view bad : {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8",
                                       "10.0.0.0/8 ", "10.0.0.0/8/8", "10.0.0.0/0008", "10.0.0.0/x"}) {
      CHECK_MESSAGE(problem_of(bad) == "bad prefix length (at most 32 for IPv4)", bad);
    }
    CHECK(problem_of("10.0.0.0/08") == "");
    CHECK(problem_of("/8") == "bad address");
    CHECK(problem_of("10.0.0.300/8") == "bad address");
  }
}

TEST_CASE("IpNetwork::contains at the block's edges") {
  const auto inside = [](std::string_view block, std::string_view text) {
    return network(block).contains(address(text));
  };
  CHECK(inside("10.0.0.0/8", "10.0.0.0"));
  CHECK(inside("10.0.0.0/8", "10.255.255.255"));
  CHECK_FALSE(inside("10.0.0.0/8", "9.255.255.255"));
  CHECK_FALSE(inside("10.0.0.0/8", "11.0.0.0"));
  CHECK(inside("192.168.1.128/25", "192.168.1.128"));
  CHECK(inside("192.168.1.128/25", "192.168.1.255"));
  CHECK_FALSE(inside("192.168.1.128/25", "192.168.1.127"));
  CHECK(inside("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(inside("127.0.0.1", "127.0.0.2"));
  CHECK(inside("10.0.0.0/8", "::ffff:10.1.2.3"));

  SUBCASE("0.0.0.0/0 holds every IPv4 address and no IPv6 one") {
    CHECK(inside("0.0.0.0/0", "0.0.0.0"));
    CHECK(inside("0.0.0.0/0", "255.255.255.255"));
    CHECK_FALSE(inside("0.0.0.0/0", "::1"));
    CHECK_FALSE(inside("0.0.0.0/0", "::"));
    CHECK_FALSE(inside("0.0.0.0/0", "::10.0.0.1"));
  }

  SUBCASE("::/0 holds every address") {
    CHECK(inside("::/0", "::1"));
    CHECK(inside("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK(inside("::/0", "10.0.0.1"));
  }

  SUBCASE("IPv6 blocks") {
    CHECK(inside("::1", "::1"));
    CHECK_FALSE(inside("::1", "::"));
    CHECK_FALSE(inside("::1", "::2"));
    CHECK(inside("::/127", "::"));
    CHECK(inside("::/127", "::1"));
    CHECK_FALSE(inside("::/127", "::2"));
    CHECK(inside("fe80::/10", "fe80::1"));
    CHECK(inside("fe80::/10", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK_FALSE(inside("fe80::/10", "fec0::"));
    CHECK_FALSE(inside("fe80::/10", "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    CHECK_FALSE(inside("::1", "127.0.0.1"));
  }

  SUBCASE("a block holds exactly the addresses that agree with its base on every prefix bit") {
    const IpAddress some = address("2001:db8:a5a5:5a5a:ffff:0:1234:8001");
    for (unsigned prefix = 0; prefix <= 128; ++prefix) {
      IpAddress::Bytes base{};
      for (unsigned bit = 0; bit < prefix; ++bit)
        base[bit / 8] |= static_cast<unsigned char>(some.bytes()[bit / 8] & (0x80 >> (bit % 8)));
      const IpNetwork block = network(IpAddress::v6(base).to_string() + "/" + std::to_string(prefix));
      CHECK(block.contains(some));
      for (unsigned bit = 0; bit < 128; ++bit)
        CHECK_MESSAGE(block.contains(flipped(some, bit)) == (bit >= prefix), prefix, " ", bit);
    }
  }
}

TEST_CASE("AccessList::add_list") {
  AccessList list;
  list.add_list("10.0.0.0/8,::1", "--allow");
  list.add_list(" 192.168.0.0/16 , fe80::/10 ", "--allow");
  REQUIRE(list.networks().size() == 4);
  CHECK(list.networks()[3].to_string() == "fe80::/10");
  CHECK(list.contains(address("10.9.9.9")));
  CHECK(list.contains(address("::1")));
  CHECK(list.contains(address("::ffff:192.168.3.4")));
  CHECK_FALSE(list.contains(address("172.16.0.1")));

  SUBCASE("errors name the flag and the entry") {
    AccessList other;
    CHECK(usage_error([&] { other.add_list("10.0.0.300/8", "--allow"); }) ==
          "bad address in --allow: 10.0.0.300/8");
    CHECK(usage_error([&] { other.add_list("::1,10.0.0.1/8", "--deny"); }) ==
          "host bits set in --deny: 10.0.0.1/8 (did you mean 10.0.0.0/8?)");
    CHECK(usage_error([&] { other.add_list("10.0.0.0/40", "--deny"); }) ==
          "bad prefix length in --deny: 10.0.0.0/40 (at most 32 for IPv4)");
    CHECK(usage_error([&] { other.add_list("10.0.0.0/8,", "--allow"); }) ==
          "empty entry in --allow: 10.0.0.0/8,");
    CHECK(usage_error([&] { other.add_list("", "--allow"); }) == "empty entry in --allow: ");
    CHECK(usage_error([&] { other.add_list("a\x1b[2Jb", "--allow"); }) ==
          "bad address in --allow: a\\x1b[2Jb");
    CHECK(usage_error([&] { other.add_list(std::string(100, 'x'), "--allow"); }) ==
          "bad address in --allow: " + std::string(64, 'x') + "...");
  }
}

TEST_CASE("AccessList::add_file_text") {
  AccessList list;
  list.add_file_text(
      "# office\n"
      "10.0.0.0/8\n"
      "\n"
      "   \t\n"
      "  ::1   # loopback\r\n"
      "192.168.1.0/24",
      "--allow-file hosts");
  REQUIRE(list.networks().size() == 3);
  CHECK(list.networks()[1] == network("::1"));
  CHECK(list.networks()[2] == network("192.168.1.0/24"));

  AccessList bom;
  bom.add_file_text(
      "\xEF\xBB\xBF"
      "10.0.0.0/8\r\n",
      "--allow-file windows");
  CHECK(bom.networks() == std::vector<IpNetwork>{network("10.0.0.0/8")});

  AccessList empty;
  empty.add_file_text("", "--deny-file none");
  empty.add_file_text("# nothing\n\n", "--deny-file none");
  CHECK(empty.empty());

  SUBCASE("errors name the file and the line") {
    AccessList other;
    CHECK(usage_error([&] { other.add_file_text("::1\n# x\n10.0.0.300/8\n", "--allow-file hosts"); }) ==
          "bad address in --allow-file hosts line 3: 10.0.0.300/8");
    CHECK(usage_error([&] { other.add_file_text("\r\n\r\n10.0.0.1/8\r\n", "--deny-file d"); }) ==
          "host bits set in --deny-file d line 3: 10.0.0.1/8 (did you mean 10.0.0.0/8?)");
    CHECK(usage_error([&] { other.add_file_text("10.0.0.0/8, ::1\n", "--allow-file hosts"); }) ==
          "bad prefix length in --allow-file hosts line 1: 10.0.0.0/8, ::1 (at most 32 for IPv4)");
  }
}

TEST_CASE("AccessList::add refuses more than max_entries") {
  AccessList list;
  for (std::size_t i = 0; i < AccessList::max_entries; ++i)
    list.add(IpNetwork::host(
        IpAddress::v4({10, 0, static_cast<unsigned char>(i >> 8), static_cast<unsigned char>(i)})));
  CHECK(usage_error([&] { list.add_list("::1", "--allow"); }) ==
        "too many access list entries (at most 65536)");
  CHECK(list.networks().size() == AccessList::max_entries);
}

TEST_CASE("AccessPolicy::permits") {
  SUBCASE("no list lets everyone in") {
    const AccessPolicy policy;
    CHECK(policy.open());
    CHECK(policy.permits(address("203.0.113.9")));
    CHECK(policy.permits(address("::1")));
  }

  SUBCASE("with an allow list, what is not allowed is denied") {
    AccessPolicy policy;
    policy.allow.add_list("10.0.0.0/8,::1", "--allow");
    CHECK_FALSE(policy.open());
    CHECK(policy.permits(address("10.1.1.1")));
    CHECK(policy.permits(address("::ffff:10.1.1.1")));
    CHECK(policy.permits(address("::1")));
    CHECK_FALSE(policy.permits(address("127.0.0.1")));
    CHECK_FALSE(policy.permits(address("2001:db8::1")));
  }

  SUBCASE("with only a deny list, what is not denied is allowed") {
    AccessPolicy policy;
    policy.deny.add_list("203.0.113.0/24", "--deny");
    CHECK(policy.permits(address("203.0.114.1")));
    CHECK(policy.permits(address("::1")));
    CHECK_FALSE(policy.permits(address("203.0.113.7")));
    CHECK_FALSE(policy.permits(address("::ffff:203.0.113.7")));
  }

  SUBCASE("allow wins on conflict") {
    AccessPolicy policy;
    policy.allow.add_list("10.0.0.0/8", "--allow");
    policy.deny.add_list("10.0.0.5,0.0.0.0/0", "--deny");
    CHECK(policy.permits(address("10.0.0.5")));
    CHECK(policy.permits(address("10.200.0.1")));
    CHECK_FALSE(policy.permits(address("192.0.2.1")));
    CHECK_FALSE(policy.permits(address("::2")));
  }
}
