#include "modes/bench/histogram.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using dschat::bench::Histogram;

namespace {

/// The value of rank ceil(q * n) in sorted values, the definition Histogram::quantile follows.
std::uint64_t reference_quantile(const std::vector<std::uint64_t>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * n)));
  return sorted[rank - 1];
}

void check_against_reference(std::vector<std::uint64_t> values) {
  Histogram histogram;
  for (const auto v : values)
    histogram.record(v);
  std::sort(values.begin(), values.end());
  CHECK(histogram.count() == values.size());
  CHECK(histogram.min() == values.front());
  CHECK(histogram.max() == values.back());
  for (const double q : {0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    CAPTURE(q);
    const auto expected = static_cast<double>(reference_quantile(values, q));
    const auto got = static_cast<double>(histogram.quantile(q));
    CHECK(got >= expected);  // the bucket's top, never below the true value
    CHECK(got <= expected * (1 + Histogram::relative_precision));
  }
}

}  // namespace

TEST_CASE("Histogram::quantile matches a sorted vector within the stated precision") {
  std::mt19937_64 random(12345);
  SUBCASE("log-uniform latencies from 100 ns to 10 s") {
    std::uniform_real_distribution<double> exponent(2, 10);
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 100000; ++i)
      values.push_back(static_cast<std::uint64_t>(std::pow(10.0, exponent(random))));
    check_against_reference(values);
  }
  SUBCASE("a tight cluster with a long tail") {
    std::normal_distribution<double> cluster(50000, 2000);
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 50000; ++i)
      values.push_back(static_cast<std::uint64_t>(std::max(0.0, cluster(random))));
    for (int i = 0; i < 50; ++i)
      values.push_back(50'000'000 + static_cast<std::uint64_t>(i) * 1'000'000);
    check_against_reference(values);
  }
  SUBCASE("small values are exact") {
    std::vector<std::uint64_t> values;
    for (std::uint64_t v = 0; v < 256; ++v)
      values.push_back(v);
    check_against_reference(values);
    Histogram histogram;
    for (const auto v : values)
      histogram.record(v);
    CHECK(histogram.quantile(0.5) == 127);
  }
  SUBCASE("a single value") {
    check_against_reference({987654321});
  }
}

TEST_CASE("Histogram::bucket_of and bucket_top cover every value once, in order") {
  for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{255}, std::uint64_t{256}, std::uint64_t{257},
                                std::uint64_t{511}, std::uint64_t{512}, std::uint64_t{1} << 40,
                                (std::uint64_t{1} << 40) - 1, UINT64_MAX - 1, UINT64_MAX}) {
    CAPTURE(v);
    const std::size_t bucket = Histogram::bucket_of(v);
    CHECK(Histogram::bucket_top(bucket) >= v);
    if (bucket > 0) CHECK(Histogram::bucket_top(bucket - 1) < v);
    // The bucket's width is within the precision of the values in it.
    const std::uint64_t width =
        Histogram::bucket_top(bucket) - (bucket > 0 ? Histogram::bucket_top(bucket - 1) : 0);
    CHECK(static_cast<double>(width) <=
          std::max(1.0, static_cast<double>(v) * Histogram::relative_precision));
  }
  CHECK(Histogram::bucket_top(Histogram::bucket_of(UINT64_MAX)) == UINT64_MAX);
}

TEST_CASE("Histogram::merge and reset") {
  Histogram a;
  Histogram b;
  a.record(10);
  a.record(1000);
  b.record(5);
  b.record(1'000'000);
  a.merge(b);
  CHECK(a.count() == 4);
  CHECK(a.min() == 5);
  CHECK(a.max() == 1'000'000);
  CHECK(a.mean() == doctest::Approx(250253.75));
  a.reset();
  CHECK(a.count() == 0);
  CHECK(a.quantile(0.99) == 0);
  CHECK(a.min() == 0);
  CHECK(a.max() == 0);
}
