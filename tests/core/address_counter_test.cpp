#include "core/address_counter.hpp"

#include <doctest/doctest.h>

#include <string_view>

using dschat::AddressCounter;
using dschat::IpAddress;

namespace {

IpAddress address(std::string_view text) {
  const auto parsed = IpAddress::parse(text);
  REQUIRE_MESSAGE(parsed, text);
  return *parsed;
}

}  // namespace

TEST_CASE("AddressCounter::try_add stops at the limit per address") {
  AddressCounter counter;
  CHECK(counter.try_add(address("127.0.0.2"), 2));
  CHECK(counter.try_add(address("127.0.0.2"), 2));
  CHECK_FALSE(counter.try_add(address("127.0.0.2"), 2));
  CHECK(counter.count(address("127.0.0.2")) == 2);
  CHECK(counter.try_add(address("127.0.0.1"), 2));
  CHECK(counter.count(address("127.0.0.1")) == 1);
  CHECK(counter.count(address("::1")) == 0);
}

TEST_CASE("AddressCounter counts a v4-mapped client as its IPv4 address") {
  AddressCounter counter;
  CHECK(counter.try_add(address("10.0.0.1"), 2));
  CHECK(counter.try_add(address("::ffff:10.0.0.1"), 2));
  CHECK_FALSE(counter.try_add(address("::ffff:10.0.0.1"), 2));
  CHECK_FALSE(counter.try_add(address("10.0.0.1"), 2));
  CHECK(counter.try_add(address("::1"), 2));
}

TEST_CASE("AddressCounter::remove frees a place and forgets an address without connections") {
  AddressCounter counter;
  REQUIRE(counter.try_add(address("127.0.0.2"), 1));
  CHECK_FALSE(counter.try_add(address("127.0.0.2"), 1));
  counter.remove(address("127.0.0.2"));
  CHECK(counter.count(address("127.0.0.2")) == 0);
  CHECK(counter.addresses() == 0);
  CHECK(counter.try_add(address("127.0.0.2"), 1));
  CHECK(counter.addresses() == 1);
  counter.remove(address("::1"));  // never counted: nothing happens
  CHECK(counter.addresses() == 1);
}
