#pragma once
// Reads an INI file with inih, keeping the line number of every entry so errors can
// say "file:line". inih on its own reports only the first bad line, silently splits
// lines longer than its 200-byte buffer into two, and treats any indented line after
// a key as a continuation of that key's value; this reader surfaces all of that.
#include <filesystem>
#include <string>
#include <vector>

namespace gthulhu::config {

struct IniEntry {
  std::string section;
  std::string name;
  std::string value;
  int line = 0;
  // An indented line that inih appended to the previous key (its `value` is just this
  // line's text). Only multi-line values (PEM) may use continuations.
  bool continuation = false;
};

struct IniFile {
  std::vector<IniEntry> entries;      // in file order
  std::vector<std::string> errors;    // "path:line: what is wrong", or "path: ..."
};

inline constexpr std::size_t kMaxIniFileBytes = 1 << 20;

IniFile read_ini_file(const std::filesystem::path& path);

// The same, from text in memory; `origin` names it in errors.
IniFile parse_ini_text(const std::string& text, const std::string& origin);

}  // namespace gthulhu::config
