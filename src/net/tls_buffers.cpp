#include "net/tls_buffers.hpp"

#include <openssl/bio.h>

#include <algorithm>
#include <cstring>

namespace dschat {
namespace {

TlsBuffers& buffers_of(BIO* bio) {
  return *static_cast<TlsBuffers*>(BIO_get_data(bio));
}

int bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  buffers_of(bio).out.append(data, static_cast<std::size_t>(size));
  return size;
}

int bio_read(BIO* bio, char* data, int size) {
  TlsBuffers& buffers = buffers_of(bio);
  BIO_clear_retry_flags(bio);
  if (buffers.drained()) {
    if (buffers.eof) return 0;
    BIO_set_retry_read(bio);
    return -1;
  }
  const std::size_t n = std::min(buffers.in.size() - buffers.in_at, static_cast<std::size_t>(size));
  std::memcpy(data, buffers.in.data() + buffers.in_at, n);
  buffers.in_at += n;
  if (buffers.drained()) {
    std::string().swap(buffers.in);
    buffers.in_at = 0;
  }
  return static_cast<int>(n);
}

long bio_ctrl(BIO* bio, int command, long, void*) {
  const TlsBuffers& buffers = buffers_of(bio);
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
      return static_cast<long>(buffers.in.size() - buffers.in_at);
    case BIO_CTRL_EOF:
      return buffers.at_eof() ? 1 : 0;
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* method() {
  // Made once and kept for the life of the process.
  static BIO_METHOD* const made = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dschat TLS buffers");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return made;
}

}  // namespace

bio_st* buffers_bio(TlsBuffers& buffers) {
  BIO* bio = method() != nullptr ? BIO_new(method()) : nullptr;
  if (bio != nullptr) BIO_set_data(bio, &buffers);
  return bio;
}

}  // namespace dschat
