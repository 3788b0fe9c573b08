#pragma once

// The one place that knows which Asio release spells what: Debian 12 ships Asio 1.22, where as_tuple
// and the awaitable operators are still experimental; the wrap's newer Asio has asio::as_tuple.

#include <asio/awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>

#include "modes/async/io_types.hpp"

#if __has_include(<asio/as_tuple.hpp>)
#include <asio/as_tuple.hpp>
#else
#include <asio/experimental/as_tuple.hpp>
#endif

namespace dschat::async {

#if __has_include(<asio/as_tuple.hpp>)
using asio::as_tuple;
#else
using asio::experimental::as_tuple;
#endif

/// Completion token for co_await: the operation's results (error code first) come back as a tuple
/// instead of an exception, so loops end with a break.
inline constexpr auto use_tuple = as_tuple(asio::use_awaitable_t<Executor>{});

}  // namespace dschat::async
