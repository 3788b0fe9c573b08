#include "net/tls_context.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/error.hpp"

using dschat::Fingerprint;
using dschat::TlsClientOptions;
using dschat::TlsContext;

namespace {

/// A file in the temporary directory with the given text, removed at the end.
struct TempFile {
  TempFile(std::string_view name, std::string_view text)
      : path(std::filesystem::temp_directory_path() /
             ("dschat-tls-" + std::to_string(getpid()) + "-" + std::string(name))) {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::string str() const { return path.string(); }
  std::filesystem::path path;
};

/// The private key of a server context in PEM, encrypted with password when one is given.
std::string key_pem(const TlsContext& context, const char* password = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  EVP_PKEY* key = SSL_CTX_get0_privatekey(context.native());
  if (password == nullptr) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_128_cbc(), password,
                                  static_cast<int>(std::strlen(password)), nullptr, nullptr);
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

/// The message of the Error that f throws, or "" when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const dschat::Error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("format_fingerprint and parse_fingerprint") {
  Fingerprint fingerprint{};
  for (std::size_t i = 0; i < fingerprint.size(); ++i)
    fingerprint[i] = static_cast<unsigned char>(i * 8 + 7);
  const std::string text = dschat::format_fingerprint(fingerprint);
  CHECK(text == "SHA256:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
  CHECK(dschat::parse_fingerprint(text) == fingerprint);
  CHECK(dschat::parse_fingerprint("SHA256:07:0F:17:1F:27:2F:37:3F:47:4F:57:5F:67:6F:77:7F:87:8F:97:9F:A7:AF:"
                                  "B7:BF:C7:CF:D7:DF:E7:EF:F7:FF") == fingerprint);

  for (const std::string_view bad :
       {"", "SHA256:", "sha256:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
        "SHA1:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
        "SHA256:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7f",
        "SHA256:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff00",
        "SHA256:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7fg",
        "SHA256::070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff",
        "SHA256:070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff:"}) {
    CAPTURE(bad);
    CHECK(error_of([&] { dschat::parse_fingerprint(bad); }) ==
          "bad --tls-fingerprint: expected SHA256: and 64 hex digits, got " + std::string(bad));
  }
  CHECK_THROWS_AS(dschat::parse_fingerprint("x"), dschat::UsageError);
}

TEST_CASE("TlsContext::server_ephemeral") {
  const TlsContext context = TlsContext::server_ephemeral();
  CHECK(context.is_server());
  BIO* bio =
      BIO_new_mem_buf(context.certificate_pem().data(), static_cast<int>(context.certificate_pem().size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(cert != nullptr);

  SUBCASE("an ECDSA P-256 key") {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    CHECK(EVP_PKEY_get_base_id(key) == EVP_PKEY_EC);
    char group[32] = {};
    std::size_t size = 0;
    CHECK(EVP_PKEY_get_group_name(key, group, sizeof group, &size) == 1);
    CHECK(std::string(group) == "prime256v1");
  }

  SUBCASE("names: localhost, 127.0.0.1, ::1 and nothing else") {
    CHECK(X509_check_host(cert, "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_ip_asc(cert, "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(cert, "::1", 0) == 1);
    CHECK(X509_check_host(cert, "example.com", 0, 0, nullptr) == 0);
    CHECK(X509_check_ip_asc(cert, "10.0.0.1", 0) == 0);
    char common_name[64] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, common_name, sizeof common_name);
    CHECK(std::string(common_name) == "localhost");
  }

  SUBCASE("valid now, for about a day") {
    int days = 0;
    int seconds = 0;
    CHECK(X509_cmp_current_time(X509_get0_notBefore(cert)) < 0);
    CHECK(X509_cmp_current_time(X509_get0_notAfter(cert)) > 0);
    REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) == 1);
    CHECK(days * 86400 + seconds == 25 * 3600);
  }

  SUBCASE("the fingerprint is the SHA-256 of the DER certificate") {
    Fingerprint digest{};
    unsigned size = 0;
    X509_digest(cert, EVP_sha256(), digest.data(), &size);
    CHECK(size == 32);
    CHECK(context.fingerprint() == digest);
    CHECK(TlsContext::server_ephemeral().fingerprint() != context.fingerprint());
  }

  SUBCASE("TLS 1.2 at least, no tickets, buffers released when idle") {
    SSL_CTX* ctx = context.native();
    CHECK(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
    CHECK((SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET) != 0);
    CHECK(SSL_CTX_get_num_tickets(ctx) == 0);
    CHECK((SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS) != 0);
  }
  X509_free(cert);
}

TEST_CASE("TlsContext::server_from_files") {
  const TlsContext ephemeral = TlsContext::server_ephemeral();
  const TlsContext other = TlsContext::server_ephemeral();
  const TempFile cert("cert.pem", ephemeral.certificate_pem());
  const TempFile key("key.pem", key_pem(ephemeral));

  SUBCASE("a certificate and its key") {
    const TlsContext context = TlsContext::server_from_files(cert.str(), key.str());
    CHECK(context.fingerprint() == ephemeral.fingerprint());
    CHECK(context.certificate_pem() == ephemeral.certificate_pem());
  }

  SUBCASE("a certificate followed by its chain") {
    const TempFile chain("chain.pem", ephemeral.certificate_pem() + other.certificate_pem());
    const TlsContext context = TlsContext::server_from_files(chain.str(), key.str());
    CHECK(context.fingerprint() == ephemeral.fingerprint());
    STACK_OF(X509)* extra = nullptr;
    SSL_CTX_get0_chain_certs(context.native(), &extra);
    CHECK(sk_X509_num(extra) == 1);
  }

  SUBCASE("errors name the file") {
    const TempFile text("text.pem", "hello\n");
    const TempFile other_key("other-key.pem", key_pem(other));
    const TempFile encrypted("encrypted.pem", key_pem(ephemeral, "secret"));
    const std::string missing = (std::filesystem::temp_directory_path() / "dschat-no-such-file.pem").string();
    CHECK(error_of([&] { TlsContext::server_from_files(missing, key.str()); }) ==
          "cannot read --tls-cert " + missing + ": No such file or directory");
    CHECK(error_of([&] { TlsContext::server_from_files(cert.str(), missing); }) ==
          "cannot read --tls-key " + missing + ": No such file or directory");
    CHECK(error_of([&] { TlsContext::server_from_files(text.str(), key.str()); }) ==
          "--tls-cert " + text.str() + ": not a PEM certificate (no start line)");
    CHECK(error_of([&] { TlsContext::server_from_files(key.str(), key.str()); }) ==
          "--tls-cert " + key.str() + ": not a PEM certificate (no start line)");
    CHECK(error_of([&] { TlsContext::server_from_files(cert.str(), text.str()); }) ==
          "--tls-key " + text.str() + ": not a PEM private key");
    CHECK(error_of([&] { TlsContext::server_from_files(cert.str(), other_key.str()); }) ==
          "--tls-key " + other_key.str() + " does not match the certificate in --tls-cert " + cert.str());
    CHECK(error_of([&] { TlsContext::server_from_files(cert.str(), encrypted.str()); }) ==
          "--tls-key " + encrypted.str() + ": the key is encrypted; dschat needs it unencrypted");
  }
}

TEST_CASE("TlsContext::client") {
  SUBCASE("verification modes") {
    TlsClientOptions options;
    CHECK(SSL_CTX_get_verify_mode(TlsContext::client(options).native()) == SSL_VERIFY_PEER);
    options.verify = TlsClientOptions::Verify::insecure;
    CHECK(SSL_CTX_get_verify_mode(TlsContext::client(options).native()) == SSL_VERIFY_NONE);
    options.verify = TlsClientOptions::Verify::fingerprint;
    const TlsContext pinned = TlsContext::client(options);
    CHECK_FALSE(pinned.is_server());
    CHECK(pinned.client_options().verify == TlsClientOptions::Verify::fingerprint);
    CHECK(SSL_CTX_get_min_proto_version(pinned.native()) == TLS1_2_VERSION);
  }

  SUBCASE("a CA file that cannot be used") {
    const TempFile text("ca.pem", "hello\n");
    TlsClientOptions options;
    options.verify = TlsClientOptions::Verify::ca_file;
    options.ca_file = (std::filesystem::temp_directory_path() / "dschat-no-such-ca.pem").string();
    CHECK(error_of([&] { TlsContext::client(options); }) ==
          "cannot read --tls-ca " + options.ca_file + ": No such file or directory");
    options.ca_file = text.str();
    CHECK(error_of([&] { TlsContext::client(options); }).rfind("--tls-ca " + text.str() + ": not a PEM", 0) ==
          0);
  }
}
