#include "common/crypto/openssl_ptr.h"

#include <openssl/err.h>

#include <climits>
#include <new>
#include <stdexcept>

namespace gthulhu::crypto {

BioPtr memory_bio(const std::string& text) {
  if (text.size() > static_cast<size_t>(INT_MAX)) {
    throw std::length_error("PEM text too large");
  }
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw std::bad_alloc();
  return bio;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

std::string take_openssl_error(const std::string& fallback) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace gthulhu::crypto
