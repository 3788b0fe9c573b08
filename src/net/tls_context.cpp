#include "net/tls_context.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace dschat {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { F(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Ctx = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

// OpenSSL's reason for the last error ("no start line"), emptying its error queue.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

[[noreturn]] void fail(const std::string& what) {
  ERR_clear_error();
  throw Error(what);
}

std::string read_file(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + std::string(flag) + " " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("cannot read " + std::string(flag) + " " + path + ": " + std::strerror(errno));
  return std::move(text).str();
}

Bio memory_bio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// A key file must never make OpenSSL prompt on the terminal: an encrypted key is an error instead.
int no_password(char*, int, int, void*) {
  return -1;
}

std::string pem_of(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// What every dschat context shares: TLS >= 1.2, no renegotiation, no resumption, small when idle.
Ctx base_context(const SSL_METHOD* method) {
  Ctx ctx(SSL_CTX_new(method));
  if (!ctx) fail("cannot create a TLS context: " + openssl_reason());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  // SSL_OP_NO_TICKET alone still lets a TLS 1.3 server send its two default tickets.
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

void add_extension(X509* cert, X509V3_CTX* v3, int nid, const char* value) {
  const Extension ext(X509V3_EXT_nconf_nid(nullptr, v3, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("cannot make a certificate: " + openssl_reason());
}

Cert self_signed(EVP_PKEY* key) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  // A random positive 127-bit serial, so that two runs never issue the same issuer and serial pair.
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  const Bignum bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  // An hour back, for clients whose clock is a little behind.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
  add_extension(cert.get(), &v3, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), &v3, NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), &v3, NID_subject_key_identifier, "hash");
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) fail("cannot sign a certificate: " + openssl_reason());
  return cert;
}

void use_chain(SSL_CTX* ctx, const std::string& text, const std::string& path) {
  const Bio bio = memory_bio(text);
  Cert leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, no_password, nullptr));
  if (!leaf) fail("--tls-cert " + path + ": not a PEM certificate (" + openssl_reason() + ")");
  if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1)
    fail("--tls-cert " + path + ": certificate refused (" + openssl_reason() + ")");
  while (Cert next{PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr)}) {
    if (SSL_CTX_add0_chain_cert(ctx, next.get()) != 1)
      fail("--tls-cert " + path + ": chain certificate refused (" + openssl_reason() + ")");
    next.release();
  }
  // The loop ends on "no start line" at the end of the file: not an error.
  ERR_clear_error();
}

void use_key(SSL_CTX* ctx, const std::string& text, const std::string& path, const std::string& cert_path) {
  const Bio bio = memory_bio(text);
  const Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!key && text.find("ENCRYPTED") != std::string::npos)
    fail("--tls-key " + path + ": the key is encrypted; dschat needs it unencrypted");
  // OpenSSL 3's decoders only say "unsupported" here, which helps nobody: no reason is better.
  if (!key) fail("--tls-key " + path + ": not a PEM private key");
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    fail("--tls-key " + path + " does not match the certificate in --tls-cert " + cert_path);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Fingerprint certificate_fingerprint(X509* cert) {
  Fingerprint out{};
  unsigned size = 0;
  X509_digest(cert, EVP_sha256(), out.data(), &size);
  return out;
}

std::string format_fingerprint(const Fingerprint& fingerprint) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "SHA256:";
  for (const unsigned char byte : fingerprint) {
    out.push_back(hex[byte >> 4]);
    out.push_back(hex[byte & 0xF]);
  }
  return out;
}

Fingerprint parse_fingerprint(std::string_view text) {
  constexpr std::string_view prefix = "SHA256:";
  const auto bad = [&] {
    return UsageError("bad --tls-fingerprint: expected SHA256: and 64 hex digits, got " +
                      std::string(text.substr(0, 120)));
  };
  if (text.size() < prefix.size() || text.substr(0, prefix.size()) != prefix) throw bad();
  std::string_view rest = text.substr(prefix.size());
  Fingerprint out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0 && !rest.empty() && rest.front() == ':') rest.remove_prefix(1);
    if (rest.size() < 2 || hex_value(rest[0]) < 0 || hex_value(rest[1]) < 0) throw bad();
    out[i] = static_cast<unsigned char>(hex_value(rest[0]) * 16 + hex_value(rest[1]));
    rest.remove_prefix(2);
  }
  if (!rest.empty()) throw bad();
  return out;
}

void TlsContext::Free::operator()(ssl_ctx_st* ctx) const noexcept {
  SSL_CTX_free(ctx);
}

TlsContext::TlsContext(ssl_ctx_st* ctx, bool server) : ctx_(ctx), server_(server) {}
TlsContext::TlsContext(TlsContext&&) noexcept = default;
TlsContext& TlsContext::operator=(TlsContext&&) noexcept = default;
TlsContext::~TlsContext() = default;

TlsContext TlsContext::server_from_files(const std::string& cert_file, const std::string& key_file) {
  const std::string cert_text = read_file(cert_file, "--tls-cert");
  const std::string key_text = read_file(key_file, "--tls-key");
  Ctx ctx = base_context(TLS_server_method());
  use_chain(ctx.get(), cert_text, cert_file);
  use_key(ctx.get(), key_text, key_file, cert_file);
  TlsContext out(ctx.release(), true);
  X509* leaf = SSL_CTX_get0_certificate(out.native());
  out.fingerprint_ = certificate_fingerprint(leaf);
  out.certificate_pem_ = pem_of(leaf);
  return out;
}

TlsContext TlsContext::server_ephemeral() {
  const Key key(EVP_EC_gen("P-256"));
  if (!key) fail("cannot make an ECDSA P-256 key: " + openssl_reason());
  const Cert cert = self_signed(key.get());
  Ctx ctx = base_context(TLS_server_method());
  if (SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1)
    fail("cannot use the ephemeral certificate: " + openssl_reason());
  TlsContext out(ctx.release(), true);
  out.fingerprint_ = certificate_fingerprint(cert.get());
  out.certificate_pem_ = pem_of(cert.get());
  return out;
}

TlsContext TlsContext::client(const TlsClientOptions& options) {
  Ctx ctx = base_context(TLS_client_method());
  switch (options.verify) {
    case TlsClientOptions::Verify::system:
      if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
        fail("cannot load the system CA certificates: " + openssl_reason());
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      break;
    case TlsClientOptions::Verify::ca_file:
      read_file(options.ca_file, "--tls-ca");  // for a clear error when it is missing
      if (SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != 1)
        fail("--tls-ca " + options.ca_file + ": not a PEM certificate (" + openssl_reason() + ")");
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      break;
    case TlsClientOptions::Verify::fingerprint:
      // Each TlsEngine installs the callback that compares the fingerprint.
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      break;
    case TlsClientOptions::Verify::insecure:
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
      break;
  }
  TlsContext out(ctx.release(), false);
  out.client_options_ = options;
  return out;
}

}  // namespace dschat
