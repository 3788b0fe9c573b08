#pragma once

// The concrete types of the async server's I/O objects. Everything runs on one io_context, so they name its
// own executor instead of the type-erased asio::any_io_executor: sockets, timers, pending operations and
// coroutine frames all store executors, and the erased one is six times larger. Over the handful each
// connection holds, that was about a fifth of what an idle connection costs (docs/robustness.md §3).

#include <asio/awaitable.hpp>
#include <asio/basic_stream_socket.hpp>
#include <asio/basic_waitable_timer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>

namespace dschat::async {

using Executor = asio::io_context::executor_type;
template <typename T>
using Awaitable = asio::awaitable<T, Executor>;
using Socket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;

}  // namespace dschat::async
