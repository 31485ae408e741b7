#pragma once
// The declaration of every configuration key a program understands. Each key is
// declared once, here, with its type, default and description; parsing, environment
// variable names, validation and the documentation table all derive from that one
// declaration, so documentation cannot drift from the code.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace gthulhu::config {

enum class KeyType {
  String,
  Int,       // decimal, within [min, max]
  Bool,      // true/false, yes/no, on/off, 1/0
  Duration,  // "500ms", "5s", "2m", "1h30m"
  Path,      // a filesystem path, used as given (relative to the working directory)
  Pem,       // inline PEM text, or the path of a file holding it (read at load time)
};

std::string_view type_name(KeyType type);

struct KeySpec {
  std::string section;  // [section] in the INI file; may be empty for top-level keys
  std::string name;
  KeyType type = KeyType::String;
  std::string default_text;  // in the same syntax as the file; empty = unset
  std::string description;   // one line
  std::int64_t min = std::numeric_limits<std::int64_t>::min();  // Int only
  std::int64_t max = std::numeric_limits<std::int64_t>::max();  // Int only

  // "section.name" (or "name" without a section): how code and messages name the key.
  std::string id() const;
};

class Schema {
 public:
  // Environment variables are <env_prefix>_<SECTION>_<NAME>, upper-cased, every
  // character other than A-Z and 0-9 turned into '_': [server] listen ->
  // GTHULHU_SERVER_LISTEN.
  explicit Schema(std::string env_prefix = "GTHULHU");

  // Declarations throw std::logic_error for a duplicate key, two keys mapping to one
  // environment variable, a malformed name, or a default the type does not accept.
  Schema& add_string(std::string section, std::string name, std::string default_value,
                     std::string description);
  Schema& add_int(std::string section, std::string name, std::int64_t default_value,
                  std::int64_t min, std::int64_t max, std::string description);
  Schema& add_bool(std::string section, std::string name, bool default_value,
                   std::string description);
  Schema& add_duration(std::string section, std::string name,
                       std::chrono::nanoseconds default_value, std::string description);
  Schema& add_path(std::string section, std::string name, std::string default_value,
                   std::string description);
  // PEM keys have no default: they are unset until configured.
  Schema& add_pem(std::string section, std::string name, std::string description);

  const std::vector<KeySpec>& keys() const { return keys_; }
  const KeySpec* find(std::string_view section, std::string_view name) const;
  const KeySpec* find(std::string_view id) const;
  const std::string& env_prefix() const { return env_prefix_; }
  std::string env_var(const KeySpec& key) const;

 private:
  void add(KeySpec key);

  std::string env_prefix_;
  std::vector<KeySpec> keys_;
};

// A Markdown table of every key in declaration order: key, environment variable, type,
// default, description. For the README and `--help-config`.
std::string render_markdown(const Schema& schema);

}  // namespace gthulhu::config
