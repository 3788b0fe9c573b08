#include "core/http_route.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <string_view>

#include "core/http_request.hpp"

using dschat::HttpAction;
using dschat::HttpPolicy;
using dschat::HttpRequest;
using dschat::HttpRoute;
using dschat::WebFile;

namespace {

const std::array<WebFile, 3> files{{
    {"/", "text/html; charset=utf-8", "<!doctype html>"},
    {"/app.js", "text/javascript; charset=utf-8", "'use strict';"},
    {"/style.css", "text/css; charset=utf-8", "body{}"},
}};

/// A valid WebSocket handshake from the page served by Host: chat.example:8080.
HttpRequest handshake() {
  HttpRequest request;
  request.method = "GET";
  request.target = request.path = "/ws";
  request.version = "HTTP/1.1";
  request.host = "chat.example:8080";
  request.origin = "http://chat.example:8080";
  request.websocket_key = "dGhlIHNhbXBsZSBub25jZQ==";
  request.websocket_version = "13";
  request.upgrade_websocket = true;
  request.connection_upgrade = true;
  return request;
}

HttpRequest get(std::string_view path) {
  HttpRequest request;
  request.method = "GET";
  request.target = request.path = std::string(path);
  request.version = "HTTP/1.1";
  request.host = "chat.example:8080";
  return request;
}

int status_of(const HttpRequest& request, const HttpPolicy& policy = {}) {
  return dschat::route_http_request(request, policy, files).status;
}

}  // namespace

TEST_CASE("route_http_request serves the page's files and 404 for other paths") {
  for (const WebFile& file : files) {
    const HttpRoute route = dschat::route_http_request(get(file.path), {}, files);
    CHECK(route.action == HttpAction::respond);
    CHECK(route.status == 200);
    CHECK(route.file == &file);
  }
  for (const std::string_view path : {"/index.html", "/app.js/", "/ws/", "/APP.JS", "//", "/favicon.ico"}) {
    CAPTURE(std::string(path));
    const HttpRoute route = dschat::route_http_request(get(path), {}, files);
    CHECK(route.status == 404);
    CHECK(route.file == nullptr);
  }
}

TEST_CASE("route_http_request refuses other methods with 405 and a GET with a body with 400") {
  for (const char* method : {"POST", "HEAD", "PUT", "get", "OPTIONS"}) {
    HttpRequest request = get("/");
    request.method = method;
    CHECK(status_of(request) == 405);
    HttpRequest upgrade = handshake();
    upgrade.method = method;
    CHECK(status_of(upgrade) == 405);
  }
  HttpRequest request = get("/");
  request.has_body = true;
  CHECK(status_of(request) == 400);
}

TEST_CASE("route_http_request upgrades a valid handshake on /ws") {
  const HttpRoute route = dschat::route_http_request(handshake(), {}, files);
  CHECK(route.action == HttpAction::upgrade);
  CHECK(route.status == 101);
  HttpRequest page = handshake();
  page.path = "/";
  CHECK(dschat::route_http_request(page, {}, files).action == HttpAction::respond);
}

TEST_CASE("route_http_request answers 426 to /ws without the upgrade headers or version 13") {
  HttpRequest request = handshake();
  request.upgrade_websocket = false;
  CHECK(status_of(request) == 426);
  request = handshake();
  request.connection_upgrade = false;
  CHECK(status_of(request) == 426);
  for (const char* version : {"8", "12", "14", "13 ", ""}) {
    request = handshake();
    request.websocket_version = version;
    CHECK(status_of(request) == 426);
  }
  request = handshake();
  request.websocket_version.reset();
  CHECK(status_of(request) == 426);
}

TEST_CASE("route_http_request answers 400 to a handshake in HTTP/1.0") {
  HttpRequest request = handshake();
  request.version = "HTTP/1.0";
  CHECK(status_of(request) == 400);
  request.version = "HTTP/1.2";
  CHECK(status_of(request) == 101);
  HttpRequest page = get("/");
  page.version = "HTTP/1.0";
  CHECK(status_of(page) == 200);
}

TEST_CASE("route_http_request answers 400 to a missing or malformed key") {
  HttpRequest request = handshake();
  request.websocket_key.reset();
  CHECK(status_of(request) == 400);
  request.websocket_key = "short==";
  CHECK(status_of(request) == 400);
}

