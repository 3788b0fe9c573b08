// libFuzzer target for the HTTP request parser and the web router. Input: [step] [bytes...].
//
// 1. The bytes as a raw request head: cut into chunks of step bytes or parsed whole, the outcome (state,
//    status, bytes used, every field) must be the same; a complete head ends with its empty line within
//    8 KiB; the route's response is well formed (status line, Content-Length of its body) and a 101 only
//    goes to a valid key from an allowed origin.
// 2. The bytes as a script of a request (method, path, header values, name case, white space, line ends):
//    written out as text, parsed in chunks, it must give back the fields it was written from.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "core/http_request.hpp"
#include "core/http_route.hpp"
#include "script.hpp"

namespace {

using dschat::HttpParseState;
using dschat::HttpRequest;
using dschat::HttpRequestParser;
using dschat::fuzz::check;
using dschat::fuzz::Script;

struct Parsed {
  HttpParseState state = HttpParseState::need_more;
  int status = 0;
  std::size_t used = 0;
  HttpRequest request;
};

Parsed parse(std::string_view stream, std::size_t step) {
  HttpRequestParser parser;
  Parsed out;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    const std::string_view chunk = stream.substr(at, step);
    const std::size_t used = parser.feed(chunk);
    check(used <= chunk.size(), "feed used more than it was given");
    if (parser.state() == HttpParseState::need_more) check(used == chunk.size(), "feed left bytes unread");
    out.used += used;
  }
  out.state = parser.state();
  out.status = parser.status();
  out.request = parser.request();
  return out;
}

/// The fields as one string, for comparing and for failure messages.
std::string fields(const Parsed& parsed) {
  const HttpRequest& r = parsed.request;
  const auto optional = [](const std::optional<std::string>& value) { return value ? "=" + *value : "-"; };
  return std::to_string(static_cast<int>(parsed.state)) + "|" + std::to_string(parsed.status) + "|" +
         std::to_string(parsed.used) + "|" + r.method + "|" + r.target + "|" + r.path + "|" + r.version +
         "|" + r.host + "|" + optional(r.origin) + "|" + optional(r.websocket_key) + "|" +
         optional(r.websocket_version) + "|" + std::to_string(r.upgrade_websocket) +
         std::to_string(r.connection_upgrade) + std::to_string(r.has_body);
}

const std::array<dschat::WebFile, 2> files{
    {{"/", "text/html", "page"}, {"/app.js", "text/javascript", "js"}}};

void check_response(const Parsed& parsed) {
  const dschat::HttpPolicy policy{false, {"http://allowed.example"}};
  const dschat::HttpRoute route = dschat::route_http_request(parsed.request, policy, files);
  const std::string response = dschat::http_response(route, parsed.request);
  check(response.starts_with("HTTP/1.1 " + std::to_string(route.status) + " "), "wrong status line",
        response);
  const std::size_t end = response.find("\r\n\r\n");
  check(end != std::string::npos, "response without the end of its head", response);
  if (route.action == dschat::HttpAction::upgrade) {
    check(route.status == 101 && end + 4 == response.size(), "101 with a body", response);
    check(parsed.request.websocket_key && dschat::websocket_key_valid(*parsed.request.websocket_key),
          "upgrade with a bad key", response);
    check(
        parsed.request.origin && dschat::origin_allowed(*parsed.request.origin, parsed.request.host, policy),
        "upgrade from an origin not allowed", response);
    return;
  }
  const std::size_t body = response.size() - end - 4;
  check(response.find("\r\nContent-Length: " + std::to_string(body) + "\r\n") < end, "wrong Content-Length",
        response);
  check(response.find("\r\nConnection: close\r\n") < end || route.status == 426, "no Connection: close",
        response);
}

void check_raw(std::string_view stream, std::size_t step) {
  const Parsed whole = parse(stream, stream.size() + 1);
  const Parsed cut = parse(stream, step);
  check(fields(cut) == fields(whole), "outcome depends on how the head is cut",
        fields(cut) + " vs " + fields(whole));
  check(whole.used <= dschat::max_http_head + 1, "read past the limit");
  if (whole.state == HttpParseState::error) {
    check(whole.status == 400 || whole.status == 431 || whole.status == 505, "unexpected error status");
    return;
  }
  if (whole.state != HttpParseState::complete) return;
  const std::string_view head = stream.substr(0, whole.used);
  check(head.ends_with("\n\n") || head.ends_with("\n\r\n"), "complete before the empty line", head);
  check(!whole.request.host.empty(), "complete without Host", head);
  check(whole.request.target.starts_with(whole.request.path), "path is not the start of the target", head);
  check_response(whole);
}

std::string pick(Script& script, std::string_view alphabet, std::size_t max_size) {
  std::string out;
  for (std::size_t size = script.next() % (max_size + 1); size > 0 && !script.done(); --size)
    out.push_back(alphabet[script.next() % alphabet.size()]);
  return out;
}

/// name with each letter's case chosen by the script.
std::string any_case(Script& script, std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z' && script.next() % 2 == 0) c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

void check_written(Script& script, std::size_t step) {
  static constexpr std::array<std::string_view, 4> methods{"GET", "POST", "DELETE", "PATCH"};
  static constexpr std::string_view path_chars = "abz09-._~!$&'()*+,;=:@/%";
  static constexpr std::string_view value_chars = "abcXYZ019 +/=:.,;-_\t\x80\xff";
  static constexpr std::string_view host_chars = "abc019-.:[]";
  const std::string_view method = methods[script.next() % methods.size()];
  const std::string path = "/" + pick(script, path_chars, 12);
  const std::string query = script.next() % 2 == 0 ? "" : "?" + pick(script, path_chars, 8);
  const std::string host = "h" + pick(script, host_chars, 10);
  const std::string key = "k" + pick(script, value_chars, 30) + "k";
  const std::string origin = "o" + pick(script, value_chars, 30) + "o";
  const bool crlf = script.next() % 2 == 0;
  const std::string ows = std::string(script.next() % 3, ' ') + std::string(script.next() % 2, '\t');
  const std::string eol = crlf ? "\r\n" : "\n";

  std::string text = std::string(method) + " " + path + query + " HTTP/1.1" + eol;
  const auto header = [&](std::string_view name, std::string_view value) {
    text.append(any_case(script, name)).append(":").append(ows).append(value).append(ows).append(eol);
  };
  header("host", host);
  header("x-ignored", pick(script, value_chars, 20) + "x");
  header("connection", "keep-alive," + ows + "upgrade");
  header("upgrade", "websocket");
  header("sec-websocket-key", key);
  header("sec-websocket-version", "13");
  header("origin", origin);
  text.append(eol);

  const Parsed parsed = parse(text, step);
  const HttpRequest& r = parsed.request;
  check(parsed.state == HttpParseState::complete && parsed.used == text.size(),
        "written request not complete", text);
  check(r.method == method && r.target == path + query && r.path == path && r.version == "HTTP/1.1",
        "request line changed", text);
  check(r.host == host && r.websocket_key == key && r.origin == origin && r.websocket_version == "13",
        "header value changed", text);
  check(r.upgrade_websocket && r.connection_upgrade && !r.has_body, "header flags wrong", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 32;
  check_raw(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), step);
  Script script(data + 1, size - 1);
  check_written(script, step);
  return 0;
}
