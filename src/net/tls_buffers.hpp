#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// OpenSSL's type, so that this header does not pull in OpenSSL's.
struct bio_st;

namespace dschat {

/// The ciphertext queues of one TlsEngine, which OpenSSL reads and writes through buffers_bio(). They are
/// plain strings released as soon as they drain, so an idle session holds none (a memory BIO keeps its
/// largest size for the life of the session).
struct TlsBuffers {
  std::string in;         ///< ciphertext from the socket, not yet read by OpenSSL from in_at on
  std::size_t in_at = 0;  ///< how much of in OpenSSL has read
  bool eof = false;       ///< the socket reached end of stream
  std::string out;        ///< ciphertext for the socket

  /// Queues bytes read from the socket.
  void feed(std::string_view bytes) { in.append(bytes); }

  /// True when OpenSSL has read everything fed so far.
  bool drained() const noexcept { return in_at == in.size(); }

  /// True when everything was read and the socket reached end of stream.
  bool at_eof() const noexcept { return eof && drained(); }
};

/// A new BIO over buffers (not owned; they must outlive it): reads take from in and report "retry" when
/// it is empty (end of file after eof), writes append to out.
bio_st* buffers_bio(TlsBuffers& buffers);

}  // namespace dschat
