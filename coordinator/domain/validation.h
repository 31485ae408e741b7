#pragma once
// Validation of what users submit, with messages that name the field and say what is
// allowed. The API answers 422 with every message joined by "; ".
//
//   label selector key   [prefix/]name: prefix a DNS-1123 subdomain (<= 253), name
//                        <= 63 of [A-Za-z0-9_.-] starting and ending alphanumeric
//                        (Kubernetes qualified name)
//   label selector value empty (= the key must exist) or <= 63 like a name
//   namespace            DNS-1123 label: <= 63 of [a-z0-9-], alphanumeric at both ends
//   commandRegex         compiles with RE2 (the dialect of Go's regexp), <= 1024 bytes
//   priority             -20..20 (GTHULHU_PRIORITY_MIN..MAX)
//   executionTime        0 (scheduler default) or 500000..100000000 ns
//                        (GTHULHU_SLICE_MIN_NS..GTHULHU_SLICE_MAX_NS)
//   a strategy selects by at least one label selector or namespace, so a typo cannot
//   put every pod of the cluster under one policy
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/wire/intent.h"
#include "coordinator/domain/types.h"

namespace gthulhu::coordinator {

// The scheduler's own bounds, through the wire contract (never copied).
inline constexpr int kPriorityMin = wire::kPriorityMin;
inline constexpr int kPriorityMax = wire::kPriorityMax;
inline constexpr std::int64_t kExecutionTimeMinNs = wire::kSliceMinNs;
inline constexpr std::int64_t kExecutionTimeMaxNs = wire::kSliceMaxNs;
inline constexpr std::size_t kMaxCommandRegexBytes = 1024;
inline constexpr std::size_t kMaxLabelSelectors = 32;
inline constexpr std::size_t kMaxNamespaces = 64;

struct FieldError {
  std::string field;    // JSON path as the client sent it, e.g. "labelSelectors[1].key"
  std::string message;
};

// "field: message; field: message".
std::string join(const std::vector<FieldError>& errors);

// Characters (code points) of valid UTF-8: what the limits count, like JSON Schema's
// maxLength in the OpenAPI document.
std::size_t utf8_length(std::string_view s);

// Each returns "" when valid, else why not (without the field name).
std::string check_label_key(const std::string& key);
std::string check_label_value(const std::string& value);
std::string check_namespace(const std::string& ns);
std::string check_command_regex(const std::string& regex);

std::vector<FieldError> validate_strategy(const Strategy& strategy);

// Usernames: 1..128 bytes, printable (no control characters), no leading or
// trailing space. (The upstream uses e-mail addresses; any such string works.)
std::string check_username(const std::string& username);

// Role names: 1..64 of [A-Za-z0-9_.-].
std::string check_role_name(const std::string& name);

}  // namespace gthulhu::coordinator
