#pragma once

#include <span>
#include <string_view>

#include "core/http_route.hpp"

namespace dschat {

/// The chat page, web/index.html: an HTML document that loads /style.css and /app.js. Inline scripts
/// would break its Content-Security-Policy (default-src 'self'), so the three files are served apart.
std::string_view web_page() noexcept;

/// The page's script, web/app.js.
std::string_view web_script() noexcept;

/// The page's style sheet, web/style.css.
std::string_view web_style() noexcept;

/// The page's files by path for route_http_request: "/", "/app.js" and "/style.css".
std::span<const WebFile> web_files() noexcept;

}  // namespace dschat
