#include "modes/async/relay_link.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/ip/basic_resolver.hpp>
#include <asio/write.hpp>
#include <exception>
#include <random>
#include <utility>

#include "core/relay_envelope.hpp"
#include "modes/async/asio_compat.hpp"

namespace dschat::async {
namespace {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

// DESIGN §7: outgoing envelopes older than this are dropped, not flushed into a conversation that moved on.
constexpr auto max_age = 10s;
// The broker is pinged this often (or every heartbeat, when shorter) and is down after two missed PONGs.
constexpr std::chrono::milliseconds max_ping_period = 1s;
constexpr auto connect_timeout = 2s;
constexpr std::chrono::milliseconds first_backoff = 100ms;
constexpr std::chrono::milliseconds last_backoff = 2s;
// An outage is told after this long, so a reconnect at once (a broker restart) costs the members nothing.
constexpr auto outage_debounce = 1s;
// After a reconnect the others' rosters take a round trip: the restored notice counts them after this.
constexpr auto restored_delay = 500ms;
// A second to publish bye on shutdown; a stalled broker does not hold the server up longer.
constexpr auto bye_budget = 1s;
constexpr std::size_t max_write = 64 * 1024;
constexpr std::size_t read_buffer_size = 64 * 1024;
constexpr auto tick_at_least = 100ms;

constexpr std::string_view lost_link =
    "* lost the link to the other servers — chatting with this server only";

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

RelayConfig relay_config(const RelayOptions& options) {
  std::random_device random;
  const std::uint64_t now = wall_ms();
  return RelayConfig{options.node, make_relay_epoch(now, static_cast<std::uint16_t>(random())), now,
                     options.heartbeat};
}

// A sanitized text cut to what an envelope carries, without splitting a code point.
std::string_view fit(std::string_view text) noexcept {
  if (text.size() <= max_envelope_text) return text;
  std::size_t end = max_envelope_text;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return text.substr(0, end);
}

bool is_line(std::string_view payload) noexcept {
  return payload.starts_with("DSC1 chat ") || payload.starts_with("DSC1 me ");
}

void log_error(const ConnectionLog& log, const std::exception_ptr& error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    log.logger().error("relay: internal error: {}", e.what());
  }
}

}  // namespace

RelayLink::RelayLink(Executor executor, const RelayOptions& options, const ConnectionLog& log, ChatRoom& room)
    : executor_(executor),
      options_(options),
      log_(log),
      room_(room),
      relay_(relay_config(options), Clock::now()),
      subject_("dschat.room." + options.url.room),
      address_(relay_address(options.url)),
      socket_(executor),
      wake_(executor),
      ticker_(executor),
      backoff_(executor),
      pinger_(executor),
      read_buffer_(read_buffer_size),
      ping_period_(std::min(max_ping_period, options.heartbeat)) {}

void RelayLink::start() {
  asio::co_spawn(executor_, connect_loop(), [this](const std::exception_ptr& e) { log_error(log_, e); });
  asio::co_spawn(executor_, tick_loop(), [this](const std::exception_ptr& e) { log_error(log_, e); });
}

void RelayLink::stop(std::string_view reason) {
  if (stopping_) return;
  stopping_ = true;
  ticker_.cancel();
  relay_.bye(reason, Clock::now());
  std::error_code ignored;
  if (!up_) {
    relay_.take_outbox();
    socket_.close(ignored);  // ends a connect or handshake under way
    backoff_.cancel();
    pinger_.cancel();
    return;
  }
  flush_outbox();  // the writer ends the connection once bye is out
  backoff_.expires_after(bye_budget);
  backoff_.async_wait([this](const std::error_code& error) {
    std::error_code ignored_too;
    if (!error) socket_.close(ignored_too);
  });
}

Awaitable<void> RelayLink::connect_loop() {
  std::chrono::milliseconds delay = first_backoff;
  std::minstd_rand jitter{std::random_device{}()};
  while (!stopping_) {
    if (co_await connection()) delay = first_backoff;
    if (stopping_) break;
    // Full jitter over the upper half: servers that lost the same broker do not all come back at once.
    std::uniform_int_distribution<long> pick(delay.count() / 2, delay.count());
    backoff_.expires_after(std::chrono::milliseconds(pick(jitter)));
    co_await backoff_.async_wait(use_tuple);
    delay = std::min(delay * 2, last_backoff);
  }
  backoff_.cancel();
  pinger_.cancel();
}

