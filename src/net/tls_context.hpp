#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

// OpenSSL's types, so that this header does not pull in OpenSSL's.
struct ssl_ctx_st;
struct x509_st;

namespace dschat {

/// A SHA-256 digest of a DER certificate.
using Fingerprint = std::array<unsigned char, 32>;

/// "SHA256:" and 64 lowercase hex digits.
std::string format_fingerprint(const Fingerprint& fingerprint);

/// The SHA-256 digest of cert's DER form.
Fingerprint certificate_fingerprint(x509_st* cert);

/// Parses "SHA256:" and 64 hex digits, either case, pairs optionally separated by ':' (as openssl x509
/// -fingerprint prints them); throws UsageError "bad --tls-fingerprint: ..." otherwise.
Fingerprint parse_fingerprint(std::string_view text);

/// How a client checks the server's certificate (dschat chat --tls, docs/protocol.md, TLS).
struct TlsClientOptions {
  /// The check: system CAs and host name (the default), a CA file and host name, a pinned fingerprint of
  /// the server's own certificate (chain, dates and names ignored), or none.
  enum class Verify { system, ca_file, fingerprint, insecure };

  Verify verify = Verify::system;  ///< which check
  std::string ca_file;             ///< --tls-ca, for Verify::ca_file
  Fingerprint fingerprint{};       ///< --tls-fingerprint, for Verify::fingerprint
};

/// An OpenSSL SSL_CTX set up the dschat way: TLS 1.2 or newer, no renegotiation, no session tickets and
/// no session cache, record buffers released while idle. Shared by every TlsEngine made from it; an engine
/// keeps the SSL_CTX alive on its own, so the TlsContext may go first.
class TlsContext {
 public:
  /// A server context from --tls-cert (PEM, the certificate then its chain) and --tls-key (PEM, not
  /// encrypted); throws Error with one line naming the file: unreadable, not PEM, key does not match.
  static TlsContext server_from_files(const std::string& cert_file, const std::string& key_file);

  /// A server context with a fresh ECDSA P-256 key and a self-signed certificate valid for a day:
  /// CN=localhost, subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 (--tls alone).
  static TlsContext server_ephemeral();

  /// A client context; throws Error when the CA file cannot be loaded.
  static TlsContext client(const TlsClientOptions& options);

  /// Movable, not copyable; the move keeps the OpenSSL object where it is.
  TlsContext(TlsContext&&) noexcept;
  TlsContext& operator=(TlsContext&&) noexcept;
  /// Frees the OpenSSL object (an SSL_CTX lives on while engines use it).
  ~TlsContext();

  /// True for a server context.
  bool is_server() const noexcept { return server_; }

  /// For a server: the fingerprint of its certificate, to print with the `listening on` line.
  const Fingerprint& fingerprint() const noexcept { return fingerprint_; }

  /// For a server: its certificate in PEM (to hand to a client as --tls-ca).
  const std::string& certificate_pem() const noexcept { return certificate_pem_; }

  /// For a client: how it verifies.
  const TlsClientOptions& client_options() const noexcept { return client_options_; }

  /// The SSL_CTX (still owned by this object).
  ssl_ctx_st* native() const noexcept { return ctx_.get(); }

 private:
  struct Free {
    void operator()(ssl_ctx_st* ctx) const noexcept;
  };

  TlsContext(ssl_ctx_st* ctx, bool server);

  std::unique_ptr<ssl_ctx_st, Free> ctx_;
  bool server_;
  Fingerprint fingerprint_{};
  std::string certificate_pem_;
  TlsClientOptions client_options_;
};

}  // namespace dschat
