#include "core/http_route.hpp"

#include <algorithm>

#include "core/websocket.hpp"

namespace dschat {
namespace {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

/// origin in the form compared: lower case, without the default port of its scheme.
std::string comparable_origin(std::string_view origin) {
  std::string out(origin);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  const auto strip = [&](std::string_view scheme, std::string_view port) {
    if (out.starts_with(scheme) && out.ends_with(port) && out.size() > scheme.size() + port.size())
      out.resize(out.size() - port.size());
  };
  strip("http://", ":80");
  strip("https://", ":443");
  return out;
}

std::string status_line(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) + "\r\n";
}

HttpRoute websocket_route(const HttpRequest& request, const HttpPolicy& policy) {
  HttpRoute route;
  if (request.version < "HTTP/1.1") {
    route.status = 400;  // RFC 6455 §4.1: the handshake is an HTTP/1.1 request
  } else if (!request.upgrade_websocket || !request.connection_upgrade || request.websocket_version != "13") {
    route.status = 426;
  } else if (!request.websocket_key || !websocket_key_valid(*request.websocket_key)) {
    route.status = 400;
  } else if (!request.origin || !origin_allowed(*request.origin, request.host, policy)) {
    route.status = 403;
  } else {
    route.action = HttpAction::upgrade;
    route.status = 101;
  }
  return route;
}

}  // namespace

HttpRoute route_http_request(const HttpRequest& request, const HttpPolicy& policy,
                             std::span<const WebFile> files) {
  HttpRoute route;
  if (request.method != "GET") {
    route.status = 405;
  } else if (request.has_body) {
    route.status = 400;  // a body would be read as the next request, or as WebSocket frames
  } else if (request.path == websocket_path) {
    route = websocket_route(request, policy);
  } else {
    const auto file = std::find_if(files.begin(), files.end(),
                                   [&](const WebFile& candidate) { return candidate.path == request.path; });
    if (file != files.end()) {
      route.status = 200;
      route.file = &*file;
    }
  }
  return route;
}

bool origin_allowed(std::string_view origin, std::string_view host, const HttpPolicy& policy) {
  const std::string wanted = comparable_origin(origin);
  const std::string own = std::string(policy.tls ? "https://" : "http://").append(host);
  if (wanted == comparable_origin(own)) return true;
  return std::any_of(policy.allowed_origins.begin(), policy.allowed_origins.end(),
                     [&](const std::string& allowed) { return wanted == comparable_origin(allowed); });
}

std::string http_response(const HttpRoute& route, const HttpRequest& request) {
  if (route.action == HttpAction::upgrade) {
    return status_line(101) +
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " +
           ws_accept_key(request.websocket_key.value_or("")) + "\r\n\r\n";
  }
  if (route.status != 200 || route.file == nullptr) return http_error_response(route.status);
  std::string out = status_line(200);
  out.append("Content-Type: ").append(route.file->content_type).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(route.file->body.size())).append("\r\n");
  out.append(
      "Content-Security-Policy: default-src 'self'\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Cache-Control: no-store\r\n"
      "Connection: close\r\n\r\n");
  return out.append(route.file->body);
}

std::string http_error_response(int status, std::string_view detail) {
  std::string body = std::to_string(status) + " " + std::string(reason_phrase(status));
  if (!detail.empty()) body.append(": ").append(detail);
  body += '\n';
  std::string out = status_line(status);
  out.append("Content-Type: text/plain; charset=utf-8\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  if (status == 405) out.append("Allow: GET\r\n");
  // RFC 9110 §7.8: an Upgrade header goes with the "upgrade" connection option.
  if (status == 426) out.append("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
  out.append(
      "X-Content-Type-Options: nosniff\r\n"
      "Cache-Control: no-store\r\n");
  out.append(status == 426 ? "Connection: upgrade, close\r\n\r\n" : "Connection: close\r\n\r\n");
  return out.append(body);
}

}  // namespace dschat
