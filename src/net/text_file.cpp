#include "net/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.hpp"

namespace dschat {

std::string read_text_file(const std::string& path, std::string_view flag) {
  const auto fail = [&](const char* reason) {
    throw Error("cannot read " + std::string(flag) + " " + path + ": " + reason);
  };
  // A directory opens as a stream that reads as empty: it must not pass as an empty list.
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) fail(std::strerror(EISDIR));
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(std::strerror(errno));
  return std::move(text).str();
}

}  // namespace dschat
