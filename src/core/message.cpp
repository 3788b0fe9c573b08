#include "core/message.hpp"

#include <algorithm>

namespace dschat {

Message make_message(std::string_view text, std::string_view ending) {
  // Reserve first so appending the line ending never reallocates: one buffer, sized exactly.
  std::string line;
  line.reserve(text.size() + ending.size());
  line.append(text);
  line.append(ending);
  return std::make_shared<const std::string>(std::move(line));
}

Message make_raw_message(std::string_view bytes) {
  return std::make_shared<const std::string>(bytes);
}

const Message& with_crlf(const Message& msg, Message& cache) {
  if (cache) return cache;
  std::string text;
  text.reserve(msg->size() + static_cast<std::size_t>(std::count(msg->begin(), msg->end(), '\n')));
  for (const char c : *msg) {
    if (c == '\n') text.push_back('\r');
    text.push_back(c);
  }
  cache = std::make_shared<const std::string>(std::move(text));
  return cache;
}

}  // namespace dschat
