#include "common/config/schema.h"

#include <cctype>
#include <stdexcept>

#include "common/config/values.h"

namespace gthulhu::config {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string env_part(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

std::string type_column(const KeySpec& key) {
  std::string out(type_name(key.type));
  if (key.type != KeyType::Int) return out;
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (key.min != kMin && key.max != kMax) {
    out += " (" + std::to_string(key.min) + ".." + std::to_string(key.max) + ")";
  } else if (key.min != kMin) {
    out += " (>= " + std::to_string(key.min) + ")";
  } else if (key.max != kMax) {
    out += " (<= " + std::to_string(key.max) + ")";
  }
  return out;
}

// Table cells must not contain a bare '|' or a line break.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// Appended rather than concatenated: GCC 12 at -O3 reports a false -Wrestrict on
// "`" + std::string + "`".
std::string code(std::string_view text) {
  std::string out = "`";
  out += cell(text);
  out += '`';
  return out;
}

}  // namespace

std::string_view type_name(KeyType type) {
  switch (type) {
    case KeyType::String: return "string";
    case KeyType::Int: return "int";
    case KeyType::Bool: return "bool";
    case KeyType::Duration: return "duration";
    case KeyType::Path: return "path";
    case KeyType::Pem: return "PEM";
  }
  return "?";
}

std::string KeySpec::id() const { return section.empty() ? name : section + "." + name; }

Schema::Schema(std::string env_prefix) : env_prefix_(std::move(env_prefix)) {}

void Schema::add(KeySpec key) {
  if ((!key.section.empty() && !valid_name(key.section)) || !valid_name(key.name)) {
    throw std::logic_error("config key '" + key.id() +
                           "': names are lower-case letters, digits, '_' and '-'");
  }
  if (find(key.section, key.name) != nullptr) {
    throw std::logic_error("config key '" + key.id() + "' is declared twice");
  }
  std::string env = env_var(key);
  for (const KeySpec& other : keys_) {
    if (env_var(other) == env) {
      throw std::logic_error("config keys '" + other.id() + "' and '" + key.id() +
                             "' share the environment variable " + env);
    }
  }
  if (key.description.empty() || key.description.find('\n') != std::string::npos) {
    throw std::logic_error("config key '" + key.id() + "' needs a one-line description");
  }
  keys_.push_back(std::move(key));
}

Schema& Schema::add_string(std::string section, std::string name, std::string default_value,
                           std::string description) {
  add({std::move(section), std::move(name), KeyType::String, std::move(default_value),
       std::move(description)});
  return *this;
}

Schema& Schema::add_int(std::string section, std::string name, std::int64_t default_value,
                        std::int64_t min, std::int64_t max, std::string description) {
  if (min > max || default_value < min || default_value > max) {
    throw std::logic_error("config key '" + section + "." + name +
                           "': default outside [min, max] or min > max");
  }
  KeySpec key{std::move(section), std::move(name), KeyType::Int,
              std::to_string(default_value), std::move(description)};
  key.min = min;
  key.max = max;
  add(std::move(key));
  return *this;
}

Schema& Schema::add_bool(std::string section, std::string name, bool default_value,
                         std::string description) {
  add({std::move(section), std::move(name), KeyType::Bool, default_value ? "true" : "false",
       std::move(description)});
  return *this;
}

Schema& Schema::add_duration(std::string section, std::string name,
                             std::chrono::nanoseconds default_value, std::string description) {
  if (default_value < std::chrono::nanoseconds::zero()) {
    throw std::logic_error("config key '" + section + "." + name + "': negative default");
  }
  add({std::move(section), std::move(name), KeyType::Duration, format_duration(default_value),
       std::move(description)});
  return *this;
}

Schema& Schema::add_path(std::string section, std::string name, std::string default_value,
                         std::string description) {
  add({std::move(section), std::move(name), KeyType::Path, std::move(default_value),
       std::move(description)});
  return *this;
}

Schema& Schema::add_pem(std::string section, std::string name, std::string description) {
  add({std::move(section), std::move(name), KeyType::Pem, "", std::move(description)});
  return *this;
}

const KeySpec* Schema::find(std::string_view section, std::string_view name) const {
  for (const KeySpec& key : keys_) {
    if (key.section == section && key.name == name) return &key;
  }
  return nullptr;
}

const KeySpec* Schema::find(std::string_view id) const {
  for (const KeySpec& key : keys_) {
    if (key.id() == id) return &key;
  }
  return nullptr;
}

std::string Schema::env_var(const KeySpec& key) const {
  std::string out = env_prefix_;
  for (const std::string* part : {&key.section, &key.name}) {
    if (part->empty()) continue;
    if (!out.empty()) out += '_';
    out += env_part(*part);
  }
  return out;
}

std::string render_markdown(const Schema& schema) {
  std::string out =
      "| Key | Environment variable | Type | Default | Description |\n"
      "|-----|----------------------|------|---------|-------------|\n";
  for (const KeySpec& key : schema.keys()) {
    std::string default_cell = key.default_text.empty() ? "(unset)" : code(key.default_text);
    out += "| " + code(key.id()) + " | " + code(schema.env_var(key)) + " | " +
           cell(type_column(key)) + " | " + default_cell + " | " + cell(key.description) +
           " |\n";
  }
  out +=
      "\nEnvironment variables override the file, which overrides the defaults. "
      "bool: true/false, yes/no, on/off or 1/0. "
      "duration: one or more number-and-unit parts, units ns, us, ms, s, m, h "
      "(`500ms`, `5s`, `1h30m`). "
      "PEM: the PEM text itself, or the path of a file holding it.\n";
  return out;
}

}  // namespace gthulhu::config