Awaitable<bool> RelayLink::connection() {
  const auto fail = [this](const std::string& why) {
    // Once per outage, not once per attempt: a broker away for an hour costs the log one line.
    if (failures_++ == 0)
      log_.logger().warn("relay: cannot reach {}: {} — serving locally, retrying", address_, why);
  };
  asio::ip::basic_resolver<asio::ip::tcp, Executor> resolver(executor_);
  const auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(options_.url.host, std::to_string(options_.url.port), use_tuple);
  if (stopping_) co_return false;
  if (resolve_error) {
    fail(resolve_error.message());
    co_return false;
  }
  pinger_.expires_after(connect_timeout);
  auto connected =
      co_await (asio::async_connect(socket_, endpoints, use_tuple) || pinger_.async_wait(use_tuple));
  std::error_code ignored;
  if (stopping_) {
    socket_.close(ignored);
    co_return false;
  }
  if (connected.index() == 1) {
    socket_.close(ignored);
    fail("connection timed out");
    co_return false;
  }
  if (const auto error = std::get<0>(std::get<0>(connected)); error) {
    socket_.close(ignored);
    fail(error.message());
    co_return false;
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);

  decoder_ = NatsDecoder();
  control_.clear();
  NatsConnectOptions connect;
  connect.name = "dschat/" + options_.node;
  connect.user = options_.url.user;
  connect.pass = options_.url.pass;
  connect.auth_token = options_.url.auth_token;
  append_nats_connect(control_, connect);
  append_nats_sub(control_, subject_, 1);
  append_nats_ping(control_);  // its PONG says CONNECT was accepted: the link is up
  pings_out_ = 1;
  handshaking_ = true;
  conn_over_ = false;
  down_reason_ = "the broker closed the connection";
  co_await (read_loop() || write_loop() || ping_loop());
  socket_.close(ignored);
  const bool was_up = up_;
  if (!was_up) fail(down_reason_);
  on_down(down_reason_);
  co_return was_up;
}

Awaitable<void> RelayLink::read_loop() {
  for (;;) {
    const auto [error, size] = co_await socket_.async_read_some(asio::buffer(read_buffer_), use_tuple);
    if (conn_over_) co_return;
    if (error) {
      if (error != asio::error::eof) down_reason_ = error.message();
      break;
    }
    if (!on_bytes(std::string_view(read_buffer_.data(), size))) break;
  }
  conn_over_ = true;
}

Awaitable<void> RelayLink::write_loop() {
  std::string buffer;
  for (;;) {
    buffer = std::move(control_);
    control_.clear();
    if (up_) {
      prune(Clock::now());
      while (!queue_.empty() && buffer.size() < max_write) {
        append_nats_pub(buffer, subject_, queue_.front().payload);
        queued_bytes_ -= queue_.front().payload.size();
        queue_.pop_front();
      }
    }
    if (buffer.empty()) {
      if (stopping_ && up_) {
        down_reason_ = "server shutting down";
        break;  // bye is out
      }
      wake_.expires_at(Timer::time_point::max());
      co_await wake_.async_wait(use_tuple);
      if (conn_over_) co_return;
      continue;
    }
    const auto [error, written] = co_await asio::async_write(socket_, asio::buffer(buffer), use_tuple);
    if (conn_over_) co_return;
    if (error) {
      down_reason_ = error.message();
      break;
    }
  }
  conn_over_ = true;
}

Awaitable<void> RelayLink::ping_loop() {
  for (;;) {
    pinger_.expires_after(ping_period_);
    co_await pinger_.async_wait(use_tuple);
    if (conn_over_) co_return;
    // A stopped broker keeps its TCP connection open: only its silence tells.
    if (pings_out_ >= 2) {
      down_reason_ = handshaking_ ? "no answer to CONNECT" : "no PONG from the broker for two pings";
      break;
    }
    append_nats_ping(control_);
    ++pings_out_;
    wake_writer();
  }
  conn_over_ = true;
}

Awaitable<void> RelayLink::tick_loop() {
  std::vector<RelayEffect> effects;
  while (!stopping_) {
    ticker_.expires_at(std::min(relay_.next_tick(), Clock::now() + tick_at_least));
    co_await ticker_.async_wait(use_tuple);
    if (stopping_) break;
    const auto now = Clock::now();
    relay_.tick(now, effects);
    show(effects);
    flush_outbox();
    outage_notices(now);
    check_conflicts();
  }
}

bool RelayLink::on_bytes(std::string_view bytes) {
  std::vector<NatsEvent> events;
  std::vector<RelayEffect> effects;
  const bool ok = decoder_.feed(bytes, events);
  const auto now = Clock::now();
  for (NatsEvent& event : events) {
    switch (event.kind) {
      case NatsEvent::Kind::msg:
        relay_.receive(event.msg.payload, now, effects);
        break;
      case NatsEvent::Kind::ping:
        append_nats_pong(control_);
        wake_writer();
        break;
      case NatsEvent::Kind::pong:
        pings_out_ = 0;
        if (std::exchange(handshaking_, false)) on_up();
        break;
      case NatsEvent::Kind::err:
        log_.logger().warn("relay: {} says: {}", address_, event.text);
        down_reason_ = "the broker said: " + event.text;
        break;
      case NatsEvent::Kind::info:
      case NatsEvent::Kind::ok:
        break;
    }
  }
  show(effects);
  flush_outbox();  // rosters asked for with sync
  check_conflicts();
  if (!ok) down_reason_ = "protocol error: " + decoder_.error();
  return ok;
}

