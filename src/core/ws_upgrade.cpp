#include "core/ws_upgrade.hpp"

#include <algorithm>

#include "core/http_request.hpp"
#include "core/websocket.hpp"

namespace dschat {
namespace {

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

/// A header name compared case-insensitively (a name holds no comma, so it is a one-token list).
bool is_name(std::string_view name, std::string_view wanted) noexcept {
  return !name.empty() && name.find(',') == std::string_view::npos && http_list_has(name, wanted);
}

/// Network text fit for an error message: printable ASCII, at most 80 bytes.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 80));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c < 0x20 || c > 0x7E; }, '?');
  return out;
}

}  // namespace

std::string ws_upgrade_request(std::string_view host, std::string_view key, std::string_view path) {
  std::string request = "GET ";
  request.append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\nOrigin: http://").append(host);
  request.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
  request.append("\r\nSec-WebSocket-Version: 13\r\n\r\n");
  return request;
}

WsUpgradeResponse::WsUpgradeResponse(std::string_view key) : expected_accept_(ws_accept_key(key)) {}

std::size_t WsUpgradeResponse::feed(std::string_view chunk) {
  std::size_t used = 0;
  while (used < chunk.size() && state_ == WsUpgradeState::need_more) {
    const char c = chunk[used++];
    if (++head_size_ > max_http_head) {
      refuse("the server's answer has a head over " + std::to_string(max_http_head) + " bytes");
    } else if (c == '\n') {
      end_line();
    } else {
      line_.push_back(c);
    }
  }
  return used;
}

void WsUpgradeResponse::end_line() {
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  const std::string line = std::move(line_);
  line_.clear();
  if (!started_) {
    started_ = true;
    status_line(line);
  } else if (line.empty()) {
    end_head();
  } else {
    header_line(line);
  }
}

void WsUpgradeResponse::status_line(std::string_view line) {
  // "HTTP/1.1 101 Switching Protocols": the code is the second word.
  const std::size_t space = line.find(' ');
  const bool switching = line.substr(0, 5) == "HTTP/" && space != std::string_view::npos &&
                         line.substr(space + 1, 3) == "101" &&
                         (line.size() == space + 4 || line[space + 4] == ' ');
  if (!switching) refuse("the server answered " + printable(line));
}

void WsUpgradeResponse::header_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return refuse("the server's answer has a header line without a colon");
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim(line.substr(colon + 1));
  if (is_name(name, "upgrade")) {
    upgrade_ = upgrade_ || http_list_has(value, "websocket");
  } else if (is_name(name, "connection")) {
    connection_ = connection_ || http_list_has(value, "upgrade");
  } else if (is_name(name, "sec-websocket-accept")) {
    if (accept_) return refuse("the server's answer has two Sec-WebSocket-Accept headers");
    accept_ = std::string(value);
  }
}

void WsUpgradeResponse::end_head() {
  if (!upgrade_ || !connection_)
    return refuse("the server's 101 lacks Upgrade: websocket or Connection: upgrade");
  if (!accept_) return refuse("the server's 101 has no Sec-WebSocket-Accept");
  if (*accept_ != expected_accept_) return refuse("the server's Sec-WebSocket-Accept does not match the key");
  state_ = WsUpgradeState::accepted;
}

void WsUpgradeResponse::refuse(std::string why) {
  state_ = WsUpgradeState::refused;
  error_ = std::move(why);
}

}  // namespace dschat
