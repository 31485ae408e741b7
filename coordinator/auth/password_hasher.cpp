#include "coordinator/auth/password_hasher.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace gthulhu::coordinator {

namespace {
constexpr std::uint32_t kSaltBytes = 16;
constexpr std::uint32_t kHashBytes = 32;
}  // namespace

class PasswordHasher::Slot {
 public:
  explicit Slot(const PasswordHasher& h) : h_(h) {
    std::unique_lock lock(h_.mu_);
    h_.cv_.wait(lock, [&] { return h_.running_ < h_.params_.max_concurrent; });
    ++h_.running_;
  }
  ~Slot() {
    {
      std::lock_guard lock(h_.mu_);
      --h_.running_;
    }
    h_.cv_.notify_one();
  }

 private:
  const PasswordHasher& h_;
};

PasswordHasher::PasswordHasher(Argon2Params params) : params_(params) {
  if (params_.iterations < ARGON2_MIN_TIME || params_.parallelism < 1 ||
      params_.parallelism > ARGON2_MAX_LANES || params_.memory_kib < 8 * params_.parallelism ||
      params_.max_concurrent < 1) {
    throw std::invalid_argument(
        "Argon2 parameters: need iterations >= 1, 1 <= parallelism <= 2^24-1, memory_kib "
        ">= 8 * parallelism, max_concurrent >= 1");
  }
  dummy_hash_ = hash("gthulhu timing equaliser");
}

std::string PasswordHasher::hash(const std::string& password) const {
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) throw std::runtime_error("RAND_bytes failed");
  const size_t len = argon2_encodedlen(params_.iterations, params_.memory_kib,
                                       params_.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(len + 1, '\0');
  int rc;
  {
    Slot slot(*this);
    rc = argon2id_hash_encoded(params_.iterations, params_.memory_kib, params_.parallelism,
                               password.data(), password.size(), salt, sizeof salt, kHashBytes,
                               encoded.data(), encoded.size());
  }
  if (rc != ARGON2_OK) {
    throw std::runtime_error(std::string("argon2id hashing failed: ") + argon2_error_message(rc));
  }
  return std::string(encoded.data());
}

bool PasswordHasher::verify(const std::string& password, const std::string& phc) const {
  if (phc.rfind("$argon2id$", 0) != 0) return false;
  Slot slot(*this);
  return argon2id_verify(phc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void PasswordHasher::burn_verify(const std::string& password) const {
  (void)verify(password, dummy_hash_);
}

bool PasswordHasher::needs_rehash(const std::string& phc) const {
  const std::string want = "$argon2id$v=19$m=" + std::to_string(params_.memory_kib) +
                           ",t=" + std::to_string(params_.iterations) +
                           ",p=" + std::to_string(params_.parallelism) + "$";
  return phc.rfind(want, 0) != 0;
}

}  // namespace gthulhu::coordinator
