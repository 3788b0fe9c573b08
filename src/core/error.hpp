#pragma once

#include <stdexcept>

namespace dschat {

/// A failure that ends the program: main prints "dschat: <what>" and exits 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A bad flag or argument: main prints "dschat: <what>" and exits 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace dschat
