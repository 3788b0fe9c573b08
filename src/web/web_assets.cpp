#include "web/web_assets.hpp"

#include <array>

namespace dschat {

std::span<const WebFile> web_files() noexcept {
  // Built on first use: the bytes come from functions in the generated source.
  static const std::array<WebFile, 3> files{{
      {"/", "text/html; charset=utf-8", web_page()},
      {"/app.js", "text/javascript; charset=utf-8", web_script()},
      {"/style.css", "text/css; charset=utf-8", web_style()},
  }};
  return files;
}

}  // namespace dschat
