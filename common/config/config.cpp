#include "common/config/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "common/config/ini_file.h"
#include "common/config/pem_value.h"
#include "common/config/values.h"

namespace gthulhu::config {
namespace {

std::string trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(start, end - start + 1));
}

// A value as it may appear in a message: bounded and printable.
std::string shown_value(std::string_view text) {
  constexpr size_t kShown = 60;
  std::string out = "\"";
  for (char c : text.substr(0, kShown)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (text.size() > kShown) out += "...";
  return out + "\"";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                              std::tolower(static_cast<unsigned char>(b[j - 1]))
                                          ? 0
                                          : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean ...?)" for the closest declared key, when one is close.
std::string suggestion(const Schema& schema, std::string_view section, std::string_view name) {
  const KeySpec* best = nullptr;
  size_t best_distance = 3;  // more than two edits is a different word, not a typo
  for (const KeySpec& key : schema.keys()) {
    size_t d = edit_distance(key.section, section) + edit_distance(key.name, name);
    if (d < best_distance) {
      best = &key;
      best_distance = d;
    }
  }
  if (best == nullptr) return {};
  return " (did you mean " + best->id() + "?)";
}

bool section_declared(const Schema& schema, std::string_view section) {
  return std::any_of(schema.keys().begin(), schema.keys().end(),
                     [&](const KeySpec& k) { return k.section == section; });
}

std::string expectation(const KeySpec& key) {
  switch (key.type) {
    case KeyType::Int: {
      constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
      constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
      if (key.min != kMin && key.max != kMax) {
        return "expected an integer from " + std::to_string(key.min) + " to " +
               std::to_string(key.max);
      }
      if (key.min != kMin) return "expected an integer >= " + std::to_string(key.min);
      if (key.max != kMax) return "expected an integer <= " + std::to_string(key.max);
      return "expected an integer";
    }
    case KeyType::Bool:
      return "expected true/false, yes/no, on/off or 1/0";
    case KeyType::Duration:
      return "expected a duration such as 500ms, 5s, 2m or 1h30m (units ns, us, ms, s, m, h)";
    default:
      return "expected a " + std::string(type_name(key.type));
  }
}

std::string join_errors(const std::vector<std::string>& errors) {
  std::string out = "invalid configuration (" + std::to_string(errors.size()) +
                    (errors.size() == 1 ? " problem):" : " problems):");
  for (const std::string& e : errors) out += "\n  " + e;
  return out;
}

}  // namespace

Environment process_environment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

ConfigError::ConfigError(std::vector<std::string> errors)
    : std::runtime_error(join_errors(errors)), errors_(std::move(errors)) {}

void Config::apply_file(const Schema& schema, const std::filesystem::path& file,
                        std::vector<std::string>& errors) {
  IniFile ini = read_ini_file(file);
  errors.insert(errors.end(), ini.errors.begin(), ini.errors.end());
  std::map<std::string, int> first_line;
  Value* last_accepted = nullptr;  // continuation lines extend this one
  for (const IniEntry& entry : ini.entries) {
    std::string where = file.string() + ":" + std::to_string(entry.line);
    const KeySpec* key = schema.find(entry.section, entry.name);
    if (entry.continuation) {
      if (last_accepted != nullptr && last_accepted->spec.type == KeyType::Pem) {
        // "key =" alone on its line, the PEM below it, is a layout people use too.
        if (!last_accepted->text.empty()) last_accepted->text += '\n';
        last_accepted->text += entry.value;
      } else if (key != nullptr && key->type != KeyType::Pem) {
        errors.push_back(where + ": indented line continues the value of " + key->id() +
                         ", but only PEM values may span lines (unindent it if it is a new key)");
      }
      continue;  // a continuation of an unknown or duplicate key was reported already
    }
    last_accepted = nullptr;
    if (key == nullptr) {
      std::string what;
      if (entry.section.empty()) {
        what = "unknown key '" + entry.name + "' outside any [section]";
      } else if (section_declared(schema, entry.section)) {
        what = "unknown key '" + entry.name + "' in section [" + entry.section + "]";
      } else {
        what = "unknown section [" + entry.section + "] (key '" + entry.name + "')";
      }
      errors.push_back(where + ": " + what + suggestion(schema, entry.section, entry.name));
      continue;
    }
    auto [seen, inserted] = first_line.emplace(key->id(), entry.line);
    if (!inserted) {
      errors.push_back(where + ": " + key->id() + " is already set on line " +
                       std::to_string(seen->second));
      continue;
    }
    Value& v = values_.find(key->id())->second;
    v.text = entry.value;
    v.source = where;
    last_accepted = &v;
  }
}

