#include "common/auth/verified_tokens.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace gthulhu::auth {

std::string VerifiedTokens::digest(std::string_view token) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(token.data(), token.size(), out, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool VerifiedTokens::contains(std::string_view token) const {
  if (capacity_ == 0) return false;
  std::string key = digest(token);
  std::lock_guard lock(mutex_);
  return digests_.count(key) != 0;
}

void VerifiedTokens::insert(std::string_view token) {
  if (capacity_ == 0) return;
  std::string key = digest(token);
  std::lock_guard lock(mutex_);
  if (!digests_.insert(key).second) return;
  oldest_first_.push_back(std::move(key));
  while (oldest_first_.size() > capacity_) {
    digests_.erase(oldest_first_.front());
    oldest_first_.pop_front();
  }
}

}  // namespace gthulhu::auth
