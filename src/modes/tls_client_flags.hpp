#pragma once

#include <string>

namespace dschat {

/// --tls, --tls-ca, --tls-fingerprint, --tls-insecure as given.
struct TlsClientFlags {
  bool tls = false;
  std::string ca_file;
  std::string fingerprint;
  bool insecure = false;

  /// True when any of them asks for TLS (each of the others implies --tls).
  bool wanted() const noexcept { return tls || !ca_file.empty() || !fingerprint.empty() || insecure; }
};

}  // namespace dschat
