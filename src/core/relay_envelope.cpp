#include "core/relay_envelope.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include "core/sanitize.hpp"

namespace dschat {

namespace {

constexpr std::array<std::string_view, 9> kind_names = {"chat", "me",     "join", "nick", "leave",
                                                        "hb",   "roster", "sync", "bye"};

void append_number(std::string& out, std::uint64_t n, int base = 10) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n, base).ptr;
  if (base == 16) out.append(16 - static_cast<std::size_t>(end - digits.data()), '0');
  out.append(digits.data(), end);
}

std::optional<std::uint64_t> number(std::string_view text, int base = 10) {
  if (text.empty() || text.size() > (base == 16 ? 16U : 20U)) return std::nullopt;
  for (const char c : text) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !(base == 16 && c >= 'a' && c <= 'f')) return std::nullopt;
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

bool is_name(std::string_view name) {
  return !name.empty() && name.size() <= max_envelope_name &&
         name.find_first_of(" \t") == std::string_view::npos && is_clean(name);
}

bool is_text(std::string_view text) {
  return text.size() <= max_envelope_text && is_clean(text);
}

/// Takes fields off the front of a line, one space between them.
class Fields {
 public:
  explicit Fields(std::string_view rest) : rest_(rest) {}

  /// The next field, or nullopt at the end of the line. A field may be empty only where two spaces meet.
  std::optional<std::string_view> next() {
    if (done_) return std::nullopt;
    const std::size_t space = rest_.find(' ');
    const std::string_view field = rest_.substr(0, space);
    if (space == std::string_view::npos) {
      done_ = true;
    } else {
      rest_.remove_prefix(space + 1);
    }
    return field;
  }

  /// Everything not taken yet (the free text); nullopt when the line ended before it.
  std::optional<std::string_view> rest() {
    if (done_) return std::nullopt;
    done_ = true;
    return rest_;
  }

  bool done() const { return done_; }

 private:
  std::string_view rest_;
  bool done_ = false;
};

struct Failure {
  const char* reason;
};

std::string_view need(std::optional<std::string_view> field, const char* missing) {
  if (!field) throw Failure{missing};
  return *field;
}

std::uint64_t need_number(std::optional<std::string_view> field, const char* what) {
  const auto n = number(need(field, what), 10);
  if (!n) throw Failure{what};
  return *n;
}

std::string need_name(std::optional<std::string_view> field) {
  const std::string_view name = need(field, "missing name");
  if (!is_name(name)) throw Failure{"bad name"};
  return std::string(name);
}

std::string need_text(std::optional<std::string_view> field) {
  const std::string_view text = need(field, "missing text");
  if (!is_text(text)) throw Failure{"bad text"};
  return std::string(text);
}

RosterEntry roster_entry(std::string_view field) {
  RosterEntry entry;
  std::size_t at = 0;
  for (std::uint64_t* n : {&entry.id, &entry.joined, &entry.claimed}) {
    const std::size_t colon = field.find(':', at);
    if (colon == std::string_view::npos) throw Failure{"bad roster entry"};
    const auto value = number(field.substr(at, colon - at));
    if (!value) throw Failure{"bad roster entry"};
    *n = *value;
    at = colon + 1;
  }
  entry.name = std::string(field.substr(at));
  if (!is_name(entry.name)) throw Failure{"bad roster entry"};
  return entry;
}

void roster_fields(Fields& fields, Envelope& envelope) {
  const std::string_view part = need(fields.next(), "missing roster part");
  const std::size_t slash = part.find('/');
  const auto i = number(part.substr(0, slash));
  const auto n = slash == std::string_view::npos ? std::nullopt : number(part.substr(slash + 1));
  if (!i || !n || *i < 1 || *i > *n || *n > 10000) throw Failure{"bad roster part"};
  envelope.part = static_cast<std::uint32_t>(*i);
  envelope.parts = static_cast<std::uint32_t>(*n);
  while (auto field = fields.next())
    envelope.entries.push_back(roster_entry(*field));
}

