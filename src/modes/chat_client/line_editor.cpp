#include "modes/chat_client/line_editor.hpp"

#include <editline/readline.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace dschat {

namespace {

/// What libedit handed to line_handler during one rl_callback_read_char(): a line, or end of input.
struct Entered {
  std::optional<std::string> line;
  bool end = false;
};
Entered g_entered;  // libedit's callback takes no context pointer; one editor exists at a time

/// Columns text takes on the terminal, as libedit draws it (a control character shows as ^X).
std::size_t display_width(std::string_view text) {
  std::mbstate_t state{};
  std::size_t width = 0;
  while (!text.empty()) {
    wchar_t wide = 0;
    const std::size_t used = std::mbrtowc(&wide, text.data(), text.size(), &state);
    if (used == 0 || used > text.size()) {  // NUL, or an invalid or cut sequence: one column per byte
      state = {};
      width += 1;
      text.remove_prefix(1);
      continue;
    }
    text.remove_prefix(used);
    const int columns = ::wcwidth(wide);
    width += columns >= 0 ? static_cast<std::size_t>(columns) : (wide < 0x20 || wide == 0x7f ? 2 : 1);
  }
  return width;
}

/// The chat is UTF-8 whatever the environment says: without a UTF-8 locale libedit would show every
/// byte of "é" as an octal escape.
void use_utf8_locale() {
  const char* name = std::setlocale(LC_CTYPE, "");
  if (name == nullptr || std::strcmp(name, "C") == 0 || std::strcmp(name, "POSIX") == 0) {
    std::setlocale(LC_CTYPE, "C.UTF-8");
  }
}

/// A descriptor of the terminal on fd 0 for the event loop to wait on. Asio makes a descriptor it waits
/// on non-blocking, and O_NONBLOCK belongs to the open file, which fd 0, 1 and 2 and the shell usually
/// share: a terminal opened afresh has a file of its own, so stdout writes and the shell stay blocking.
int open_keyboard_watch() {
  const char* name = ::ttyname(STDIN_FILENO);
  int fd = name == nullptr ? -1 : ::open(name, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);  // then close() restores the flags
  if (fd < 0) throw Error("cannot watch the keyboard: no descriptor for standard input");
  return fd;
}

}  // namespace

LineEditor::LineEditor(asio::io_context& io, std::string prompt, OnLine on_line, OnEnd on_end)
    : keyboard_(io),
      prompt_(std::move(prompt)),
      on_line_(std::move(on_line)),
      on_end_(std::move(on_end)),
      stdin_flags_(::fcntl(STDIN_FILENO, F_GETFL)) {
  keyboard_.assign(open_keyboard_watch());
  use_utf8_locale();
  rl_readline_name = "dschat";  // for "$if dschat" in ~/.editrc
  using_history();
  rl_callback_handler_install(prompt_.c_str(), &LineEditor::line_handler);
  open_ = true;
  wait_for_key();
}

LineEditor::~LineEditor() {
  close();
}

void LineEditor::line_handler(char* line) {
  if (line == nullptr) {
    g_entered.end = true;
    return;
  }
  g_entered.line.emplace(line);
  std::free(line);
}

void LineEditor::wait_for_key() {
  keyboard_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const std::error_code& error) {
    if (!error && open_) on_key();
  });
}

void LineEditor::on_key() {
  g_entered = {};
  rl_callback_read_char();  // reads one key (or key sequence) and calls line_handler at Enter or Ctrl-D
  Entered entered = std::exchange(g_entered, Entered{});
  if (entered.line) {
    if (!entered.line->empty()) add_history(entered.line->c_str());
    // libedit leaves the terminal half set up after handing out a line in callback mode (no prompt, arrow
    // keys echoed raw); installing the handler again resets it.
    rl_callback_handler_remove();
    rl_callback_handler_install(prompt_.c_str(), &LineEditor::line_handler);
    on_line_(std::move(*entered.line));  // may close()
  } else if (entered.end) {
    on_end_();  // may close()
  }
  if (open_) wait_for_key();
}

void LineEditor::erase_input() const {
  int rows = 0;
  int columns = 0;
  rl_get_screen_size(&rows, &columns);
  const std::size_t point =
      rl_line_buffer == nullptr || rl_point < 0 ? 0 : static_cast<std::size_t>(rl_point);
  const std::size_t width = display_width(prompt_) + display_width(std::string_view(rl_line_buffer, point));
  const std::size_t row = columns > 0 ? width / static_cast<std::size_t>(columns) : 0;
  // libedit offers no call to erase the whole edited area (rl_redisplay, rl_replace_line and
  // rl_forced_update_display all redraw relative to where it believes the cursor is), so go to the
  // area's first row and clear to the end of the screen; libedit then draws prompt and input afresh.
  std::string erase = "\r";
  if (row > 0) erase += fmt::format("\033[{}A", row);
  erase += "\033[J";
  std::fputs(erase.c_str(), stdout);
}

void LineEditor::print_above(std::FILE* stream, std::string_view line) {
  if (!open_) {
    std::fwrite(line.data(), 1, line.size(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
    return;
  }
  erase_input();
  std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), stream);
  std::fputc('\n', stream);
  std::fflush(stream);
  rl_forced_update_display();
  std::fflush(stdout);
}

void LineEditor::close() noexcept {
  if (!open_) return;
  open_ = false;
  erase_input();
  std::fflush(stdout);
  rl_callback_handler_remove();  // back to the terminal settings found at start
  std::error_code ignored;
  keyboard_.cancel(ignored);
  keyboard_.close(ignored);
  if (stdin_flags_ >= 0) ::fcntl(STDIN_FILENO, F_SETFL, stdin_flags_);
}

}  // namespace dschat
