#include "coordinator/kube/bearer_token.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace gthulhu::coordinator::kube {
namespace {

bool read_token(const std::filesystem::path& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  const auto b = s.find_first_not_of(" \t\r\n");
  const auto e = s.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return false;
  out = s.substr(b, e - b + 1);
  return true;
}

}  // namespace

BearerToken::BearerToken(std::string initial, std::filesystem::path file,
                         std::chrono::seconds refresh)
    : token_(std::move(initial)), file_(std::move(file)), refresh_(refresh), last_read_(Clock::now()) {}

std::string BearerToken::current() {
  std::lock_guard lock(mu_);
  if (!file_.empty() && Clock::now() - last_read_ >= refresh_) {
    last_read_ = Clock::now();
    std::string fresh;
    if (read_token(file_, fresh)) {
      token_ = std::move(fresh);
      warned_ = false;
    } else if (!warned_) {
      warned_ = true;
      spdlog::warn("kubernetes: cannot re-read the token file {}; keeping the previous token",
                   file_.string());
    }
  }
  return token_;
}

}  // namespace gthulhu::coordinator::kube
