#include "modes/async/handshake_turns.hpp"

#include <asio/execution/context.hpp>
#include <asio/post.hpp>
#include <asio/query.hpp>

#include "modes/async/asio_compat.hpp"

namespace dschat::async {

Awaitable<HandshakeTurns::Turn> HandshakeTurns::take() {
  auto executor = co_await asio::this_coro::executor;
  if (!busy_ && waiting_.empty() && spent_ < budget) {
    busy_ = true;
    co_return Turn(*this, executor);
  }
  Timer wake(executor, Timer::time_point::max());
  const auto me = waiting_.insert(waiting_.end(), Waiter{&wake, false});
  // Leaves the queue if the session's coroutine is destroyed while it waits; gives the turn back if it was
  // handed one it never took up.
  struct Leave {
    HandshakeTurns& turns;
    std::list<Waiter>::iterator me;
    Executor executor;
    bool taken = false;
    ~Leave() {
      if (taken) return;
      const bool granted = me->granted;
      turns.waiting_.erase(me);
      if (granted) turns.release(executor, Clock::now());
    }
  } leave{*this, me, executor};
  while (!me->granted)
    co_await wake.async_wait(use_tuple);  // cancelled by hand_over()
  leave.taken = true;
  waiting_.erase(me);
  co_return Turn(*this, executor);
}

void HandshakeTurns::release(const Executor& executor, Clock::time_point start) {
  busy_ = false;
  spent_ += Clock::now() - start;
  if (asio::query(executor, asio::execution::context).stopped()) return;  // nobody runs handlers any more
  if (!reset_posted_) {
    // Behind the operations that are ready now, and behind the loop's next look at its sockets.
    reset_posted_ = true;
    asio::post(executor, [this] { reset(); });
  }
  if (spent_ < budget) hand_over();
}

void HandshakeTurns::reset() {
  reset_posted_ = false;
  spent_ = {};
  if (!busy_) hand_over();
}

void HandshakeTurns::hand_over() {
  for (Waiter& waiter : waiting_) {
    if (waiter.granted) continue;
    waiter.granted = true;
    busy_ = true;  // the turn passes to it
    waiter.wake->cancel();
    return;
  }
}

}  // namespace dschat::async
