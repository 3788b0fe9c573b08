#include "core/http_request.hpp"

#include <algorithm>

namespace dschat {
namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return lower(x) == lower(y); });
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) noexcept {
  return is_alpha(c) || is_digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar);
}

/// A field value byte (RFC 9110 §5.5): visible ASCII, space, tab or obs-text; no other control.
bool is_value_byte(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte == '\t' || (byte >= 0x20 && byte != 0x7F);
}

/// A Host header byte: reg-name, IPv6 literal and port characters (RFC 3986 §3.2.2).
bool is_host_byte(char c) noexcept {
  return is_alpha(c) || is_digit(c) ||
         std::string_view("-._~:[]%!$&'()*+,;=").find(c) != std::string_view::npos;
}

std::string_view trim_ows(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

bool is_base64_char(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '+' || c == '/';
}

}  // namespace

bool http_list_has(std::string_view text, std::string_view token) noexcept {
  while (true) {
    const std::size_t comma = text.find(',');
    if (iequals(trim_ows(text.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    text.remove_prefix(comma + 1);
  }
}

bool websocket_key_valid(std::string_view key) noexcept {
  // 16 bytes are 22 base64 characters and "==" of padding.
  return key.size() == 24 && key.substr(22) == "==" &&
         std::all_of(key.begin(), key.begin() + 22, is_base64_char);
}

std::size_t HttpRequestParser::feed(std::string_view chunk) {
  std::size_t used = 0;
  while (used < chunk.size() && state_ == HttpParseState::need_more) {
    const char c = chunk[used++];
    if (++head_size_ > max_http_head) {
      fail(431);
    } else if (c == '\n') {
      end_line();
    } else {
      line_.push_back(c);
    }
  }
  return used;
}

void HttpRequestParser::end_line() {
  std::string_view line = line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    if (started_) end_head();  // before the request line, an empty line is skipped (RFC 9112 §2.2)
  } else if (!started_) {
    started_ = true;
    request_line(line);
  } else {
    header_line(line);
  }
  line_.clear();
}

void HttpRequestParser::request_line(std::string_view line) {
  const std::size_t first = line.find(' ');
  const std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos) return fail(400);
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  const bool target_ok =
      !target.empty() && target.front() == '/' &&
      std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  const bool version_ok = version.size() == 8 && version.substr(0, 5) == "HTTP/" && is_digit(version[5]) &&
                          version[6] == '.' && is_digit(version[7]);
  if (!is_token(method) || !target_ok || !version_ok) return fail(400);
  if (version[5] != '1') return fail(505);
  request_.method = method;
  request_.target = target;
  request_.path = target.substr(0, target.find('?'));
  request_.version = version;
}

void HttpRequestParser::header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') return fail(400);  // obs-fold (RFC 9112 §5.2)
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return fail(400);
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), is_value_byte)) return fail(400);

  // A header the endpoint reads once and that a second copy would make ambiguous.
  const auto single = [&](std::optional<std::string>& field) {
    if (field) return fail(400);
    field = std::string(value);
  };
  if (iequals(name, "host")) {
    if (!request_.host.empty() || value.empty() || !std::all_of(value.begin(), value.end(), is_host_byte))
      return fail(400);
    request_.host = value;
  } else if (iequals(name, "origin")) {
    single(request_.origin);
  } else if (iequals(name, "sec-websocket-key")) {
    single(request_.websocket_key);
  } else if (iequals(name, "sec-websocket-version")) {
    single(request_.websocket_version);
  } else if (iequals(name, "upgrade")) {
    request_.upgrade_websocket = request_.upgrade_websocket || http_list_has(value, "websocket");
  } else if (iequals(name, "connection")) {
    request_.connection_upgrade = request_.connection_upgrade || http_list_has(value, "upgrade");
  } else if (iequals(name, "content-length")) {
    if (value.empty() || !std::all_of(value.begin(), value.end(), is_digit)) return fail(400);
    request_.has_body = request_.has_body || value.find_first_not_of('0') != std::string_view::npos;
  } else if (iequals(name, "transfer-encoding")) {
    request_.has_body = true;
  }
}

void HttpRequestParser::end_head() {
  if (request_.host.empty()) return fail(400);  // RFC 9112 §3.2: a request without Host is refused
  state_ = HttpParseState::complete;
}

void HttpRequestParser::fail(int status) noexcept {
  state_ = HttpParseState::error;
  status_ = status;
  line_.clear();
}

}  // namespace dschat
