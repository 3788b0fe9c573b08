#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace dschat {

/// The terminal side of the chat client: libedit's readline-compatible callback interface driven from
/// the event loop, with history. Incoming text is printed above the line being typed, which is then
/// redrawn intact. One instance at a time (libedit's readline interface is global).
class LineEditor {
 public:
  using OnLine = std::function<void(std::string)>;
  using OnEnd = std::function<void()>;

  /// Puts the terminal (fd 0 and 1) into editing mode and shows prompt. on_line gets each entered line,
  /// on_end is called on Ctrl-D at an empty line; both run on the io thread.
  LineEditor(asio::io_context& io, std::string prompt, OnLine on_line, OnEnd on_end);

  /// close().
  ~LineEditor();

  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  /// Prints one line to stream (stdout or stderr) above the prompt, keeping the partial input.
  void print_above(std::FILE* stream, std::string_view line);

  /// Erases the prompt line, stops watching the keyboard and restores the terminal. Idempotent.
  void close() noexcept;

 private:
  void wait_for_key();
  void on_key();
  /// Moves the cursor to the start of the prompt and erases prompt and input.
  void erase_input() const;
  static void line_handler(char* line);

  asio::posix::stream_descriptor keyboard_;
  std::string prompt_;
  OnLine on_line_;
  OnEnd on_end_;
  int stdin_flags_;  ///< fd 0's file status flags at start, restored by close()
  bool open_ = false;
};

}  // namespace dschat
