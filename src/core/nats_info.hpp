#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dschat {

/// The fields of a NATS server's INFO that we use; the others are ignored.
struct NatsInfo {
  std::string server_id;          ///< "server_id", empty when absent
  std::uint64_t max_payload = 0;  ///< "max_payload", 0 when absent
  bool auth_required = false;     ///< "auth_required"
  bool tls_required = false;      ///< "tls_required"
  bool operator==(const NatsInfo&) const = default;
};

/// Reads the JSON object of an INFO line (what follows `INFO `). A tolerant scanner, not a JSON library:
/// it reads every top-level member, keeps server_id (a string), max_payload (an unsigned integer),
/// auth_required and tls_required (booleans), and skips the others, nested objects and arrays included
/// (to a depth of 32). nullopt when the text is not one JSON object or a kept member has the wrong type.
std::optional<NatsInfo> parse_nats_info(std::string_view json);

}  // namespace dschat