TEST_CASE("route_http_request answers 403 to a handshake without Origin or from another origin") {
  HttpRequest request = handshake();
  request.origin.reset();
  CHECK(status_of(request) == 403);
  for (const char* origin : {"http://evil.example", "http://chat.example", "http://chat.example:8081",
                             "https://chat.example:8080", "null", "", "http://chat.example:8080.evil"}) {
    CAPTURE(origin);
    request.origin = origin;
    CHECK(status_of(request) == 403);
  }
  request.origin = "https://other.example";
  CHECK(status_of(request, HttpPolicy{false, {"https://other.example"}}) == 101);
}

TEST_CASE("origin_allowed takes the page's own origin, in any case, default port or not") {
  const HttpPolicy http{};
  const HttpPolicy https{true, {}};
  CHECK(dschat::origin_allowed("http://chat.example:8080", "chat.example:8080", http));
  CHECK(dschat::origin_allowed("HTTP://Chat.Example:8080", "chat.EXAMPLE:8080", http));
  CHECK(dschat::origin_allowed("http://chat.example", "chat.example:80", http));
  CHECK(dschat::origin_allowed("http://chat.example:80", "chat.example", http));
  CHECK(dschat::origin_allowed("http://[::1]:8080", "[::1]:8080", http));
  CHECK_FALSE(dschat::origin_allowed("https://chat.example:8080", "chat.example:8080", http));
  CHECK_FALSE(dschat::origin_allowed("http://chat.example:443", "chat.example", http));
  CHECK(dschat::origin_allowed("https://chat.example", "chat.example:443", https));
  CHECK_FALSE(dschat::origin_allowed("http://chat.example", "chat.example", https));
  CHECK_FALSE(dschat::origin_allowed("http://chat.example", "chat.example.evil", http));
}

TEST_CASE("origin_allowed takes the origins of the policy's list") {
  const HttpPolicy policy{false, {"https://Other.Example", "null", "http://tool.example:80"}};
  CHECK(dschat::origin_allowed("https://other.example", "h", policy));
  CHECK(dschat::origin_allowed("https://other.example:443", "h", policy));
  CHECK(dschat::origin_allowed("null", "h", policy));
  CHECK(dschat::origin_allowed("http://tool.example", "h", policy));
  CHECK_FALSE(dschat::origin_allowed("http://other.example", "h", policy));
  CHECK_FALSE(dschat::origin_allowed("null", "h", HttpPolicy{}));
}

TEST_CASE("http_response sends a file with its type, length and the safety headers, then closes") {
  const HttpRoute route = dschat::route_http_request(get("/app.js"), {}, files);
  CHECK(dschat::http_response(route, get("/app.js")) ==
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/javascript; charset=utf-8\r\n"
        "Content-Length: 13\r\n"
        "Content-Security-Policy: default-src 'self'\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n"
        "\r\n"
        "'use strict';");
}

TEST_CASE("http_response answers a handshake with 101 and the key's Sec-WebSocket-Accept") {
  const HttpRoute route = dschat::route_http_request(handshake(), {}, files);
  CHECK(dschat::http_response(route, handshake()) ==
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        "\r\n");
}

TEST_CASE("http_response and http_error_response give a short plain-text error") {
  const HttpRoute route = dschat::route_http_request(get("/nope"), {}, files);
  CHECK(dschat::http_response(route, get("/nope")) ==
        "HTTP/1.1 404 Not Found\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 14\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n"
        "\r\n"
        "404 Not Found\n");
  const std::string not_allowed = dschat::http_error_response(405);
  CHECK(not_allowed.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(not_allowed.find("\r\nAllow: GET\r\n") != std::string::npos);
  const std::string upgrade = dschat::http_error_response(426);
  CHECK(upgrade.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
  CHECK(upgrade.find("\r\nUpgrade: websocket\r\n") != std::string::npos);
  CHECK(upgrade.find("\r\nSec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(upgrade.find("\r\nConnection: upgrade, close\r\n") != std::string::npos);
  for (const int status : {400, 403, 431, 505}) {
    const std::string response = dschat::http_error_response(status);
    CAPTURE(response);
    const std::string body = response.substr(response.find("\r\n\r\n") + 4);
    CHECK(body.starts_with(std::to_string(status) + " "));
    CHECK(response.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
    CHECK(response.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(response.find("Allow:") == std::string::npos);
  }
}

TEST_CASE("http_error_response says why after the reason phrase when given a detail") {
  const std::string response = dschat::http_error_response(503, "too many connections from your address");
  const std::string body = "503 Service Unavailable: too many connections from your address\n";
  CHECK(response ==
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: " +
            std::to_string(body.size()) +
            "\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "\r\n" +
            body);
  CHECK(dschat::http_error_response(503).ends_with("\r\n\r\n503 Service Unavailable\n"));
}