void RelayLink::on_up() {
  up_ = true;
  ever_up_ = true;
  failures_ = 0;
  log_.logger().info("relay: connected to {} (room {}, node {})", address_, options_.url.room, options_.node);
  const auto now = Clock::now();
  relay_.connected(now);  // publishes our roster and asks for everyone's
  flush_outbox();
  if (std::exchange(outage_told_, false)) {
    restored_pending_ = true;
    restored_due_ = now + restored_delay;
  }
}

void RelayLink::on_down(const std::string& why) {
  handshaking_ = false;
  if (!std::exchange(up_, false)) return;
  if (stopping_) return;
  log_.logger().warn("relay: lost the link to {}: {} — serving locally, reconnecting", address_, why);
  down_since_ = Clock::now();
  // Members told of the outage but not yet of the recovery are still in it.
  if (std::exchange(restored_pending_, false)) outage_told_ = true;
}

void RelayLink::flush_outbox() {
  const auto now = Clock::now();
  for (std::string& payload : relay_.take_outbox()) {
    // A heartbeat is about now: one that waits for the broker says nothing when it gets there.
    if (!up_ && payload.starts_with("DSC1 hb ")) continue;
    queued_bytes_ += payload.size();
    queue_.push_back(Queued{std::move(payload), now});
  }
  prune(now);
  if (!queue_.empty() || !control_.empty()) wake_writer();
}

void RelayLink::prune(Clock::time_point now) {
  while (!queue_.empty() && (queued_bytes_ > options_.buffer || now - queue_.front().at > max_age)) {
    if (is_line(queue_.front().payload)) ++dropped_lines_;
    ++dropped_total_;
    queued_bytes_ -= queue_.front().payload.size();
    queue_.pop_front();
  }
}

void RelayLink::wake_writer() {
  wake_.cancel();
}

void RelayLink::show(std::vector<RelayEffect>& effects) {
  for (const RelayEffect& effect : effects) {
    if (effect.kind == RelayEffect::Kind::bulk_leave || effect.kind == RelayEffect::Kind::bulk_join) {
      log_.logger().info("relay: server {}: {} members {}", effect.node, effect.count,
                         effect.kind == RelayEffect::Kind::bulk_join ? "joined" : "left");
    }
    room_.remote(effect);
  }
  effects.clear();
}

void RelayLink::outage_notices(Clock::time_point now) {
  if (!up_ && ever_up_ && !outage_told_ && now - down_since_ >= outage_debounce) {
    outage_told_ = true;
    room_.relay_notice(lost_link);
  }
  if (restored_pending_ && now >= restored_due_) {
    restored_pending_ = false;
    const RelayWho who = relay_.who();
    const std::size_t servers = relay_.nodes_up().size() + 1;
    room_.relay_notice("* link restored — " + std::to_string(servers) +
                       (servers == 1 ? " server, " : " servers, ") + std::to_string(who.total) + " online");
    if (dropped_lines_ > 0) {
      room_.relay_notice("* " + std::to_string(dropped_lines_) +
                         " lines typed here during the outage did not reach the other servers");
      dropped_lines_ = 0;
    }
  }
}

void RelayLink::check_conflicts() {
  if (relay_.conflicts() == conflicts_logged_) return;
  if (conflicts_logged_ == 0) {
    log_.logger().error(
        "relay: another server in room {} uses node name {}: its envelopes are ignored — give "
        "each server its own --node",
        options_.url.room, options_.node);
  }
  conflicts_logged_ = relay_.conflicts();
}

std::string RelayLink::guest_name(std::uint64_t guest) const {
  return relay_.guest_name(guest);
}

// The room calls these from a member's line: a failure here costs the other servers one event, never the
// member its connection.
template <class Call>
bool RelayLink::guarded(Call&& call) noexcept {
  try {
    call();
    flush_outbox();
    return true;
  } catch (const std::exception& e) {
    log_.logger().error("relay: event not sent: {}", e.what());
    return false;
  }
}

void RelayLink::joined(std::uint64_t guest) {
  guarded([&] { relay_.join(guest, Clock::now()); });
}

void RelayLink::said(std::uint64_t guest, std::string_view text) {
  guarded([&] { relay_.chat(guest, fit(text), Clock::now()); });
}

void RelayLink::acted(std::uint64_t guest, std::string_view text) {
  guarded([&] { relay_.me(guest, fit(text), Clock::now()); });
}

bool RelayLink::claim(std::uint64_t guest, std::string_view name) {
  bool granted = false;
  guarded([&] { granted = relay_.nick(guest, name, Clock::now()); });
  return granted;
}

void RelayLink::left(std::uint64_t guest, std::string_view reason) {
  guarded([&] { relay_.leave(guest, fit(reason), Clock::now()); });
}

RelayWho RelayLink::who() const {
  return relay_.who();
}

std::string RelayLink::holder(std::string_view name) const {
  return relay_.holder(name);
}

}  // namespace dschat::async
