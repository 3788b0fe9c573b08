#include "core/websocket.hpp"

#include <algorithm>

namespace dschat {
namespace {

constexpr std::size_t max_control_payload = 125;

bool known_opcode(std::uint8_t opcode) noexcept {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

}  // namespace

bool ws_close_code_valid(std::uint16_t code) noexcept {
  // 1004–1006 and 1015 are reserved and must never be sent; 1012–1014 were registered after RFC 6455.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

bool WsDecoder::Utf8Check::take(std::uint8_t byte) noexcept {
  if (left > 0) {
    if (byte < low || byte > high) return false;
    --left;
    low = 0x80;
    high = 0xBF;
    return true;
  }
  if (byte < 0x80) return true;
  // The first continuation byte's range rules out overlong forms, surrogates and code points past U+10FFFF.
  if (byte >= 0xC2 && byte <= 0xDF) {
    left = 1;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    left = 2;
    if (byte == 0xE0) low = 0xA0;
    if (byte == 0xED) high = 0x9F;
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    left = 3;
    if (byte == 0xF0) low = 0x90;
    if (byte == 0xF4) high = 0x8F;
  } else {
    return false;
  }
  return true;
}

std::size_t WsDecoder::step(std::string_view input, WsEvent& event) {
  event = WsEvent{};
  switch (state_) {
    case State::header:
      return read_header(input, event);
    case State::payload:
      return read_payload(input, event);
    case State::done:
      break;
  }
  return input.size();
}

std::size_t WsDecoder::read_header(std::string_view input, WsEvent& event) {
  std::size_t used = 0;
  while (used < input.size()) {
    head_[head_size_++] = static_cast<std::uint8_t>(input[used++]);
    if (head_size_ == 2 && !check_first_bytes(event)) return used;
    if (head_size_ < 2) continue;
    const std::uint8_t length7 = head_[1] & 0x7F;
    const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    const std::size_t mask_size = role_ == WsRole::server ? 4 : 0;
    if (head_size_ < 2 + extended + mask_size) continue;

    std::uint64_t length = length7;
    if (extended > 0) {
      length = 0;
      for (std::size_t i = 0; i < extended; ++i)
        length = (length << 8) | head_[2 + i];
    }
    if (length >> 63 != 0) {
      fail(event, ws_close::protocol_error, "frame length over 2^63");
      return used;
    }
    std::copy_n(head_.begin() + 2 + extended, mask_size, mask_.begin());  // a client's mask_ stays 0
    head_size_ = 0;
    start_frame(length, event);
    return used;
  }
  return used;
}

bool WsDecoder::check_first_bytes(WsEvent& event) {
  fin_ = (head_[0] & 0x80) != 0;
  opcode_ = head_[0] & 0x0F;
  const std::uint8_t length7 = head_[1] & 0x7F;
  if ((head_[0] & 0x70) != 0) {
    fail(event, ws_close::protocol_error, "reserved bits set");
  } else if (!known_opcode(opcode_)) {
    fail(event, ws_close::protocol_error, "unknown opcode");
  } else if (role_ == WsRole::server && (head_[1] & 0x80) == 0) {
    fail(event, ws_close::protocol_error, "unmasked client frame");
  } else if (role_ == WsRole::client && (head_[1] & 0x80) != 0) {
    fail(event, ws_close::protocol_error, "masked server frame");
  } else if (control() && !fin_) {
    fail(event, ws_close::protocol_error, "fragmented control frame");
  } else if (control() && length7 > max_control_payload) {
    fail(event, ws_close::protocol_error, "control frame over 125 bytes");
  } else if (opcode_ == static_cast<std::uint8_t>(WsOpcode::binary)) {
    fail(event, ws_close::unsupported_data, "binary messages are not supported");
  } else if (opcode_ == static_cast<std::uint8_t>(WsOpcode::continuation) && !in_message_) {
    fail(event, ws_close::protocol_error, "continuation frame without a message");
  } else if (opcode_ == static_cast<std::uint8_t>(WsOpcode::text) && in_message_) {
    fail(event, ws_close::protocol_error, "new message inside a fragmented message");
  }
  return state_ != State::done;
}

void WsDecoder::start_frame(std::uint64_t length, WsEvent& event) {
  remaining_ = length;
  mask_at_ = 0;
  if (control()) {
    control_.clear();
  } else {
    if (opcode_ == static_cast<std::uint8_t>(WsOpcode::text)) {
      message_.clear();
      utf8_ = Utf8Check{};
      skipping_ = false;
    }
    in_message_ = !fin_;
    if (!skipping_ && length > max_message_ - message_.size()) {
      // Reported once, before any of the payload is read; what was gathered so far is dropped.
      skipping_ = true;
      message_.clear();
      message_.shrink_to_fit();
      event.kind = WsEventKind::too_long;
    }
  }
  state_ = State::payload;
  // A frame without payload ends here; too_long never comes with one (length > 0).
  if (remaining_ == 0) end_frame(event);
}

std::size_t WsDecoder::read_payload(std::string_view input, WsEvent& event) {
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
  if (!skipping_ || control()) {
    std::string& out = control() ? control_ : message_;
    const std::size_t from = out.size();
    out.append(input.data(), take);
    for (std::size_t i = from; role_ == WsRole::server && i < out.size(); ++i) {
      out[i] = static_cast<char>(static_cast<std::uint8_t>(out[i]) ^ mask_[mask_at_]);
      mask_at_ = (mask_at_ + 1) & 3;
    }
    if (!control() && !append_text(std::string_view(out).substr(from))) {
      fail(event, ws_close::invalid_payload, "invalid UTF-8 in a text message");
      return take;
    }
  }
  remaining_ -= take;
  if (remaining_ == 0) end_frame(event);
  return take;
}

bool WsDecoder::append_text(std::string_view bytes) {
  for (const char c : bytes) {
    if (!utf8_.take(static_cast<std::uint8_t>(c))) return false;
  }
  return true;
}

void WsDecoder::end_frame(WsEvent& event) {
  state_ = State::header;
  switch (static_cast<WsOpcode>(opcode_)) {
    case WsOpcode::close:
      end_close_frame(event);
      return;
    case WsOpcode::ping:
      event = WsEvent{WsEventKind::ping, control_};
      return;
    case WsOpcode::pong:
      event = WsEvent{WsEventKind::pong, control_};
      return;
    default:
      break;
  }
  if (!fin_) return;
  if (skipping_) {
    skipping_ = false;
  } else if (utf8_.left != 0) {
    fail(event, ws_close::invalid_payload, "text message ends inside a UTF-8 character");
  } else {
    event = WsEvent{WsEventKind::text, message_};
  }
}

void WsDecoder::end_close_frame(WsEvent& event) {
  state_ = State::done;
  if (control_.empty()) {
    event = WsEvent{WsEventKind::close, {}, ws_close::no_status};
    return;
  }
  if (control_.size() == 1) {
    fail(event, ws_close::protocol_error, "close frame of one byte");
    return;
  }
  const auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(control_[0]) << 8) |
                                               static_cast<std::uint8_t>(control_[1]));
  if (!ws_close_code_valid(code)) {
    fail(event, ws_close::protocol_error, "invalid close code");
    return;
  }
  const std::string_view reason = std::string_view(control_).substr(2);
  utf8_ = Utf8Check{};
  if (!append_text(reason) || utf8_.left != 0) {
    fail(event, ws_close::invalid_payload, "invalid UTF-8 in a close reason");
    return;
  }
  event = WsEvent{WsEventKind::close, reason, code};
}

void WsDecoder::fail(WsEvent& event, std::uint16_t code, std::string_view reason) noexcept {
  state_ = State::done;
  event = WsEvent{WsEventKind::error, reason, code};
}

}  // namespace dschat
