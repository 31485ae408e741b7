#include "coordinator/domain/validation.h"

#include <re2/re2.h>


namespace gthulhu::coordinator {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Kubernetes "name" part of a qualified name / a label value (non-empty here).
bool is_label_name(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool is_dns1123_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (char c : s) {
    if (!is_lower_alnum(c) && c != '-') return false;
  }
  return true;
}

bool is_dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string part = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!is_dns1123_label(part)) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string join(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.field.empty() ? e.message : e.field + ": " + e.message;
  }
  return out;
}

std::string check_label_key(const std::string& key) {
  if (key.empty()) return "must not be empty";
  std::string name = key;
  const auto slash = key.find('/');
  if (slash != std::string::npos) {
    const std::string prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!is_dns1123_subdomain(prefix)) {
      return "prefix \"" + prefix +
             "\" must be a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', at "
             "most 253 characters)";
    }
  }
  if (!is_label_name(name)) {
    return "name part must be 1-63 characters of [A-Za-z0-9-_.], starting and ending "
           "with an alphanumeric character";
  }
  return {};
}

std::string check_label_value(const std::string& value) {
  if (value.empty()) return {};
  if (!is_label_name(value)) {
    return "must be empty or 1-63 characters of [A-Za-z0-9-_.], starting and ending with "
           "an alphanumeric character";
  }
  return {};
}

std::string check_namespace(const std::string& ns) {
  if (!is_dns1123_label(ns)) {
    return "\"" + ns +
           "\" is not a valid namespace (DNS-1123 label: 1-63 lower-case alphanumerics or "
           "'-', starting and ending with an alphanumeric character)";
  }
  return {};
}

std::string check_command_regex(const std::string& regex) {
  if (regex.size() > kMaxCommandRegexBytes) {
    return "must be at most " + std::to_string(kMaxCommandRegexBytes) + " bytes";
  }
  if (regex.empty()) return {};
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(regex, opts);
  if (!re.ok()) return "invalid regular expression (RE2 syntax): " + re.error();
  return {};
}

std::vector<FieldError> validate_strategy(const Strategy& s) {
  std::vector<FieldError> errors;
  if (!s.strategy_namespace.empty() && !is_dns1123_label(s.strategy_namespace)) {
    errors.push_back({"strategyNamespace", check_namespace(s.strategy_namespace)});
  }
  if (s.label_selectors.size() > kMaxLabelSelectors) {
    errors.push_back({"labelSelectors", "at most " + std::to_string(kMaxLabelSelectors) +
                                            " selectors are allowed"});
  } else {
    // A key may appear twice: selectors are ANDed, so two values of one key match no
    // pod (the preview shows it) and a repeated pair changes nothing. No schema can
    // say "unique by key", and the OpenAPI document is the contract.
    for (size_t i = 0; i < s.label_selectors.size(); ++i) {
      const auto& sel = s.label_selectors[i];
      const std::string at = "labelSelectors[" + std::to_string(i) + "]";
      if (auto m = check_label_key(sel.key); !m.empty()) errors.push_back({at + ".key", m});
      if (auto m = check_label_value(sel.value); !m.empty()) {
        errors.push_back({at + ".value", m});
      }
    }
  }
  if (s.k8s_namespaces.size() > kMaxNamespaces) {
    errors.push_back({"k8sNamespace", "at most " + std::to_string(kMaxNamespaces) +
                                          " namespaces are allowed"});
  } else {
    for (size_t i = 0; i < s.k8s_namespaces.size(); ++i) {
      if (auto m = check_namespace(s.k8s_namespaces[i]); !m.empty()) {
        errors.push_back({"k8sNamespace[" + std::to_string(i) + "]", m});
      }
    }
  }
  if (s.label_selectors.empty() && s.k8s_namespaces.empty()) {
    errors.push_back({"labelSelectors",
                      "a strategy needs at least one label selector or namespace"});
  }
  if (auto m = check_command_regex(s.command_regex); !m.empty()) {
    errors.push_back({"commandRegex", m});
  }
  if (s.priority < kPriorityMin || s.priority > kPriorityMax) {
    errors.push_back({"priority", "must be between " + std::to_string(kPriorityMin) + " and " +
                                      std::to_string(kPriorityMax) + ", got " +
                                      std::to_string(s.priority)});
  }
  if (s.execution_time != 0 &&
      (s.execution_time < kExecutionTimeMinNs || s.execution_time > kExecutionTimeMaxNs)) {
    errors.push_back({"executionTime",
                      "must be 0 (scheduler default) or between " +
                          std::to_string(kExecutionTimeMinNs) + " and " +
                          std::to_string(kExecutionTimeMaxNs) + " ns, got " +
                          std::to_string(s.execution_time)});
  }
  return errors;
}

std::string check_username(const std::string& u) {
  if (u.empty()) return "must not be empty";
  // Characters, as the OpenAPI document's maxLength counts them (the body is valid UTF-8).
  if (utf8_length(u) > 128) return "must be at most 128 characters";
  if (u.front() == ' ' || u.back() == ' ') return "must not start or end with a space";
  for (unsigned char c : u) {
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  }
  return {};
}

std::string check_role_name(const std::string& n) {
  if (n.empty()) return "must not be empty";
  if (n.size() > 64) return "must be at most 64 characters";
  for (char c : n) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') {
      return "must consist of [A-Za-z0-9_.-]";
    }
  }
  return {};
}

}  // namespace gthulhu::coordinator
