#include "coordinator/rbac/authorizer.h"

#include <spdlog/spdlog.h>

#include <cctype>

#include "coordinator/api/api_error.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

namespace {

[[noreturn]] void unauthorized(const std::string& message) { fail(401, message); }

// The token inside `header` (a view of it: no copy).
std::string_view bearer_token(const std::string& header) {
  if (header.empty()) unauthorized("Missing Authorization header");
  static constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) unauthorized("Invalid Authorization header format");
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) {
      unauthorized("Invalid Authorization header format");
    }
  }
  size_t start = kScheme.size();
  while (start < header.size() && header[start] == ' ') ++start;
  std::string_view token(header);
  token.remove_prefix(start);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.find(' ') != std::string_view::npos) {
    unauthorized("Invalid Authorization header format");
  }
  return token;
}

}  // namespace

std::shared_ptr<const User> Authorizer::read_user(const std::string& id) const {
  if (users_ != nullptr) {
    auto cached = users_->cached_user(id);
    if (cached.ok()) return std::move(cached).value();
    if (cached.code() == StoreErrc::kNotFound) unauthorized("user not found");
    fail_store(cached.error());
  }
  auto user = store_.get_user(id);
  if (!user.ok()) {
    if (user.code() == StoreErrc::kNotFound) unauthorized("user not found");
    fail_store(user.error());
  }
  return std::make_shared<const User>(std::move(user).value());
}

Principal Authorizer::authorize(const std::string& header, const std::string& permission) const {
  const std::string_view token = bearer_token(header);
  auto v = tokens_.verify_access(token);
  if (!v.ok) {
    spdlog::debug("token refused: {}", v.error);
    if (v.error == "invalid token type") unauthorized("invalid token type");
    unauthorized("invalid or expired token");
  }
  Principal p{read_user(v.claims.uid), false};
  if (p.user->token_version != v.claims.token_version) unauthorized("token revoked");
  if (p.user->status == UserStatus::kInactive) unauthorized("user is inactive");
  const bool is_password_change = permission == perm::kUserPasswordChange;
  if (p.user->status == UserStatus::kWaitChangePassword && !is_password_change) {
    fail(403, "password change required");
  }
  if (permission.empty() || is_password_change) return p;

  bool granted = false;
  bool any_unscoped = false;
  for (const auto& grants : grants_of(p.user->roles)) {
    auto it = grants->find(permission);
    if (it == grants->end()) continue;
    granted = true;
    if (it->second) any_unscoped = true;
  }
  if (!granted) fail(403, "permission denied");
  p.self_only = !any_unscoped;
  return p;
}

void Authorizer::invalidate_roles() const {
  std::lock_guard lock(mu_);
  roles_.clear();
  ++generation_;
}

std::vector<Authorizer::SharedGrants> Authorizer::grants_of(const std::vector<std::string>& names) const {
  const auto now = std::chrono::steady_clock::now();
  std::vector<SharedGrants> out;
  out.reserve(names.size());
  std::vector<std::string> missing;
  std::uint64_t generation;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
    for (const auto& name : names) {
      auto it = roles_.find(name);
      if (it != roles_.end() && now - it->second.fetched < role_cache_ttl_) {
        out.push_back(it->second.grants);
      } else {
        missing.push_back(name);
      }
    }
  }
  if (missing.empty()) return out;
  auto roles = unwrap(store_.get_roles_by_names(missing));
  std::unordered_map<std::string, Grants> fetched;
  for (const auto& name : missing) fetched[name];  // absent roles grant nothing
  for (const auto& role : roles) {
    Grants& g = fetched[role.name];
    for (const auto& policy : role.policies) g[policy.permission_key] |= !policy.self;
  }
  std::lock_guard lock(mu_);
  const bool keep = role_cache_ttl_.count() > 0 && generation == generation_;
  if (keep && roles_.size() > 10000) roles_.clear();  // bound memory (names are few)
  for (auto& [name, grants] : fetched) {
    auto shared = std::make_shared<const Grants>(std::move(grants));
    out.push_back(shared);
    if (keep) roles_[name] = CachedRole{std::move(shared), now};
  }
  return out;
}

}  // namespace gthulhu::coordinator
