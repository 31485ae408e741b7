#pragma once
// Argon2id password hashing (libargon2), stored as a PHC string:
//   $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<b64 salt>$<b64 hash>
// 16-byte random salt, 32-byte hash. Verification reads the parameters from the stored
// string (so hashes made with older parameters keep working) and compares in constant
// time (libargon2's argon2_verify). needs_rehash() tells when a stored hash uses other
// parameters than the configured ones, so a login can upgrade it.
//
// Defaults are the OWASP Password Storage Cheat Sheet's minimum for Argon2id:
// m = 19 MiB (19456 KiB), t = 2, p = 1 (about 50-70 ms on one core here; the previous
// 64 MiB, t = 3 took 4-5x as long). Stored hashes with other parameters keep verifying
// (the PHC string carries them) and are re-hashed on the next successful login. Hashes
// run at most `max_concurrent` at a time so a burst of logins cannot take more than
// max_concurrent x m of memory; the others wait.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace gthulhu::coordinator {

struct Argon2Params {
  std::uint32_t memory_kib = 19 * 1024;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
  unsigned max_concurrent = 2;
};

class PasswordHasher {
 public:
  // Throws std::invalid_argument for parameters libargon2 refuses (m < 8*p, t < 1, p < 1).
  explicit PasswordHasher(Argon2Params params = {});

  // A new PHC string for `password` (fresh random salt). Throws std::runtime_error if
  // hashing fails (out of memory).
  std::string hash(const std::string& password) const;

  // True iff `phc` is an Argon2id PHC string and `password` matches it. Malformed
  // strings are simply false.
  bool verify(const std::string& password, const std::string& phc) const;

  // Spends the same time as a verify of a real hash, for unknown usernames, so timing
  // does not tell whether a user exists.
  void burn_verify(const std::string& password) const;

  bool needs_rehash(const std::string& phc) const;
  const Argon2Params& params() const { return params_; }

 private:
  class Slot;  // counting semaphore over max_concurrent
  Argon2Params params_;
  std::string dummy_hash_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable unsigned running_ = 0;
};

}  // namespace gthulhu::coordinator
