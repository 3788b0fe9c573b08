#include "core/telnet_filter.hpp"

#include <cstring>
#include <utility>

namespace dschat {
namespace {

/// Continuation bytes still expected after byte, when left were expected before it.
std::uint8_t utf8_left_after(std::uint8_t left, unsigned char byte) noexcept {
  if (byte >= 0x80 && byte <= 0xBF) return left > 0 ? static_cast<std::uint8_t>(left - 1) : 0;
  if (byte >= 0xC2 && byte <= 0xDF) return 1;
  if (byte >= 0xE0 && byte <= 0xEF) return 2;
  if (byte >= 0xF0 && byte <= 0xF4) return 3;
  return 0;
}

/// The byte whose low 7 bits are the control character telnet turned into command, or 0 for none:
/// ^C (IP), ^O (AO), ^\ (BRK or ABORT), ^Z (SUSP), each with the 8th bit telnet stripped put back.
char replaced_byte(char command) noexcept {
  switch (command) {
    case telnet::ip:
      return '\x83';
    case telnet::ao:
      return '\x8F';
    case telnet::brk:
    case telnet::abort:
      return '\x9C';
    case telnet::susp:
      return '\x9A';
    default:
      return 0;
  }
}

void append_command(std::string& out, char verb, char option) {
  out.push_back(telnet::iac);
  out.push_back(verb);
  out.push_back(option);
}

}  // namespace

std::string_view TelnetFilter::feed(std::string_view chunk, std::string& replies) {
  if (!active_ && state_ == State::data && std::memchr(chunk.data(), 0xFF, chunk.size()) == nullptr) {
    // The common case, every nc client: no telnet at all. Only the UTF-8 state of the tail is kept, for
    // a first IAC that arrives inside a sequence; a sequence is at most 4 bytes long.
    const std::size_t from = chunk.size() > 4 ? chunk.size() - 4 : 0;
    if (from > 0) utf8_left_ = 0;
    for (const char c : chunk.substr(from))
      utf8_left_ = utf8_left_after(utf8_left_, static_cast<unsigned char>(c));
    if (!chunk.empty()) after_cr_ = chunk.back() == '\r';
    return chunk;
  }
  if (!talk_) talk_ = std::make_unique<Negotiation>();
  talk_->clean.clear();
  for (const char c : chunk) {
    switch (state_) {
      case State::data:
        if (c == telnet::iac) {
          state_ = State::iac;
          active_ = true;
        } else {
          data_byte(c);
        }
        break;
      case State::iac:
        command(c, replies);
        break;
      case State::option:
        state_ = State::data;
        option(c, replies);
        break;
      case State::subnegotiation:
        if (c == telnet::iac) state_ = State::subnegotiation_iac;
        break;
      case State::subnegotiation_iac:
        // IAC SE ends it; IAC IAC is a data 0xFF inside it.
        state_ = c == telnet::se ? State::data : State::subnegotiation;
        break;
    }
  }
  return talk_->clean;
}

void TelnetFilter::data_byte(char byte) {
  if (active_ && after_cr_ && byte == '\0') {  // RFC 854: a telnet client sends a bare CR as CR NUL
    after_cr_ = false;
    return;
  }
  after_cr_ = byte == '\r';
  utf8_left_ = utf8_left_after(utf8_left_, static_cast<unsigned char>(byte));
  talk_->clean.push_back(byte);
}

void TelnetFilter::command(char byte, std::string& replies) {
  state_ = State::data;
  switch (byte) {
    case telnet::iac:  // IAC IAC: a data byte 0xFF, never valid UTF-8, left for the sanitizer
      data_byte(byte);
      return;
    case telnet::will:
    case telnet::wont:
    case telnet::do_:
    case telnet::dont:
      verb_ = byte;
      state_ = State::option;
      return;
    case telnet::sb:
      state_ = State::subnegotiation;
      return;
    default:
      break;
  }
  // A command in the middle of a UTF-8 sequence stands for a typed byte telnet took for a control key.
  const char restored = replaced_byte(byte);
  if (restored == 0 || utf8_left_ == 0) return;  // a real ^C or ^O, or a command we ignore
  data_byte(restored);
  // This client mangles 8-bit text: ask it for binary, in which it sends typed bytes as they are. Only
  // such a client is asked: PuTTY in binary mode ends lines with a bare CR, which is no line end here.
  if (!std::exchange(asked_binary_, true)) append_command(replies, telnet::do_, telnet::binary);
}

void TelnetFilter::option(char byte, std::string& replies) {
  // One bit per option for DO, one for WILL.
  const std::size_t index = static_cast<unsigned char>(byte) + (verb_ == telnet::will ? 256U : 0U);
  if (verb_ == telnet::do_) {
    if (byte == telnet::timing_mark) {
      // Every DO TIMING-MARK gets its answer: telnet discards what the server prints until it comes.
      append_command(replies, telnet::will, telnet::timing_mark);
    } else if (!talk_->refused.test(index)) {
      talk_->refused.set(index);
      append_command(replies, telnet::wont, byte);
    }
  } else if (verb_ == telnet::will) {
    if (byte == telnet::binary && asked_binary_) {
      // The answer to our DO BINARY: nothing to say.
    } else if (!talk_->refused.test(index)) {
      talk_->refused.set(index);
      append_command(replies, telnet::dont, byte);
    }
  }
  // WONT and DONT only confirm a state nobody asked us to change: never answered (RFC 854).
}

}  // namespace dschat
