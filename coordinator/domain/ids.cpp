#include <openssl/rand.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

std::string new_id() {
  unsigned char bytes[12];
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  const auto s = static_cast<std::uint32_t>(seconds);
  bytes[0] = static_cast<unsigned char>(s >> 24);
  bytes[1] = static_cast<unsigned char>(s >> 16);
  bytes[2] = static_cast<unsigned char>(s >> 8);
  bytes[3] = static_cast<unsigned char>(s);
  if (RAND_bytes(bytes + 4, 8) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(24);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

bool is_valid_id(const std::string& id) {
  if (id.size() != 24) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace gthulhu::coordinator
