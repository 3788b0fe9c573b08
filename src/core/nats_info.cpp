#include "core/nats_info.hpp"

#include <charconv>
#include <cstring>

namespace dschat {

namespace {

/// A tolerant scanner for the INFO object: reads every top-level key, keeps the few we use, skips the
/// rest (nested objects and arrays included). Any JSON syntax error makes it fail.
class InfoScanner {
 public:
  explicit InfoScanner(std::string_view json) : json_(json) {}

  std::optional<NatsInfo> scan() {
    NatsInfo info;
    skip_space();
    if (!take('{')) return std::nullopt;
    skip_space();
    if (take('}')) return finished(info);
    do {
      skip_space();
      std::string key;
      if (!string(key)) return std::nullopt;
      skip_space();
      if (!take(':')) return std::nullopt;
      skip_space();
      if (!member(key, info)) return std::nullopt;
      skip_space();
    } while (take(','));
    if (!take('}')) return std::nullopt;
    return finished(info);
  }

 private:
  std::optional<NatsInfo> finished(const NatsInfo& info) {
    skip_space();
    return at_ == json_.size() ? std::optional<NatsInfo>(info) : std::nullopt;
  }

  bool member(const std::string& key, NatsInfo& info) {
    if (key == "server_id") return string(info.server_id);
    if (key == "max_payload") {
      const std::size_t start = at_;
      while (at_ < json_.size() && json_[at_] >= '0' && json_[at_] <= '9')
        ++at_;
      const std::string_view digits = json_.substr(start, at_ - start);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), info.max_payload);
      return !digits.empty() && ec == std::errc{} && end == digits.data() + digits.size();
    }
    if (key == "auth_required") return boolean(info.auth_required);
    if (key == "tls_required") return boolean(info.tls_required);
    return skip_value(0);
  }

  bool boolean(bool& value) {
    if (word("true")) return value = true, true;
    if (word("false")) return value = false, true;
    return false;
  }

  bool skip_value(int depth) {
    if (depth > 32 || at_ >= json_.size()) return false;
    std::string ignored;
    switch (json_[at_]) {
      case '"':
        return string(ignored);
      case '{':
      case '[':
        return skip_container(depth);
      case 't':
        return word("true");
      case 'f':
        return word("false");
      case 'n':
        return word("null");
      default:
        return number();
    }
  }

  bool skip_container(int depth) {
    const char close = json_[at_] == '{' ? '}' : ']';
    ++at_;
    skip_space();
    if (take(close)) return true;
    do {
      skip_space();
      if (close == '}') {
        std::string key;
        if (!string(key)) return false;
        skip_space();
        if (!take(':')) return false;
        skip_space();
      }
      if (!skip_value(depth + 1)) return false;
      skip_space();
    } while (take(','));
    return take(close);
  }

  bool number() {
    const std::size_t start = at_;
    while (at_ < json_.size() && std::strchr("0123456789+-.eE", json_[at_]) != nullptr && json_[at_] != 0)
      ++at_;
    return at_ > start;
  }

  bool string(std::string& out) {
    out.clear();
    if (!take('"')) return false;
    while (at_ < json_.size()) {
      const char c = json_[at_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_ >= json_.size()) return false;
      const char e = json_[at_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u':
          if (!unicode_escape(out)) return false;
          break;
        default:
          return false;
      }
    }
    return false;
  }

  // \uXXXX as UTF-8; a lone surrogate becomes U+FFFD rather than an error: only server_id is kept.
  bool unicode_escape(std::string& out) {
    if (json_.size() - at_ < 4) return false;
    unsigned code = 0;
    const auto [end, ec] = std::from_chars(json_.data() + at_, json_.data() + at_ + 4, code, 16);
    if (ec != std::errc{} || end != json_.data() + at_ + 4) return false;
    at_ += 4;
    if (code >= 0xD800 && code <= 0xDFFF) code = 0xFFFD;
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
    return true;
  }

  bool word(std::string_view w) {
    if (json_.substr(at_, w.size()) != w) return false;
    at_ += w.size();
    return true;
  }

  bool take(char c) {
    if (at_ >= json_.size() || json_[at_] != c) return false;
    ++at_;
    return true;
  }

  void skip_space() {
    while (at_ < json_.size() && std::strchr(" \t\r\n", json_[at_]) != nullptr && json_[at_] != 0)
      ++at_;
  }

  std::string_view json_;
  std::size_t at_ = 0;
};

}  // namespace

std::optional<NatsInfo> parse_nats_info(std::string_view json) {
  return InfoScanner(json).scan();
}

}  // namespace dschat
