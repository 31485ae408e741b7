#pragma once
// The bearer token sent to the API server. A service-account token in a pod is a
// projected file the kubelet rewrites before it expires (about hourly), so a token that
// came from a file is re-read from it periodically, as client-go does; a token given
// inline is used as is.
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

namespace gthulhu::coordinator::kube {

class BearerToken {
 public:
  using Clock = std::chrono::steady_clock;
  BearerToken(std::string initial, std::filesystem::path file, std::chrono::seconds refresh);

  // The token to send now ("" = none). Re-reads the file when `refresh` has passed since
  // the last read; a failed read keeps the previous token and logs a warning once.
  std::string current();

 private:
  std::mutex mu_;
  std::string token_;
  std::filesystem::path file_;
  std::chrono::seconds refresh_;
  Clock::time_point last_read_;
  bool warned_ = false;
};

}  // namespace gthulhu::coordinator::kube
