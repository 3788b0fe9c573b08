#pragma once

#include <cstddef>
#include <cstdint>

namespace dschat::fuzz {

/// The fuzzer's input read as a script, one byte at a time; 0 once it is used up.
class Script {
 public:
  Script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ == size_; }
  std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

}  // namespace dschat::fuzz
