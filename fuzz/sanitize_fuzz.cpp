// libFuzzer target for sanitize() and is_clean() (docs/protocol.md): the input is the text. The output must
// be safe for a terminal, match the reference model byte for byte, and be left alone by a second pass.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "core/sanitize.hpp"
#include "reference.hpp"

using dschat::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string out = dschat::sanitize(text);

  check(dschat::fuzz::is_terminal_safe(out), "sanitize output is not UTF-8 without controls", out);
  if (out != dschat::fuzz::reference_sanitize(text)) {
    dschat::fuzz::fail("sanitize differs from the reference",
                       out + "  expected  " + dschat::fuzz::reference_sanitize(text));
  }
  // A C1 control (2 bytes) becomes "<U+0085>" (8): nothing grows more than that.
  check(out.size() <= 4 * text.size(), "sanitize output more than 4 times the input", out);
  check(dschat::is_clean(text) == (out == text), "is_clean(x) != (sanitize(x) == x)", text);
  check(dschat::is_clean(text) == dschat::fuzz::is_terminal_safe(text), "is_clean differs from the reference",
        text);
  check(dschat::is_clean(out), "sanitize output is not clean", out);
  check(dschat::sanitize(out) == out, "sanitize is not idempotent", out);

  // sanitize_append only appends; a prefix ending in an incomplete sequence must not change how text reads.
  std::string appended = "x\xE2\x82";
  dschat::sanitize_append(appended, text);
  check(appended == "x\xE2\x82" + out, "sanitize_append changed the prefix or differs from sanitize",
        appended);
  return 0;
}
