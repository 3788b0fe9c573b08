#include "net/tls_engine.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/error.hpp"
#include "net/tls_buffers.hpp"

namespace dschat {
namespace {

constexpr unsigned char record_handshake = 0x16;
constexpr unsigned char record_alert = 0x15;
constexpr std::size_t max_shown = 16;

struct FreeSsl {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

std::string shown(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : bytes.substr(0, max_shown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\') {
      out.push_back(c);
    } else {
      out.append("\\x").push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xF]);
    }
  }
  return out + (bytes.size() > max_shown ? "...\"" : "\"");
}

bool is_ip_literal(const std::string& host) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, host.c_str(), bytes) == 1 || inet_pton(AF_INET6, host.c_str(), bytes) == 1;
}

std::string pin_mismatch(const Fingerprint& seen, const Fingerprint& pin) {
  return "certificate fingerprint " + format_fingerprint(seen) + " does not match the pinned " +
         format_fingerprint(pin);
}

}  // namespace

struct TlsEngine::Impl {
  bool server = false;
  TlsBuffers buffers;
  std::string pending;  // plaintext written before the handshake was complete
  bool first_byte_seen = false;
  bool handshake_done = false;
  bool shutdown_sent = false;
  TlsState state = TlsState::handshaking;
  std::string error;
  /// What only a client checks, apart: a server holds ten thousand engines and needs none of it.
  struct ClientCheck {
    std::string host;
    bool pinned = false;
    Fingerprint pin{};
    std::string pin_error;  // set by the verify callback
  };
  std::unique_ptr<ClientCheck> client;  // set for a client
  std::unique_ptr<SSL, FreeSsl> ssl;    // last, so that it goes first: its BIO points to buffers

  void check_first_byte(std::string_view bytes);
  void advance();
  bool pin_matches();
  void fail(std::string why);
  void fail_from_openssl(int ssl_error, std::string_view during);
  void write(std::string_view bytes);
};

namespace {

// Compares the server's own certificate with the pinned fingerprint; the chain above it is ignored.
int verify_pinned(int, X509_STORE_CTX* store) {
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* impl = static_cast<TlsEngine::Impl*>(SSL_get_app_data(ssl));
  const Fingerprint seen = certificate_fingerprint(X509_STORE_CTX_get_current_cert(store));
  if (seen == impl->client->pin) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  impl->client->pin_error = pin_mismatch(seen, impl->client->pin);
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

}  // namespace

void TlsEngine::Impl::fail(std::string why) {
  state = TlsState::failed;
  error = std::move(why);
  std::string().swap(pending);
  ERR_clear_error();
}

void TlsEngine::Impl::fail_from_openssl(int ssl_error, std::string_view during) {
  if (client && !client->pin_error.empty()) return fail(client->pin_error);
  // Without SSL_VERIFY_PEER (--tls-insecure) OpenSSL still records a verify result, but ignores it.
  const long verify = SSL_get_verify_result(ssl.get());
  if ((SSL_get_verify_mode(ssl.get()) & SSL_VERIFY_PEER) != 0 && verify != X509_V_OK) {
    std::string why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH)
      why += " (expected " + (client ? client->host : std::string()) + ")";
    return fail(std::move(why));
  }
  const unsigned long code = ERR_peek_last_error();
  if (buffers.at_eof() && (code == 0 || ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
    if (handshake_done) {
      state = TlsState::truncated;
      ERR_clear_error();
      return;
    }
    return fail("connection closed during the TLS handshake");
  }
  const char* reason = code == 0 ? nullptr : ERR_reason_error_string(code);
  if (reason == nullptr) reason = ssl_error == SSL_ERROR_SYSCALL ? "transport error" : "unknown error";
  fail(std::string("TLS ") + std::string(during) + " failed: " + reason);
}

void TlsEngine::Impl::check_first_byte(std::string_view bytes) {
  if (first_byte_seen || bytes.empty()) return;
  first_byte_seen = true;
  const auto first = static_cast<unsigned char>(bytes.front());
  // A client's first record is always its ClientHello; a server may answer with an alert.
  if (first == record_handshake || (!server && first == record_alert)) return;
  fail(std::string(server ? "client" : "server") + " does not speak TLS: it sent " + shown(bytes));
}

bool TlsEngine::Impl::pin_matches() {
  if (!client || !client->pinned) return true;
  X509* cert = SSL_get0_peer_certificate(ssl.get());
  if (cert == nullptr) {
    fail("the server sent no certificate");
    return false;
  }
  const Fingerprint seen = certificate_fingerprint(cert);
  if (seen == client->pin) return true;
  fail(pin_mismatch(seen, client->pin));
  return false;
}

void TlsEngine::Impl::advance() {
  if (state != TlsState::handshaking) return;
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl.get());
  if (result == 1) {
    if (!pin_matches()) return;
    handshake_done = true;
    state = TlsState::open;
    std::string waiting;
    waiting.swap(pending);
    write(waiting);
    return;
  }
  const int ssl_error = SSL_get_error(ssl.get(), result);
  if ((ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE) && !buffers.at_eof()) return;
  fail_from_openssl(ssl_error, "handshake");
}

void TlsEngine::Impl::write(std::string_view bytes) {
  // The BIO takes every byte at once, so SSL_write_ex never asks to be called again with the rest.
  while (!bytes.empty() && state != TlsState::failed) {
    ERR_clear_error();
    std::size_t written = 0;
    const int result = SSL_write_ex(ssl.get(), bytes.data(), bytes.size(), &written);
    if (result != 1) return fail_from_openssl(SSL_get_error(ssl.get(), result), "write");
    bytes.remove_prefix(written);
  }
}

