// libFuzzer target for TelnetFilter (docs/protocol.md, telnet): the first byte picks how the rest is cut into
// chunks. However it is cut, the data and the answers must be the same; the answers are whole telnet
// commands only; a stream without IAC passes unchanged; the data never grows.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "core/telnet_filter.hpp"

using dschat::fuzz::check;

namespace {

struct Filtered {
  std::string data;
  std::string replies;
};

Filtered filter(std::string_view stream, std::size_t step) {
  dschat::TelnetFilter telnet;
  Filtered out;
  for (std::size_t at = 0; at < stream.size(); at += step)
    out.data.append(telnet.feed(stream.substr(at, step), out.replies));
  return out;
}

/// True when replies is a sequence of IAC WILL/WONT/DO/DONT option commands.
bool whole_commands(std::string_view replies) {
  if (replies.size() % 3 != 0) return false;
  for (std::size_t i = 0; i < replies.size(); i += 3) {
    const auto verb = static_cast<unsigned char>(replies[i + 1]);
    if (replies[i] != '\xFF' || verb < 0xFB) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 16;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  const Filtered whole = filter(stream, stream.size() + 1);
  const Filtered cut = filter(stream, step);
  check(cut.data == whole.data, "data depends on how the stream is cut", cut.data);
  check(cut.replies == whole.replies, "answers depend on how the stream is cut", cut.replies);
  check(whole_commands(whole.replies), "answers are not whole option commands", whole.replies);
  check(whole.data.size() <= stream.size(), "data longer than the stream", whole.data);
  if (stream.find('\xFF') == std::string_view::npos) {
    check(whole.data == stream && whole.replies.empty(), "a stream without IAC was changed", whole.data);
  }
  return 0;
}
