#include "web/web_assets.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace {

/// How many times needle occurs in text.
std::size_t count(std::string_view text, std::string_view needle) {
  std::size_t found = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1))
    ++found;
  return found;
}

/// True when html has an event handler attribute such as onclick= (which the policy would block).
bool has_event_handler(std::string_view html) {
  for (std::size_t at = html.find(" on"); at != std::string_view::npos; at = html.find(" on", at + 1)) {
    std::size_t end = at + 3;
    while (end < html.size() && html[end] >= 'a' && html[end] <= 'z')
      ++end;
    if (end > at + 3 && end < html.size() && html[end] == '=') return true;
  }
  return false;
}

}  // namespace

TEST_CASE("web_files serves the page, its script and its style sheet with their types") {
  const auto files = dschat::web_files();
  REQUIRE(files.size() == 3);
  CHECK(files[0].path == "/");
  CHECK(files[0].content_type == "text/html; charset=utf-8");
  CHECK(files[0].body == dschat::web_page());
  CHECK(files[1].path == "/app.js");
  CHECK(files[1].content_type == "text/javascript; charset=utf-8");
  CHECK(files[1].body == dschat::web_script());
  CHECK(files[2].path == "/style.css");
  CHECK(files[2].content_type == "text/css; charset=utf-8");
  CHECK(files[2].body == dschat::web_style());
}

TEST_CASE("web_page is a whole document that loads its script and style from the server only") {
  const std::string_view page = dschat::web_page();
  CHECK(page.starts_with("<!doctype html>\n"));
  CHECK(page.ends_with("</html>\n"));
  CHECK(page.find("<meta charset=\"utf-8\">") != std::string_view::npos);
  CHECK(page.find("name=\"viewport\"") != std::string_view::npos);
  // Content-Security-Policy default-src 'self': no inline script or style, no other host.
  CHECK(count(page, "<script") == 1);
  CHECK(page.find("<script src=\"/app.js\" defer></script>") != std::string_view::npos);
  CHECK(page.find("<link rel=\"stylesheet\" href=\"/style.css\">") != std::string_view::npos);
  CHECK(page.find("<style") == std::string_view::npos);
  CHECK(page.find(" style=") == std::string_view::npos);
  CHECK_FALSE(has_event_handler(page));
  CHECK(page.find("//") == std::string_view::npos);  // no http://, https:// or //host
}

TEST_CASE("web_script renders text only and talks to /ws on the page's own host") {
  const std::string_view script = dschat::web_script();
  CHECK(script.find("'use strict';") != std::string_view::npos);
  for (const std::string_view html_sink :
       {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
        "setTimeout('", "createContextualFragment"}) {
    CAPTURE(std::string(html_sink));
    CHECK(script.find(html_sink) == std::string_view::npos);
  }
  CHECK(script.find("textContent") != std::string_view::npos);
  CHECK(script.find("location.host + '/ws'") != std::string_view::npos);
  CHECK(script.find("http:") == std::string_view::npos);
  CHECK(script.find("https:'") != std::string_view::npos);  // only to pick wss:// on an https page
}

TEST_CASE("web_style loads nothing from elsewhere") {
  const std::string_view style = dschat::web_style();
  CHECK_FALSE(style.empty());
  CHECK(style.find("url(") == std::string_view::npos);
  CHECK(style.find("@import") == std::string_view::npos);
  CHECK(style.find("@font-face") == std::string_view::npos);
}