TlsEngine::TlsEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsEngine::TlsEngine(TlsEngine&&) noexcept = default;
TlsEngine& TlsEngine::operator=(TlsEngine&&) noexcept = default;
TlsEngine::~TlsEngine() = default;

namespace {

std::unique_ptr<TlsEngine::Impl> make_impl(const TlsContext& context) {
  auto impl = std::make_unique<TlsEngine::Impl>();
  impl->server = context.is_server();
  impl->ssl.reset(SSL_new(context.native()));
  BIO* bio = impl->ssl ? buffers_bio(impl->buffers) : nullptr;
  if (bio == nullptr) {
    ERR_clear_error();
    throw Error("cannot create a TLS session");
  }
  // One BIO for both directions: SSL_set_bio then takes one reference, the only one.
  SSL_set_bio(impl->ssl.get(), bio, bio);
  SSL_set_app_data(impl->ssl.get(), impl.get());
  return impl;
}

}  // namespace

TlsEngine TlsEngine::server(const TlsContext& context) {
  auto impl = make_impl(context);
  SSL_set_accept_state(impl->ssl.get());
  return TlsEngine(std::move(impl));
}

TlsEngine TlsEngine::client(const TlsContext& context, std::string_view host) {
  auto impl = make_impl(context);
  SSL* ssl = impl->ssl.get();
  auto& check = *(impl->client = std::make_unique<Impl::ClientCheck>());
  check.host = std::string(host);
  const bool ip = is_ip_literal(check.host);
  // SNI carries names only (RFC 6066); an IP literal is checked against the certificate's IP entries.
  // SSL_set_tlsext_host_name, without the C cast in the macro.
  if (!ip && !check.host.empty())
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(check.host.c_str()));
  const auto verify = context.client_options().verify;
  if (verify == TlsClientOptions::Verify::system || verify == TlsClientOptions::Verify::ca_file) {
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), check.host.c_str())
                      : SSL_set1_host(ssl, check.host.c_str());
    if (ok != 1) {
      ERR_clear_error();
      throw Error("cannot check the TLS host name " + check.host);
    }
  } else if (verify == TlsClientOptions::Verify::fingerprint) {
    check.pinned = true;
    check.pin = context.client_options().fingerprint;
    SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_pinned);
  }
  SSL_set_connect_state(ssl);
  impl->advance();  // the ClientHello
  return TlsEngine(std::move(impl));
}

void TlsEngine::feed_ciphertext(std::string_view bytes) {
  if (impl_->state == TlsState::failed || bytes.empty()) return;
  impl_->check_first_byte(bytes);
  if (impl_->state == TlsState::failed) return;
  impl_->buffers.feed(bytes);
  impl_->advance();
}

void TlsEngine::feed_eof() {
  impl_->buffers.eof = true;
  impl_->advance();
}

std::string TlsEngine::take_ciphertext() {
  std::string bytes;
  bytes.swap(impl_->buffers.out);
  return bytes;
}

bool TlsEngine::wants_write() const noexcept {
  return !impl_->buffers.out.empty();
}

std::size_t TlsEngine::read_plaintext(std::span<char> buffer) {
  impl_->advance();
  if (impl_->state != TlsState::open) return 0;
  std::size_t total = 0;
  while (total < buffer.size()) {
    ERR_clear_error();
    std::size_t got = 0;
    const int result = SSL_read_ex(impl_->ssl.get(), buffer.data() + total, buffer.size() - total, &got);
    if (result == 1) {
      total += got;
      continue;
    }
    const int ssl_error = SSL_get_error(impl_->ssl.get(), result);
    if (ssl_error == SSL_ERROR_ZERO_RETURN) {
      impl_->state = TlsState::closed;
    } else if (ssl_error != SSL_ERROR_WANT_READ || impl_->buffers.at_eof()) {
      impl_->fail_from_openssl(ssl_error, "read");
    }
    break;
  }
  return total;
}

bool TlsEngine::plaintext_pending() const noexcept {
  if (impl_->state != TlsState::open && impl_->state != TlsState::handshaking) return false;
  return !impl_->buffers.drained() || SSL_has_pending(impl_->ssl.get()) == 1;
}

void TlsEngine::write_plaintext(std::string_view bytes) {
  if (impl_->shutdown_sent) return;
  switch (impl_->state) {
    case TlsState::handshaking:
      impl_->pending.append(bytes);
      return;
    case TlsState::open:
    case TlsState::closed:  // the peer's close_notify ends its direction only
      impl_->write(bytes);
      return;
    case TlsState::truncated:
    case TlsState::failed:
      return;
  }
}

void TlsEngine::shutdown() {
  if (impl_->shutdown_sent) return;
  impl_->shutdown_sent = true;
  std::string().swap(impl_->pending);
  // Mid-handshake there is no session to close, and a failed one has already sent its alert.
  if (!impl_->handshake_done || impl_->state == TlsState::failed) return;
  ERR_clear_error();
  SSL_shutdown(impl_->ssl.get());
  ERR_clear_error();
}

bool TlsEngine::handshake_done() const noexcept {
  return impl_->handshake_done;
}

TlsState TlsEngine::state() const noexcept {
  return impl_->state;
}

const std::string& TlsEngine::error() const noexcept {
  return impl_->error;
}

std::string TlsEngine::protocol() const {
  return impl_->handshake_done ? SSL_get_version(impl_->ssl.get()) : "";
}

}  // namespace dschat
