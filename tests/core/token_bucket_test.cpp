#include "core/token_bucket.hpp"

#include <doctest/doctest.h>

#include <chrono>

using dschat::TokenBucket;
using namespace std::chrono_literals;

namespace {

const TokenBucket::Clock::time_point t0{std::chrono::seconds(1000)};

}  // namespace

TEST_CASE("TokenBucket::take") {
  SUBCASE("a full burst is free") {
    TokenBucket bucket(100, 200, t0);
    CHECK_FALSE(bucket.unlimited());
    for (int i = 0; i < 200; ++i)
      bucket.take(1, t0);
    CHECK(bucket.wait(t0) == 0ns);
  }

  SUBCASE("past the burst the bucket goes into debt") {
    TokenBucket bucket(100, 200, t0);
    bucket.take(201, t0);
    CHECK(bucket.wait(t0) == 10ms);
    bucket.take(4, t0);
    CHECK(bucket.wait(t0) == 50ms);
  }

  SUBCASE("tokens refill with time, up to the burst") {
    TokenBucket bucket(10, 5, t0);
    bucket.take(5, t0);
    bucket.take(2, t0 + 200ms);  // two tokens came back
    CHECK(bucket.wait(t0 + 200ms) == 0ns);
    bucket.take(6, t0 + 1h);  // an hour refills only the burst of 5
    CHECK(bucket.wait(t0 + 1h) == 100ms);
  }

  SUBCASE("time going backwards takes nothing away") {
    TokenBucket bucket(10, 5, t0);
    bucket.take(5, t0 + 1s);
    bucket.take(1, t0);
    CHECK(bucket.wait(t0 + 1s) == 100ms);
  }
}

TEST_CASE("TokenBucket::wait") {
  TokenBucket bucket(100, 10, t0);
  bucket.take(30, t0);  // 20 tokens in debt: 200 ms

  CHECK(bucket.wait(t0) == 200ms);
  CHECK(bucket.wait(t0 + 50ms) == 150ms);
  CHECK(bucket.wait(t0 + 199ms) == 1ms);
  CHECK(bucket.wait(t0 + 200ms) == 0ns);
  CHECK(bucket.wait(t0 + 10s) == 0ns);
  CHECK(bucket.wait(t0 - 1s) == 200ms);  // an older time point does not count as elapsed

  SUBCASE("waiting exactly the answer always ends the debt") {
    for (double rate : {3.0, 7.0, 33.3, 100.0, 1e6}) {
      CAPTURE(rate);
      TokenBucket b(rate, 1, t0);
      b.take(2.5, t0);
      const auto w = b.wait(t0);
      CHECK(w > 0ns);
      CHECK(b.wait(t0 + w) == 0ns);
    }
  }

  SUBCASE("a huge debt gives a long but finite wait") {
    TokenBucket b(1, 1, t0);
    b.take(1e300, t0);
    CHECK(b.wait(t0) > 24h);
  }
}

TEST_CASE("TokenBucket::unlimited") {
  for (double rate : {0.0, -1.0}) {
    TokenBucket bucket(rate, 0, t0);
    CHECK(bucket.unlimited());
    bucket.take(1e9, t0);
    CHECK(bucket.wait(t0) == 0ns);
  }
}