void kind_fields(Fields& fields, Envelope& envelope) {
  using Kind = Envelope::Kind;
  switch (envelope.kind) {
    case Kind::chat:
    case Kind::me:
    case Kind::leave:
      envelope.id = need_number(fields.next(), "bad member id");
      envelope.name = need_name(fields.next());
      envelope.text = need_text(fields.rest());
      break;
    case Kind::join:
      envelope.id = need_number(fields.next(), "bad member id");
      envelope.name = need_name(fields.next());
      break;
    case Kind::nick:
      envelope.id = need_number(fields.next(), "bad member id");
      envelope.name = need_name(fields.next());
      envelope.new_name = need_name(fields.next());
      break;
    case Kind::hb: {
      envelope.count = need_number(fields.next(), "bad member count");
      const std::string_view digest = need(fields.next(), "missing digest");
      const auto value = digest.size() == 16 ? number(digest, 16) : std::nullopt;
      if (!value) throw Failure{"bad digest"};
      envelope.digest = *value;
      break;
    }
    case Kind::roster:
      roster_fields(fields, envelope);
      break;
    case Kind::sync: {
      const std::string_view target = need(fields.next(), "missing sync target");
      if (target != "*" && !is_valid_node_name(target)) throw Failure{"bad sync target"};
      envelope.text = std::string(target);
      break;
    }
    case Kind::bye:
      envelope.text = need_text(fields.rest());
      break;
  }
  if (!fields.done() && fields.next()) throw Failure{"unexpected field"};
}

}  // namespace

bool is_valid_node_name(std::string_view node) noexcept {
  if (node.empty() || node.size() > 16) return false;
  for (const char c : node) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool counts_seq(Envelope::Kind kind) noexcept {
  using Kind = Envelope::Kind;
  return kind == Kind::chat || kind == Kind::me || kind == Kind::join || kind == Kind::nick ||
         kind == Kind::leave;
}

std::string_view kind_name(Envelope::Kind kind) noexcept {
  return kind_names[static_cast<std::size_t>(kind)];
}

void append_envelope(std::string& out, const Envelope& envelope) {
  using Kind = Envelope::Kind;
  std::string line = "DSC1 ";
  line.append(kind_name(envelope.kind)).append(" ").append(envelope.node).append(" ");
  append_number(line, envelope.epoch, 16);
  for (const std::uint64_t n : {envelope.seq, envelope.clock}) {
    line.push_back(' ');
    append_number(line, n);
  }
  line.push_back(' ');
  switch (envelope.kind) {
    case Kind::chat:
    case Kind::me:
    case Kind::leave:
      append_number(line, envelope.id);
      line.append(" ").append(envelope.name).append(" ").append(envelope.text);
      break;
    case Kind::join:
      append_number(line, envelope.id);
      line.append(" ").append(envelope.name);
      break;
    case Kind::nick:
      append_number(line, envelope.id);
      line.append(" ").append(envelope.name).append(" ").append(envelope.new_name);
      break;
    case Kind::hb:
      append_number(line, envelope.count);
      line.push_back(' ');
      append_number(line, envelope.digest, 16);
      break;
    case Kind::roster:
      append_number(line, envelope.part);
      line.push_back('/');
      append_number(line, envelope.parts);
      for (const RosterEntry& entry : envelope.entries) {
        line.push_back(' ');
        append_number(line, entry.id);
        line.push_back(':');
        append_number(line, entry.joined);
        line.push_back(':');
        append_number(line, entry.claimed);
        line.append(":").append(entry.name);
      }
      break;
    case Kind::sync:
    case Kind::bye:
      line.append(envelope.text);
      break;
  }
  // Checking by parsing back keeps one definition of "valid": whatever is sent can be read.
  const auto back = parse_envelope(line);
  if (!back || *back != envelope) throw std::invalid_argument("invalid envelope: " + line.substr(0, 200));
  out.append(line);
}

std::string encode_envelope(const Envelope& envelope) {
  std::string out;
  append_envelope(out, envelope);
  return out;
}

std::optional<Envelope> parse_envelope(std::string_view line, std::string* error) {
  try {
    if (line.size() > max_envelope_size) throw Failure{"envelope too long"};
    Fields fields(line);
    if (need(fields.next(), "empty envelope") != "DSC1") throw Failure{"not a DSC1 envelope"};
    Envelope envelope;
    const std::string_view kind = need(fields.next(), "missing kind");
    std::size_t k = 0;
    while (k < kind_names.size() && kind_names[k] != kind)
      ++k;
    if (k == kind_names.size()) throw Failure{"unknown kind"};
    envelope.kind = static_cast<Envelope::Kind>(k);
    envelope.node = std::string(need(fields.next(), "missing node"));
    if (!is_valid_node_name(envelope.node)) throw Failure{"bad node name"};
    const auto epoch = number(need(fields.next(), "missing epoch"), 16);
    if (!epoch) throw Failure{"bad epoch"};
    envelope.epoch = *epoch;
    envelope.seq = need_number(fields.next(), "bad seq");
    envelope.clock = need_number(fields.next(), "bad clock");
    kind_fields(fields, envelope);
    return envelope;
  } catch (const Failure& failure) {
    if (error != nullptr) *error = failure.reason;
    return std::nullopt;
  }
}

}  // namespace dschat
