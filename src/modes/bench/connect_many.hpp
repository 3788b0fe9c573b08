#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace dschat::bench {

/// How connect_many opens its connections.
struct ConnectPlan {
  /// Where connection i goes: endpoints[i % endpoints.size()] (round robin over several servers).
  std::vector<asio::ip::tcp::endpoint> endpoints;
  double per_second = 0;        ///< new connections per second, 0 = as fast as possible
  std::size_t parallel = 64;    ///< connects in progress at once
  bool stop_on_failure = true;  ///< give up on the rest after the first failure
  /// Time for all of them: this, plus 10 ms per connection (a chat server tells everyone of each
  /// newcomer, so its work grows with the square of the count), plus count / per_second.
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);
  /// When set, runs on each connection once TCP is open (the TLS handshake): the connection counts as
  /// open when it returns an empty string, else failed for the reason it returns.
  std::function<asio::awaitable<std::string>(std::size_t)> handshake{};
};

/// What connect_many achieved.
struct ConnectOutcome {
  std::size_t opened = 0;
  std::size_t failed = 0;
  std::string first_failure;  ///< "connection refused", "timed out"; empty when none failed
};

/// Connects every socket of sockets (closed sockets of one single-threaded io_context) to the plan's
/// endpoints (round robin) with TCP_NODELAY (and the plan's handshake), calling on_open(index) as soon as one
/// is open; returns when all are settled or the plan's time is up (the rest are closed and count as failed).
asio::awaitable<ConnectOutcome> connect_many(std::vector<asio::ip::tcp::socket>& sockets,
                                             const ConnectPlan& plan,
                                             const std::function<void(std::size_t)>& on_open);

}  // namespace dschat::bench
