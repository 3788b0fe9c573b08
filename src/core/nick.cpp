#include "core/nick.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>

#include "core/sanitize.hpp"

namespace dschat {
namespace {

// The Unicode work is ICU's: its normalizers and its spoof checker (UTS #39 skeletons and restriction
// levels), not tables of our own.
class Unicode {
 public:
  Unicode() {
    UErrorCode error = U_ZERO_ERROR;
    nfc_ = icu::Normalizer2::getNFCInstance(error);
    nfkc_casefold_ = icu::Normalizer2::getNFKCCasefoldInstance(error);
    checker_ = uspoof_open(&error);
    if (U_SUCCESS(error)) {
      uspoof_setChecks(checker_, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS, &error);
      uspoof_setRestrictionLevel(checker_, USPOOF_MODERATELY_RESTRICTIVE);
    }
    if (U_FAILURE(error)) {
      uspoof_close(checker_);
      throw std::runtime_error(std::string("ICU: ") + u_errorName(error));
    }
  }
  ~Unicode() { uspoof_close(checker_); }
  Unicode(const Unicode&) = delete;
  Unicode& operator=(const Unicode&) = delete;

  // ICU's normalizers and a configured spoof checker are safe to share between threads.
  static const Unicode& get() {
    static const Unicode instance;
    return instance;
  }

  icu::UnicodeString nfc(const icu::UnicodeString& s) const {
    UErrorCode error = U_ZERO_ERROR;
    return nfc_->normalize(s, error);
  }

  icu::UnicodeString nfkc_casefold(const icu::UnicodeString& s) const {
    UErrorCode error = U_ZERO_ERROR;
    return nfkc_casefold_->normalize(s, error);
  }

  // The check result bits (USPOOF_RESTRICTION_LEVEL, …), 0 when the name passes.
  std::int32_t spoof_check(const icu::UnicodeString& s) const {
    UErrorCode error = U_ZERO_ERROR;
    const std::int32_t result = uspoof_check2(checker_, s.getBuffer(), s.length(), nullptr, &error);
    return U_FAILURE(error) ? USPOOF_ALL_CHECKS : result;
  }

  icu::UnicodeString skeleton(const icu::UnicodeString& s) const {
    UErrorCode error = U_ZERO_ERROR;
    icu::UnicodeString out;
    uspoof_getSkeletonUnicodeString(checker_, 0, s, out, &error);
    return out;
  }

 private:
  const icu::Normalizer2* nfc_ = nullptr;
  const icu::Normalizer2* nfkc_casefold_ = nullptr;
  USpoofChecker* checker_ = nullptr;
};

icu::UnicodeString from_utf8(std::string_view s) {
  return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<std::int32_t>(s.size())));
}

std::string to_utf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

bool is_nick_char(UChar32 cp) noexcept {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_' ||
           cp == '-' || cp == '.';
  }
  // Letters, marks, numbers and pictographs; never spaces, punctuation, math or currency signs,
  // controls, formatting, private-use or unassigned code points, nor the invisible ones that are
  // Default_Ignorable (U+034F, U+3164 Hangul filler, U+E0000 tags, U+180E, bidi marks…).
  constexpr std::uint32_t refused =
      U_GC_C_MASK | U_GC_Z_MASK | U_GC_P_MASK | U_GC_SM_MASK | U_GC_SC_MASK | U_GC_SK_MASK;
  return (U_GET_GC_MASK(cp) & refused) == 0 && !u_hasBinaryProperty(cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) &&
         !u_isUWhiteSpace(cp) && cp != 0xFFFD;
}

}  // namespace

NickCheck check_nick(std::string_view name) {
  // The byte bound first, so a 4 KiB line is refused without being decoded.
  if (name.empty() || name.size() > 4 * max_nick_chars || !is_clean(name)) return NickCheck::invalid;
  const Unicode& unicode = Unicode::get();
  const icu::UnicodeString nfc = unicode.nfc(from_utf8(name));
  if (nfc.isEmpty() || static_cast<std::size_t>(nfc.countChar32()) > max_nick_chars)
    return NickCheck::invalid;
  // A combining mark cannot start a name, so a name is never made of marks alone.
  if ((U_GET_GC_MASK(nfc.char32At(0)) & U_GC_M_MASK) != 0) return NickCheck::invalid;
  for (std::int32_t i = 0; i < nfc.length(); i = nfc.moveIndex32(i, 1)) {
    if (!is_nick_char(nfc.char32At(i))) return NickCheck::invalid;
  }
  const std::int32_t spoof = unicode.spoof_check(nfc);
  if ((spoof & (USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS)) != 0) return NickCheck::mixed_scripts;
  return spoof == 0 ? NickCheck::ok : NickCheck::invalid;
}

bool is_valid_nick(std::string_view name) {
  return check_nick(name) == NickCheck::ok;
}

std::string fold_nick(std::string_view name) {
  const Unicode& unicode = Unicode::get();
  return to_utf8(unicode.skeleton(unicode.nfkc_casefold(from_utf8(name))));
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  const Unicode& unicode = Unicode::get();
  icu::UnicodeString fa = unicode.nfc(from_utf8(a));
  icu::UnicodeString fb = unicode.nfc(from_utf8(b));
  return fa.foldCase() == fb.foldCase();
}

namespace {

// What each digit and then "guest-" fold to, worked out once by the same folding.
const std::array<std::string, 11>& guest_forms() {
  static const auto forms = [] {
    std::array<std::string, 11> f;
    for (char d = '0'; d <= '9'; ++d)
      f[static_cast<std::size_t>(d - '0')] = fold_nick(std::string(1, d));
    f[10] = fold_nick("guest-");
    return f;
  }();
  return forms;
}

}  // namespace

bool is_guest_name(std::string_view folded) {
  const auto& forms = guest_forms();
  const std::string& prefix = forms[10];
  if (folded.size() <= prefix.size() || folded.substr(0, prefix.size()) != prefix) return false;
  for (std::size_t i = prefix.size(); i < folded.size();) {
    const std::string_view rest = folded.substr(i);
    if (rest[0] >= '0' && rest[0] <= '9') {
      ++i;
      continue;
    }
    const auto digit = std::find_if(forms.begin(), forms.begin() + 10,
                                    [&](const std::string& form) { return rest.starts_with(form); });
    if (digit == forms.begin() + 10) return false;
    i += digit->size();
  }
  return true;
}

bool is_server_name(std::string_view folded) {
  static const std::string server = fold_nick("server");
  return folded == server;
}

std::string guest_key(unsigned long long n) {
  const auto& forms = guest_forms();
  std::string key = forms[10];
  for (const char d : std::to_string(n))
    key += forms[static_cast<std::size_t>(d - '0')];
  return key;
}

std::string guest_name(unsigned long long n) {
  return "guest-" + std::to_string(n);
}

}  // namespace dschat
