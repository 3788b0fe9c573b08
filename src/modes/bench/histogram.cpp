#include "modes/bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace dschat::bench {

namespace {

constexpr unsigned sub_bits = 7;                               // 2^7 buckets per power of two
constexpr std::uint64_t exact_limit = 1ULL << (sub_bits + 1);  // below: one bucket per value
constexpr std::uint64_t half = 1ULL << sub_bits;
// 64-bit values have at most 64 - (sub_bits + 1) shifts above the exact range.
constexpr std::size_t bucket_count = exact_limit + (64 - (sub_bits + 1)) * half;

}  // namespace

Histogram::Histogram() : counts_(bucket_count, 0) {}

std::size_t Histogram::bucket_of(std::uint64_t value) noexcept {
  if (value < exact_limit) return static_cast<std::size_t>(value);
  // value = mantissa << shift with mantissa in [half, 2 * half): the bucket is (shift, mantissa).
  const auto shift = static_cast<unsigned>(std::bit_width(value)) - (sub_bits + 1);
  const std::uint64_t mantissa = value >> shift;
  return static_cast<std::size_t>(exact_limit + (shift - 1) * half + (mantissa - half));
}

std::uint64_t Histogram::bucket_top(std::size_t bucket) noexcept {
  if (bucket < exact_limit) return bucket;
  const std::size_t above = bucket - exact_limit;
  const unsigned shift = static_cast<unsigned>(above / half) + 1;
  const std::uint64_t mantissa = half + above % half;
  // (mantissa + 1) << shift overflows only for the very last bucket, whose top is UINT64_MAX.
  if (mantissa + 1 == 2 * half && shift + sub_bits + 1 == 64) return UINT64_MAX;
  return ((mantissa + 1) << shift) - 1;
}

void Histogram::record(std::uint64_t value) noexcept {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

void Histogram::merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

std::uint64_t Histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_top(i), min_, max_);
  }
  return max_;
}

}  // namespace dschat::bench
