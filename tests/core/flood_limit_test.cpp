// FloodLimit: a line costs a line and its bytes; reading waits for whichever budget is in debt.
#include "core/flood_limit.hpp"

#include <doctest/doctest.h>

#include <chrono>

using dschat::FloodBudget;
using dschat::FloodLimit;
using namespace std::chrono_literals;

namespace {
const FloodLimit::Clock::time_point t0 = FloodLimit::Clock::time_point{} + 1h;
}  // namespace

TEST_CASE("FloodLimit: short lines are held by the line budget") {
  FloodLimit limit(FloodBudget{10, 2, 1000, 1000}, t0);
  limit.take_line(5, t0);
  limit.take_line(5, t0);
  CHECK(limit.wait(t0) == 0s);
  limit.take_line(5, t0);
  CHECK(limit.wait(t0) == 100ms);  // one line in debt at 10 lines/s
  CHECK_FALSE(limit.bytes_over(t0));
  CHECK(limit.wait(t0 + 100ms) == 0s);
}

TEST_CASE("FloodLimit: long lines are held by the byte budget") {
  FloodLimit limit(FloodBudget{100, 200, 1000, 2000}, t0);
  limit.take_line(1500, t0);
  CHECK(limit.wait(t0) == 0s);
  limit.take_line(1500, t0);  // 1,000 bytes in debt at 1,000 bytes/s
  CHECK(limit.wait(t0) == 1s);
  CHECK(limit.bytes_over(t0));
  CHECK(limit.wait(t0 + 999ms) > 0s);
  CHECK(limit.wait(t0 + 1s) == 0s);
}

TEST_CASE("FloodLimit: no line rate means no limit at all, bytes included") {
  FloodLimit limit(FloodBudget{0, 0, 10, 10}, t0);
  CHECK(limit.unlimited());
  for (int i = 0; i < 100; ++i)
    limit.take_line(4096, t0);
  CHECK(limit.wait(t0) == 0s);
}

TEST_CASE("FloodLimit: no byte rate counts lines only") {
  FloodLimit limit(FloodBudget{10, 1, 0, 0}, t0);
  limit.take_line(1 << 20, t0);
  CHECK(limit.wait(t0) == 0s);
  CHECK_FALSE(limit.bytes_over(t0));
}
