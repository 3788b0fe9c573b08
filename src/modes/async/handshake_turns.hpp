#pragma once

#include <chrono>
#include <list>
#include <utility>

#include "modes/async/io_types.hpp"

namespace dschat::async {

/// TLS handshake steps, a bounded amount of them per pass of the event loop. The server's first step of a
/// TLS handshake (key exchange and signature, about half a millisecond of CPU) is the costliest thing a
/// connection asks of the loop; when a flood makes many of them ready at once, running them back to back
/// would make every chat line wait for all of them. A session takes a Turn before each handshake step (a
/// read that may feed the engine) and gives it back after. Steps run at once while those of the current
/// pass have used less than the budget (1 ms); past it, the others wait in arrival order until the loop
/// has run what else was ready (a posted reset), so a chat line waits for about one budget, not for the
/// whole flood (docs/robustness.md, TLS).
///
/// All on the server's one thread; the server owns it and declares it before its io_context, which it
/// must outlive (destroying the io_context destroys waiting sessions, which then leave the queue).
class HandshakeTurns {
 public:
  using Clock = std::chrono::steady_clock;
  class Turn;

  /// Handshake CPU time allowed per pass of the loop.
  static constexpr Clock::duration budget = std::chrono::milliseconds(1);

  /// Waits for this session's turn: at once while the pass's budget lasts and nobody waits, else in
  /// arrival order.
  Awaitable<Turn> take();

  /// Sessions waiting for a turn.
  std::size_t waiting() const noexcept { return waiting_.size(); }

 private:
  struct Waiter {
    Timer* wake = nullptr;  // cancelled when the turn is this waiter's
    bool granted = false;
  };

  /// A step that began at start is over.
  void release(const Executor& executor, Clock::time_point start);
  /// Gives the turn to the first waiter, or frees it.
  void hand_over();
  /// A new pass: the budget is whole again.
  void reset();

  bool busy_ = false;          // a turn is held, or handed to a waiter that has not taken it up yet
  bool reset_posted_ = false;  // a reset waits behind the operations that were ready
  Clock::duration spent_{};    // by the steps since the last reset
  std::list<Waiter> waiting_;
};

/// The right to run one handshake step; given back when destroyed.
class HandshakeTurns::Turn {
 public:
  Turn(HandshakeTurns& turns, Executor executor)
      : turns_(&turns), executor_(std::move(executor)), start_(Clock::now()) {}
  Turn(Turn&& other) noexcept
      : turns_(std::exchange(other.turns_, nullptr)), executor_(other.executor_), start_(other.start_) {}
  Turn& operator=(Turn&&) = delete;
  ~Turn() {
    if (turns_ != nullptr) turns_->release(executor_, start_);
  }

 private:
  HandshakeTurns* turns_;
  Executor executor_;
  Clock::time_point start_;
};

}  // namespace dschat::async