void Config::apply_environment(const Schema& schema, const Environment& env) {
  for (const KeySpec& key : schema.keys()) {
    auto found = env.find(schema.env_var(key));
    if (found == env.end()) continue;
    Value& v = values_.find(key.id())->second;
    v.text = key.type == KeyType::String ? found->second : trim(found->second);
    v.source = "environment variable " + found->first;
  }
  if (schema.env_prefix().empty()) return;
  std::string prefix = schema.env_prefix() + "_";
  for (const auto& [name, unused] : env) {
    if (name.rfind(prefix, 0) != 0) continue;
    bool known = std::any_of(schema.keys().begin(), schema.keys().end(),
                             [&](const KeySpec& k) { return schema.env_var(k) == name; });
    if (!known) {
      warnings_.push_back("environment variable " + name + " matches no configuration key");
    }
  }
}

Config Config::load(const Schema& schema, const std::optional<std::filesystem::path>& file,
                    const Environment& env) {
  Config config;
  std::vector<std::string> errors;
  for (const KeySpec& key : schema.keys()) {
    Value v;
    v.spec = key;
    v.text = key.default_text;
    v.source = "default";
    config.values_.emplace(key.id(), std::move(v));
  }
  if (file) config.apply_file(schema, *file, errors);
  config.apply_environment(schema, env);

  for (auto& [id, v] : config.values_) {
    std::string problem;
    switch (v.spec.type) {
      case KeyType::String:
      case KeyType::Path:
        break;
      case KeyType::Int:
        if (auto n = parse_int(v.text); n && *n >= v.spec.min && *n <= v.spec.max) {
          v.integer = *n;
        } else {
          problem = (n ? "out of range, " : "") + expectation(v.spec);
        }
        break;
      case KeyType::Bool:
        if (auto b = parse_bool(v.text)) {
          v.boolean = *b;
        } else {
          problem = expectation(v.spec);
        }
        break;
      case KeyType::Duration:
        if (auto d = parse_duration(v.text)) {
          v.duration = *d;
        } else {
          problem = expectation(v.spec);
        }
        break;
      case KeyType::Pem:
        if (!v.text.empty()) {
          PemValue pem = resolve_pem(v.text);
          // Never echo a PEM value: it may be a private key.
          if (!pem.ok) errors.push_back(v.source + ": " + id + ": " + pem.error);
          v.pem = std::move(pem.pem);
        }
        break;
    }
    if (!problem.empty()) {
      errors.push_back(v.source + ": " + id + " = " + shown_value(v.text) + ": " + problem);
    }
  }
  if (!errors.empty()) throw ConfigError(std::move(errors));
  return config;
}

const Config::Value& Config::value(std::string_view id, KeyType type) const {
  auto found = values_.find(id);
  if (found == values_.end()) {
    throw std::logic_error("config key '" + std::string(id) + "' is not declared");
  }
  if (found->second.spec.type != type) {
    throw std::logic_error("config key '" + std::string(id) + "' is " +
                           std::string(type_name(found->second.spec.type)) + ", not " +
                           std::string(type_name(type)));
  }
  return found->second;
}

const std::string& Config::get_string(std::string_view id) const {
  return value(id, KeyType::String).text;
}
std::int64_t Config::get_int(std::string_view id) const { return value(id, KeyType::Int).integer; }
bool Config::get_bool(std::string_view id) const { return value(id, KeyType::Bool).boolean; }
std::chrono::nanoseconds Config::get_duration(std::string_view id) const {
  return value(id, KeyType::Duration).duration;
}
std::chrono::milliseconds Config::get_millis(std::string_view id) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(get_duration(id));
}
std::filesystem::path Config::get_path(std::string_view id) const {
  return value(id, KeyType::Path).text;
}
const std::string& Config::get_pem(std::string_view id) const {
  return value(id, KeyType::Pem).pem;
}

bool Config::is_set(std::string_view id) const {
  auto found = values_.find(id);
  if (found == values_.end()) {
    throw std::logic_error("config key '" + std::string(id) + "' is not declared");
  }
  return !found->second.text.empty();
}

const std::string& Config::source(std::string_view id) const {
  auto found = values_.find(id);
  if (found == values_.end()) {
    throw std::logic_error("config key '" + std::string(id) + "' is not declared");
  }
  return found->second.source;
}

}  // namespace gthulhu::config
