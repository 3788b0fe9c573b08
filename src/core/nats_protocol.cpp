#include "core/nats_protocol.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace dschat {

namespace {

constexpr std::string_view crlf = "\r\n";

void append_number(std::string& out, std::uint64_t n) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
  out.append(digits.data(), end);
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7F) {
      out.append("\\u00");
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xF]);
    } else {
      out.push_back(c);  // UTF-8 bytes pass as they are; JSON text is UTF-8
    }
  }
  out.push_back('"');
}

void require_subject(std::string_view subject) {
  if (!is_valid_nats_subject(subject))
    throw std::invalid_argument("invalid NATS subject: '" + std::string(subject) + "'");
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

/// The fields of a control line, split on runs of spaces and TABs.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && is_blank(line[at]))
      ++at;
    const std::size_t start = at;
    while (at < line.size() && !is_blank(line[at]))
      ++at;
    if (at > start) fields.push_back(line.substr(start, at - start));
  }
  return fields;
}

bool equals_ignoring_case(std::string_view a, std::string_view upper) {
  if (a.size() != upper.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = (a[i] >= 'a' && a[i] <= 'z') ? static_cast<char>(a[i] - 'a' + 'A') : a[i];
    if (c != upper[i]) return false;
  }
  return true;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t n = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

bool is_valid_nats_subject(std::string_view subject) noexcept {
  if (subject.empty() || subject.size() > 256) return false;
  if (subject.front() == '.' || subject.back() == '.') return false;
  char previous = 0;
  for (const char c : subject) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return true;
}

void append_nats_connect(std::string& out, const NatsConnectOptions& options) {
  out.append(options.echo ? R"(CONNECT {"verbose":false,"pedantic":false,"echo":true,"name":)"
                          : R"(CONNECT {"verbose":false,"pedantic":false,"echo":false,"name":)");
  append_json_string(out, options.name);
  out.append(R"(,"lang":"c++","version":)");
  append_json_string(out, options.version);
  if (options.user) {
    out.append(R"(,"user":)");
    append_json_string(out, *options.user);
  }
  if (options.pass) {
    out.append(R"(,"pass":)");
    append_json_string(out, *options.pass);
  }
  if (options.auth_token) {
    out.append(R"(,"auth_token":)");
    append_json_string(out, *options.auth_token);
  }
  out.append("}\r\n");
}

void append_nats_pub(std::string& out, std::string_view subject, std::string_view payload) {
  require_subject(subject);
  out.append("PUB ").append(subject).push_back(' ');
  append_number(out, payload.size());
  out.append(crlf).append(payload).append(crlf);
}

void append_nats_sub(std::string& out, std::string_view subject, std::uint64_t sid) {
  require_subject(subject);
  out.append("SUB ").append(subject).push_back(' ');
  append_number(out, sid);
  out.append(crlf);
}

void append_nats_unsub(std::string& out, std::uint64_t sid, std::optional<std::uint64_t> max_msgs) {
  out.append("UNSUB ");
  append_number(out, sid);
  if (max_msgs) {
    out.push_back(' ');
    append_number(out, *max_msgs);
  }
  out.append(crlf);
}

void append_nats_ping(std::string& out) {
  out.append("PING\r\n");
}

void append_nats_pong(std::string& out) {
  out.append("PONG\r\n");
}

bool NatsDecoder::feed(std::string_view chunk, std::vector<NatsEvent>& events) {
  while (!chunk.empty() && !failed()) {
    const std::size_t used = state_ == State::line ? take_line(chunk, events) : take_payload(chunk, events);
    chunk.remove_prefix(used);
  }
  return !failed();
}

std::size_t NatsDecoder::take_line(std::string_view chunk, std::vector<NatsEvent>& events) {
  const void* lf = std::memchr(chunk.data(), '\n', chunk.size());
  const std::size_t head = lf == nullptr ? chunk.size() : static_cast<const char*>(lf) - chunk.data();
  // One byte over the limit may be the CR of the CR LF.
  if (line_.size() + head > nats_max_control_line + 1) {
    fail("control line longer than " + std::to_string(nats_max_control_line) + " bytes");
    return chunk.size();
  }
  line_.append(chunk.substr(0, head));
  if (lf == nullptr) return chunk.size();
  std::string line = std::exchange(line_, std::string{});
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > nats_max_control_line) {
    fail("control line longer than " + std::to_string(nats_max_control_line) + " bytes");
  } else {
    control_line(line, events);
  }
  return head + 1;
}

