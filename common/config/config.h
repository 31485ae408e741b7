#pragma once
// Program configuration: every key declared once in a Schema, resolved as
//   default  <  INI file  <  environment variable (GTHULHU_<SECTION>_<KEY>)
// and checked as a whole, so one run reports every mistake instead of the first.
//
// File syntax (inih): "[section]" headers, "key = value" (or "key: value"), comments
// start a line with ';' or '#', or follow a value after " ;". Values are not quoted.
// An unknown section or key is an error naming file:line, so a typo cannot silently
// leave a default in force. Only PEM values may continue on indented lines.
//
// PEM keys take either the PEM text itself (anything starting with "-----BEGIN"; in
// an environment variable "\n" escapes stand for line breaks when the value has no
// real ones) or the path of a file holding it, read while loading. No "@" prefix: a
// value is a path exactly when it is not inline PEM.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/schema.h"

namespace gthulhu::config {

using Environment = std::map<std::string, std::string>;

// A snapshot of this process's environment.
Environment process_environment();

// Every problem found while loading, one message per entry; what() lists them all.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> errors);
  const std::vector<std::string>& errors() const noexcept { return errors_; }

 private:
  std::vector<std::string> errors_;
};

class Config {
 public:
  Config() = default;

  // Throws ConfigError if the file is missing or unreadable, has syntax errors, names
  // unknown keys, sets a key twice, or if any value (from file or environment) does not
  // fit its key's type, or a PEM file cannot be read.
  static Config load(const Schema& schema, const std::optional<std::filesystem::path>& file,
                     const Environment& env);

  // Accessors take the key id "section.name". Asking for an undeclared key or with the
  // wrong type is a programming error: std::logic_error.
  const std::string& get_string(std::string_view id) const;
  std::int64_t get_int(std::string_view id) const;
  bool get_bool(std::string_view id) const;
  std::chrono::nanoseconds get_duration(std::string_view id) const;
  // The duration truncated to milliseconds (what timeouts and intervals take).
  std::chrono::milliseconds get_millis(std::string_view id) const;
  std::filesystem::path get_path(std::string_view id) const;
  const std::string& get_pem(std::string_view id) const;  // the PEM text; "" when unset

  // False for a string, path or PEM key whose value is empty.
  bool is_set(std::string_view id) const;
  // Whether the schema declared the key (for code shared by programs whose schemas differ).
  bool declares(std::string_view id) const { return values_.find(id) != values_.end(); }
  // Where the value came from: "default", "<file>:<line>" or "environment variable X".
  const std::string& source(std::string_view id) const;

  // Things worth logging that are not errors, e.g. an environment variable with our
  // prefix that matches no key (a typo there cannot be an error: the environment is
  // shared with other software).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Value {
    KeySpec spec;
    std::string text;  // as configured (for PEM: the inline text or the path)
    std::string source;
    std::int64_t integer = 0;
    bool boolean = false;
    std::chrono::nanoseconds duration{0};
    std::string pem;
  };

  const Value& value(std::string_view id, KeyType type) const;
  void apply_file(const Schema& schema, const std::filesystem::path& file,
                  std::vector<std::string>& errors);
  void apply_environment(const Schema& schema, const Environment& env);

  std::map<std::string, Value, std::less<>> values_;
  std::vector<std::string> warnings_;
};

}  // namespace gthulhu::config
