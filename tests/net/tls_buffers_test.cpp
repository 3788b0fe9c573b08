#include "net/tls_buffers.hpp"

#include <doctest/doctest.h>
#include <openssl/bio.h>

#include <string>

using dschat::TlsBuffers;

namespace {

/// A BIO over buffers, freed at the end.
struct Bio {
  explicit Bio(TlsBuffers& buffers) : bio(dschat::buffers_bio(buffers)) { REQUIRE(bio != nullptr); }
  ~Bio() { BIO_free(bio); }
  BIO* bio;
};

}  // namespace

TEST_CASE("buffers_bio reads what was fed, in pieces of any size") {
  TlsBuffers buffers;
  Bio bio(buffers);
  const std::string long_word(50, 'w');
  buffers.feed("hello ");
  buffers.feed(long_word);
  CHECK(BIO_pending(bio.bio) == 56);
  CHECK(buffers.in.capacity() > std::string().capacity());
  char data[4] = {};
  std::string read;
  for (int n; (n = BIO_read(bio.bio, data, sizeof data)) > 0;)
    read.append(data, static_cast<std::size_t>(n));
  CHECK(read == "hello " + long_word);
  CHECK(buffers.drained());
  CHECK(buffers.in.capacity() <= std::string().capacity());  // released once drained
  CHECK(BIO_pending(bio.bio) == 0);
}

TEST_CASE("buffers_bio asks to retry when empty, and reports end of file only after eof") {
  TlsBuffers buffers;
  Bio bio(buffers);
  char data[8] = {};
  CHECK(BIO_read(bio.bio, data, sizeof data) == -1);
  CHECK(BIO_should_retry(bio.bio));
  CHECK(BIO_should_read(bio.bio));
  CHECK_FALSE(BIO_eof(bio.bio));

  buffers.feed("ab");
  buffers.eof = true;
  CHECK_FALSE(BIO_eof(bio.bio));  // bytes are still there
  CHECK(BIO_read(bio.bio, data, sizeof data) == 2);
  CHECK_FALSE(BIO_should_retry(bio.bio));
  CHECK(BIO_eof(bio.bio));
  CHECK(BIO_read(bio.bio, data, sizeof data) == 0);
  CHECK_FALSE(BIO_should_retry(bio.bio));
}

TEST_CASE("buffers_bio appends writes to out and flushes at once") {
  TlsBuffers buffers;
  Bio bio(buffers);
  CHECK(BIO_write(bio.bio, "abc", 3) == 3);
  CHECK(BIO_write(bio.bio, "de", 2) == 2);
  CHECK(BIO_flush(bio.bio) == 1);
  CHECK(buffers.out == "abcde");
  CHECK(buffers.in.empty());
}