std::size_t NatsDecoder::take_payload(std::string_view chunk, std::vector<NatsEvent>& events) {
  if (state_ == State::payload) {
    const std::size_t n = std::min(payload_left_, chunk.size());
    msg_.payload.append(chunk.substr(0, n));
    payload_left_ -= n;
    if (payload_left_ == 0) state_ = State::payload_cr;
    return n;
  }
  const char expected = state_ == State::payload_cr ? '\r' : '\n';
  if (chunk.front() != expected) {
    fail("MSG payload not followed by CR LF");
    return chunk.size();
  }
  if (state_ == State::payload_cr) {
    state_ = State::payload_lf;
  } else {
    state_ = State::line;
    NatsEvent event;
    event.kind = NatsEvent::Kind::msg;
    event.msg = std::exchange(msg_, NatsMsg{});
    events.push_back(std::move(event));
  }
  return 1;
}

void NatsDecoder::control_line(std::string_view line, std::vector<NatsEvent>& events) {
  const std::vector<std::string_view> fields = split_fields(line);
  if (fields.empty()) return fail("empty control line");
  const std::string_view verb = fields.front();
  const auto simple = [&](NatsEvent::Kind kind) {
    if (fields.size() != 1) return fail("unexpected arguments after " + std::string(verb));
    NatsEvent event;
    event.kind = kind;
    events.push_back(std::move(event));
  };
  if (equals_ignoring_case(verb, "MSG")) return msg_line(fields);
  if (equals_ignoring_case(verb, "PING")) return simple(NatsEvent::Kind::ping);
  if (equals_ignoring_case(verb, "PONG")) return simple(NatsEvent::Kind::pong);
  if (equals_ignoring_case(verb, "+OK")) return simple(NatsEvent::Kind::ok);
  // INFO and -ERR take the rest of the line, spaces included.
  std::string_view rest = line.substr(static_cast<std::size_t>(verb.data() + verb.size() - line.data()));
  while (!rest.empty() && is_blank(rest.front()))
    rest.remove_prefix(1);
  while (!rest.empty() && is_blank(rest.back()))
    rest.remove_suffix(1);
  NatsEvent event;
  if (equals_ignoring_case(verb, "INFO")) {
    auto info = parse_nats_info(rest);
    if (!info) return fail("malformed INFO: not a JSON object");
    event.kind = NatsEvent::Kind::info;
    event.info = std::move(*info);
  } else if (equals_ignoring_case(verb, "-ERR")) {
    if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'')
      rest = rest.substr(1, rest.size() - 2);
    event.kind = NatsEvent::Kind::err;
    event.text = std::string(rest);
  } else if (equals_ignoring_case(verb, "HMSG")) {
    return fail("HMSG received, but headers were never asked for");
  } else {
    return fail("unknown protocol verb '" + std::string(verb.substr(0, 32)) + "'");
  }
  events.push_back(std::move(event));
}

void NatsDecoder::msg_line(const std::vector<std::string_view>& fields) {
  // MSG <subject> <sid> [reply-to] <#bytes>
  if (fields.size() != 4 && fields.size() != 5) return fail("malformed MSG: expected 3 or 4 arguments");
  const auto sid = parse_number(fields[2]);
  const auto size = parse_number(fields.back());
  if (!sid) return fail("malformed MSG: sid is not a number");
  if (!size) return fail("malformed MSG: byte count is not a number");
  if (*size > max_payload_)
    return fail("MSG payload of " + std::to_string(*size) + " bytes is over the limit of " +
                std::to_string(max_payload_));
  msg_.subject = std::string(fields[1]);
  msg_.sid = *sid;
  msg_.reply_to = fields.size() == 5 ? std::string(fields[3]) : std::string{};
  msg_.payload.clear();
  msg_.payload.reserve(*size);
  payload_left_ = *size;
  state_ = *size == 0 ? State::payload_cr : State::payload;
}

void NatsDecoder::fail(std::string message) {
  error_ = std::move(message);
  line_.clear();
  msg_ = NatsMsg{};
}

}  // namespace dschat
