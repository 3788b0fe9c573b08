#include "modes/bench/ws_link.hpp"

#include <fmt/format.h>

#include <random>
#include <utility>

#include "core/sanitize.hpp"

namespace dschat::bench {

namespace {

/// The longest text message a bench client takes, as its line framer does for lines.
constexpr std::size_t max_message = std::size_t{1} << 20;

/// splitmix64: a seed into a well-mixed 64-bit value, so that neighbouring seeds give unrelated keys.
std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::string key_from(std::uint64_t a, std::uint64_t b) {
  std::array<std::uint8_t, 16> nonce{};
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[i] = static_cast<std::uint8_t>(a >> (8 * i));
    nonce[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
  }
  return ws_client_key(nonce);
}

}  // namespace

std::uint64_t random_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

WsLink::WsLink(std::string_view host, std::uint64_t seed)
    : random_(mix(seed)),
      key_(key_from(mix(random_), mix(random_ + 1))),
      request_(ws_upgrade_request(host, key_)),
      upgrade_(key_),
      decoder_(max_message, WsRole::client) {
  random_ = mix(random_ + 2);
}

void WsLink::append_lines(std::string& out, std::string_view lines) {
  while (!lines.empty()) {
    const std::size_t lf = lines.find('\n');
    ws_append_client_frame(out, WsOpcode::text, lines.substr(0, lf), next_mask());
    lines.remove_prefix(lf == std::string_view::npos ? lines.size() : lf + 1);
  }
}

std::string WsLink::take_replies() {
  return std::exchange(replies_, {});
}

bool WsLink::check_upgrade() {
  switch (upgrade_.state()) {
    case WsUpgradeState::need_more:
      return false;
    case WsUpgradeState::accepted:
      state_ = WsLinkState::open;
      return true;
    case WsUpgradeState::refused:
      break;
  }
  end(fmt::format("WebSocket upgrade refused: {}", upgrade_.error()));
  return false;
}

bool WsLink::on_control(const WsEvent& event) {
  switch (event.kind) {
    case WsEventKind::ping:
      ws_append_client_frame(replies_, WsOpcode::pong, event.data, next_mask());
      return true;
    case WsEventKind::close:
      // The answer echoes the code (RFC 6455 §5.5.1), except 1005, which stands for "no code" and is not
      // sent.
      send_close(event.code == ws_close::no_status ? std::nullopt : std::optional(event.code));
      end(event.data.empty()
              ? fmt::format("the server closed the WebSocket ({})", event.code)
              : fmt::format("the server closed the WebSocket ({} {})", event.code, sanitize(event.data)));
      return false;
    case WsEventKind::too_long:
      send_close(ws_close::message_too_big);
      end(fmt::format("the server sent a message over {} bytes", max_message));
      return false;
    case WsEventKind::error:
      send_close(event.code);
      end(fmt::format("the server broke the WebSocket protocol: {}", event.data));
      return false;
    default:
      return true;  // a pong, or text (handled by feed)
  }
}

void WsLink::send_close(std::optional<std::uint16_t> code) {
  std::string payload;
  if (code) payload = {static_cast<char>(*code >> 8), static_cast<char>(*code & 0xFF)};
  ws_append_client_frame(replies_, WsOpcode::close, payload, next_mask());
}

void WsLink::end(std::string why) {
  state_ = WsLinkState::ended;
  error_ = std::move(why);
}

std::array<std::uint8_t, 4> WsLink::next_mask() noexcept {
  const std::uint64_t r = next_random();
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(r >> 8), static_cast<std::uint8_t>(r >> 16),
          static_cast<std::uint8_t>(r >> 24)};
}

std::uint64_t WsLink::next_random() noexcept {
  // xorshift64: a few cycles a frame.
  random_ ^= random_ << 13;
  random_ ^= random_ >> 7;
  random_ ^= random_ << 17;
  return random_;
}

}  // namespace dschat::bench
