#include "core/denial_log.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

using dschat::DenialLog;
using namespace std::chrono_literals;

namespace {

const DenialLog::Clock::time_point t0 = DenialLog::Clock::time_point() + 1000s;

}  // namespace

TEST_CASE("DenialLog::denied tells the first denial at once") {
  DenialLog log;
  CHECK(log.denied("127.0.0.2:40000", t0) == "denied 127.0.0.2:40000");
  CHECK_FALSE(log.due());
  CHECK_FALSE(log.flush(t0 + 5s, true));
}

TEST_CASE("DenialLog::flush tells the denials of the second in one line") {
  DenialLog log;
  REQUIRE(log.denied("127.0.0.2:40000", t0));
  for (int i = 1; i <= 37; ++i)
    CHECK_FALSE(log.denied("127.0.0.2:" + std::to_string(40000 + i), t0 + i * 10ms));
  REQUIRE(log.due());
  CHECK(*log.due() == t0 + 1s);

  SUBCASE("not before the second is over") {
    CHECK_FALSE(log.flush(t0 + 999ms));
    CHECK(log.flush(t0 + 1s) == "denied 127.0.0.2:40037 (and 36 more in the last second)");
    CHECK_FALSE(log.due());
    CHECK_FALSE(log.flush(t0 + 2s));
  }

  SUBCASE("at once when forced") {
    CHECK(log.flush(t0 + 500ms, true) == "denied 127.0.0.2:40037 (and 36 more in the last second)");
  }
}

TEST_CASE("DenialLog::flush names a single counted denial alone") {
  DenialLog log;
  REQUIRE(log.denied("[::1]:1", t0));
  CHECK_FALSE(log.denied("[::1]:2", t0 + 100ms));
  CHECK(log.flush(t0 + 1s) == "denied [::1]:2");
}

TEST_CASE("DenialLog never logs two lines within a second") {
  DenialLog log;
  int lines = 0;
  std::optional<DenialLog::Clock::time_point> last_line;
  const auto logged = [&](const std::optional<std::string>& line, DenialLog::Clock::time_point now) {
    if (!line) return;
    if (last_line) CHECK(now - *last_line >= DenialLog::interval);
    last_line = now;
    ++lines;
  };
  // A denial every 100 ms for 10 s, the due lines flushed when due (as the server's timer does).
  for (int i = 0; i < 100; ++i) {
    const auto now = t0 + i * 100ms;
    if (log.due() && *log.due() <= now) logged(log.flush(now), now);
    logged(log.denied("10.0.0.1:" + std::to_string(i), now), now);
  }
  CHECK(lines >= 9);
  CHECK(lines <= 10);
}

TEST_CASE("DenialLog::denied tells a denial at once again after a quiet second") {
  DenialLog log;
  REQUIRE(log.denied("10.0.0.1:1", t0));
  CHECK_FALSE(log.denied("10.0.0.1:2", t0 + 200ms));
  CHECK(log.flush(t0 + 1s) == "denied 10.0.0.1:2");
  CHECK_FALSE(log.denied("10.0.0.1:3", t0 + 1500ms));  // within a second of the last line
  CHECK(log.flush(t0 + 2s) == "denied 10.0.0.1:3");
  CHECK(log.denied("10.0.0.1:4", t0 + 3s) == "denied 10.0.0.1:4");
}
