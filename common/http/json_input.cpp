#include "common/http/json_input.h"

#include <cmath>
#include <limits>

namespace gthulhu::http {

using json = nlohmann::json;

void bad_input(int status, const std::string& message) { throw InputError(status, message); }

std::string describe_json_exception(const json::exception& e) {
  std::string m = e.what();
  if (m.rfind("[json.exception.", 0) == 0) {
    const auto close = m.find("] ");
    if (close != std::string::npos) m.erase(0, close + 2);
  }
  // The lexer quotes the offending input; it may be invalid UTF-8 or huge.
  if (const auto at = m.find("; last read:"); at != std::string::npos) m.erase(at);
  return m;
}

namespace {
const json* member(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}
}  // namespace

std::optional<std::string> optional_string(const json& obj, std::string_view name) {
  const json* v = member(obj, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) bad_input(400, std::string(name) + " must be a string");
  return v->get<std::string>();
}

std::optional<bool> optional_bool(const json& obj, std::string_view name) {
  const json* v = member(obj, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) bad_input(400, std::string(name) + " must be a boolean");
  return v->get<bool>();
}

std::int64_t as_int64(const json& v, std::string_view name) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    // get<int64_t>() would wrap 9223372036854775808 to its negative: name it as sent.
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      bad_input(422, std::string(name) + ": " + std::to_string(u) + " is out of range");
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d)) {
      if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        return static_cast<std::int64_t>(d);
      }
      bad_input(422, std::string(name) + ": " + v.dump() + " is out of range");
    }
  }
  bad_input(400, std::string(name) + " must be an integer");
}

std::optional<std::int64_t> optional_int(const json& obj, std::string_view name) {
  const json* v = member(obj, name);
  if (v == nullptr) return std::nullopt;
  return as_int64(*v, name);
}

}  // namespace gthulhu::http
