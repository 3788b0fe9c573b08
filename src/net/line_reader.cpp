#include "net/line_reader.hpp"

#include <asio/error.hpp>

namespace dschat {

std::optional<ReadLine> LineReader::next(std::error_code& error) {
  error.clear();
  const auto collect = [this](FrameKind kind, std::string_view line) {
    ready_.push_back(ReadLine{kind, std::string(line)});
    return true;
  };
  while (ready_.empty() && !eof_) {
    const std::size_t n = socket_.read_some(asio::buffer(buffer_), error);
    if (error) {
      eof_ = true;
      framer_.finish(collect);
      if (error != asio::error::eof) end_error_ = error;
      error.clear();
      break;
    }
    framer_.feed(std::string_view(buffer_.data(), n), collect);
  }
  if (ready_.empty()) {
    error = end_error_;  // kept until the lines read before it are handed out
    return std::nullopt;
  }
  ReadLine line = std::move(ready_.front());
  ready_.pop_front();
  return line;
}

}  // namespace dschat
