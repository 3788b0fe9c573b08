#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dschat::bench {

/// A log-linear histogram of non-negative integers (latencies in ns), HdrHistogram-like: values below
/// 256 are counted exactly, larger ones in 128 buckets per power of two, so any reported value is within
/// relative_precision of the true one. Memory is fixed (~58 KiB) whatever is recorded.
class Histogram {
 public:
  /// Largest relative error of a reported quantile: 1/128 (< 0.8 %).
  static constexpr double relative_precision = 1.0 / 128;

  Histogram();

  /// Counts one value.
  void record(std::uint64_t value) noexcept;

  /// Adds every count of other.
  void merge(const Histogram& other) noexcept;

  /// Forgets every value.
  void reset() noexcept;

  /// The value of rank ceil(q * count) (q in [0, 1], at least rank 1) within relative_precision:
  /// the highest value of its bucket, clamped to [min, max]. 0 when nothing was recorded.
  std::uint64_t quantile(double q) const noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  /// Arithmetic mean of the recorded values (exact up to double rounding); 0 when empty.
  double mean() const noexcept { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

  /// The bucket a value falls in (exposed for tests).
  static std::size_t bucket_of(std::uint64_t value) noexcept;

  /// The highest value counted in a bucket (exposed for tests).
  static std::uint64_t bucket_top(std::size_t bucket) noexcept;

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace dschat::bench
