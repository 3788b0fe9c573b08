#include "modes/threaded/shared_room.hpp"

namespace dschat::threaded {

namespace {

// Passes a client thread makes before it hands the rest to the main thread and goes back to its own
// client: under a steady flood the writing could otherwise never end for it.
constexpr std::size_t max_passes = 8;

}  // namespace

/// A member's place in the room: the peer the room sends to. Its send() runs under the room's lock (the
/// room is only used under it): it queues in the output and lists the seat as waiting for a pass.
class SharedRoom::Seat final : public ChatPeer {
 public:
  Seat(SharedRoom& shared, std::shared_ptr<ChatOutput> output)
      : shared_(shared), output_(std::move(output)) {}

  void send(const Message& msg) override {
    output_->send(msg);
    if (!std::exchange(waiting_, true)) shared_.waiting_.push_back(this);
  }

  SharedRoom& shared_;
  std::shared_ptr<ChatOutput> output_;
  bool waiting_ = false;  // listed in shared_.waiting_
};

SharedRoom::SharedRoom(const ChatRoomOptions& options, std::function<void()> flush_soon)
    : room_(options), flush_soon_(std::move(flush_soon)) {}

SharedRoom::~SharedRoom() = default;

std::vector<SharedRoom::Seated> SharedRoom::join_together(
    std::span<const std::shared_ptr<ChatOutput>> outputs) {
  std::vector<Seated> seated;
  seated.reserve(outputs.size());
  std::unique_lock lock(mutex_);
  {
    const JoinBatch joins(&room_);  // one message per member for all the batch's notices
    for (const auto& output : outputs) {
      auto seat = std::make_unique<Seat>(*this, output);
      const ChatRoom::MemberId id = room_.join(*seat);
      seats_.emplace(id, std::move(seat));
      seated.push_back(Seated{id, std::string(room_.name(id))});
    }
  }
  flush_passes(lock);
  return seated;
}

std::string SharedRoom::leave(ChatRoom::MemberId id, std::string_view reason) {
  const std::scoped_lock lock(mutex_);
  std::string name(room_.name(id));
  room_.leave(id, reason);
  if (const auto it = seats_.find(id); it != seats_.end()) {
    // A pass that took its output holds it by shared_ptr; only the list must forget the seat.
    if (it->second->waiting_) std::erase(waiting_, it->second.get());
    seats_.erase(it);
  }
  schedule_flush();
  return name;
}

void SharedRoom::tick(RoomClock::time_point now) {
  const std::scoped_lock lock(mutex_);
  room_.tick(now);
  schedule_flush();
}

void SharedRoom::broadcast_shutdown() {
  std::unique_lock lock(mutex_);
  room_.broadcast_shutdown();
  flush_passes(lock);
}

void SharedRoom::flush_queued() {
  std::unique_lock lock(mutex_);
  flush_passes(lock);
}

void SharedRoom::flush_deferred() {
  std::unique_lock lock(mutex_);
  flush_scheduled_ = false;
  flush_passes(lock);
}

void SharedRoom::schedule_flush() {
  if (waiting_.empty() || flushing_ || std::exchange(flush_scheduled_, true)) return;
  flush_soon_();
}

void SharedRoom::flush_passes(std::unique_lock<std::mutex>& lock) {
  if (flushing_) return;  // whoever is flushing takes these too before it stops
  flushing_ = true;
  thread_local std::vector<std::shared_ptr<ChatOutput>> pass;
  for (std::size_t passes = 0; !waiting_.empty(); ++passes) {
    if (passes == max_passes) {
      flushing_ = false;
      schedule_flush();
      return;
    }
    for (Seat* seat : waiting_) {
      seat->waiting_ = false;  // lines queued from now on list it again, for the next pass
      pass.push_back(seat->output_);
    }
    waiting_.clear();
    lock.unlock();
    for (const auto& output : pass)
      output->flush();
    pass.clear();  // may drop the last reference to a departed member's output: outside the lock
    lock.lock();
  }
  flushing_ = false;
}

}  // namespace dschat::threaded
