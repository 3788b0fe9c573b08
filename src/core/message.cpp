#include "core/message.hpp"

namespace dschat {

Message make_message(std::string_view text) {
  // Reserve first so appending the line ending never reallocates: one buffer, sized exactly.
  std::string line;
  line.reserve(text.size() + 1);
  line.append(text);
  line.push_back('\n');
  return std::make_shared<const std::string>(std::move(line));
}

}  // namespace dschat
