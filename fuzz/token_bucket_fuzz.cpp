// libFuzzer target for TokenBucket (--rate, docs/protocol.md): the input is a rate, a burst and a
// script of takes and waits at times that move forward and, sometimes, back. The reference model keeps the
// balance exactly, in integer thousandths of a token (whole tokens per second over whole milliseconds), so it
// never rounds: wait() must be zero exactly when the reference balance is not negative, must otherwise be the
// time the debt takes to repay at the rate, and waiting that long must always end the debt.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "core/token_bucket.hpp"
#include "script.hpp"

using dschat::fuzz::check;
using dschat::fuzz::Script;
using Clock = dschat::TokenBucket::Clock;

namespace {

/// The bucket in exact arithmetic: milli-tokens, milliseconds.
struct Model {
  std::int64_t rate;  // tokens per second = milli-tokens per millisecond
  std::int64_t burst_milli;
  std::int64_t milli;
  std::int64_t last_ms;

  void refill(std::int64_t now_ms) {
    if (now_ms <= last_ms) return;
    milli = std::min(burst_milli, milli + rate * (now_ms - last_ms));
    last_ms = now_ms;
  }
  std::int64_t balance_at(std::int64_t now_ms) const {
    return std::min(burst_milli, milli + rate * std::max<std::int64_t>(now_ms - last_ms, 0));
  }
};

std::string describe(std::int64_t balance_milli, Clock::duration wait) {
  return "reference balance " + std::to_string(balance_milli) + " milli-tokens, wait " +
         std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count()) + " ns";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // bounds the debt, so the double balance stays far from rounding
  Script script(data, size);
  const std::int64_t rate = script.next() % 201;  // 0 is unlimited
  const std::int64_t burst = script.next();
  const Clock::time_point base = Clock::time_point{} + std::chrono::hours(1);
  std::int64_t now_ms = 0;

  dschat::TokenBucket bucket(static_cast<double>(rate), static_cast<double>(burst), base);
  Model model{rate, burst * 1000, burst * 1000, 0};
  check(bucket.unlimited() == (rate == 0), "unlimited() is not rate <= 0");

  while (!script.done()) {
    const std::uint8_t op = script.next();
    const std::uint8_t arg = script.next();
    if (op % 8 == 7) {
      now_ms = std::max<std::int64_t>(0, now_ms - arg);  // a time point from another thread, older
    } else {
      now_ms += (op % 2 == 0) ? arg : std::int64_t{arg} * 37;
    }
    const Clock::time_point now = base + std::chrono::milliseconds(now_ms);
    if (op % 4 != 3) {
      const std::int64_t n = (op >> 4) + 1;
      bucket.take(static_cast<double>(n), now);
      if (rate > 0) {
        model.refill(now_ms);
        model.milli -= n * 1000;
      }
    }
    const Clock::duration wait = bucket.wait(now);
    if (rate == 0) {
      check(wait == Clock::duration::zero(), "an unlimited bucket made a client wait");
      continue;
    }
    const std::int64_t balance = model.balance_at(now_ms);
    check(wait >= Clock::duration::zero(), "negative wait", describe(balance, wait));
    if (balance >= 0) {
      check(wait == Clock::duration::zero(), "wait() is not zero with no debt", describe(balance, wait));
      continue;
    }
    // The debt repaid at `rate`: -balance milli-tokens at rate milli-tokens per millisecond.
    const double expected_s = static_cast<double>(-balance) / static_cast<double>(rate) / 1000.0;
    const double got_s = std::chrono::duration<double>(wait).count();
    check(got_s >= expected_s - 1e-6 && got_s <= expected_s * (1 + 1e-6) + 1e-6,
          "wait() is not the time the debt takes to repay", describe(balance, wait));
    // Waiting that long ends the debt. (Not checked for a time point older than the newest the bucket saw:
    // wait() then counts from the newest one, so the debt ends up to that difference later.)
    if (now_ms >= model.last_ms) {
      check(bucket.wait(now + wait) == Clock::duration::zero(), "waiting as long as wait() said left a debt",
            describe(balance, wait));
    }
  }
  return 0;
}
