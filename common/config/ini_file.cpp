#include "common/config/ini_file.h"

#include <ini.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace gthulhu::config {
namespace {

enum class LineKind { Ignorable, Section, Entry };

LineKind classify(std::string_view line) {
  size_t start = line.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return LineKind::Ignorable;
  char first = line[start];
  if (first == ';' || first == '#') return LineKind::Ignorable;
  if (first == '[' && line.find(']', start) != std::string_view::npos) return LineKind::Section;
  return LineKind::Entry;
}

struct ParseState {
  std::string_view text;
  size_t offset = 0;
  int line = 0;  // the line inih is handling: the last one handed to it
  std::string origin;
  IniFile result;
  std::set<int> handled_lines;
  std::set<int> entry_lines;
  std::string current_raw;
  bool section_since_entry = false;  // inih forgets the previous key at a [section]
};

std::string at(const ParseState& s, int line) { return s.origin + ":" + std::to_string(line); }

// inih's line source. It hands inih one physical line at a time, so `line` always
// names the line a handler call is about.
char* next_line(char* buffer, int size, void* user) {
  auto& s = *static_cast<ParseState*>(user);
  if (s.offset >= s.text.size()) return nullptr;
  size_t end = s.text.find('\n', s.offset);
  size_t next = end == std::string_view::npos ? s.text.size() : end + 1;
  std::string_view raw = s.text.substr(s.offset, next - s.offset);
  s.offset = next;
  ++s.line;
  s.current_raw = std::string(raw);
  // inih's buffer holds size - 1 bytes including the newline; a longer line would be
  // split and its tail parsed as a line of its own.
  if (raw.size() + 1 > static_cast<size_t>(size)) {
    s.result.errors.push_back(at(s, s.line) + ": line is longer than " +
                              std::to_string(size - 2) + " characters");
    std::strcpy(buffer, ";\n");  // inih sees a comment; the error is already recorded
    return buffer;
  }
  LineKind kind = classify(raw);
  if (kind == LineKind::Entry) s.entry_lines.insert(s.line);
  if (kind == LineKind::Section) s.section_since_entry = true;
  std::memcpy(buffer, raw.data(), raw.size());
  buffer[raw.size()] = '\0';
  return buffer;
}

int on_entry(void* user, const char* section, const char* name, const char* value) {
  auto& s = *static_cast<ParseState*>(user);
  IniEntry entry{section, name, value, s.line, false};
  bool indented = !s.current_raw.empty() && (s.current_raw[0] == ' ' || s.current_raw[0] == '\t');
  if (indented && !s.section_since_entry && !s.result.entries.empty()) {
    const IniEntry& previous = s.result.entries.back();
    entry.continuation = previous.section == entry.section && previous.name == entry.name;
  }
  s.section_since_entry = false;
  s.handled_lines.insert(s.line);
  s.result.entries.push_back(std::move(entry));
  return 1;
}

}  // namespace

IniFile parse_ini_text(const std::string& text, const std::string& origin) {
  ParseState s;
  s.text = text;
  s.origin = origin;
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (s.text.substr(0, kBom.size()) == kBom) s.offset = kBom.size();
  if (text.find('\0') != std::string::npos) {
    s.result.errors.push_back(origin + ": contains a NUL byte; not a text file");
    return std::move(s.result);
  }
  int rc = ini_parse_stream(next_line, &s, on_entry, &s);
  if (rc == -2) {
    s.result.errors.push_back(origin + ": out of memory while parsing");
    return std::move(s.result);
  }
  for (int line : s.entry_lines) {
    if (s.handled_lines.count(line) == 0) {
      s.result.errors.push_back(at(s, line) +
                                ": cannot parse line (expected 'key = value', '[section]' "
                                "or a ';' / '#' comment)");
    }
  }
  if (rc > 0 && s.result.errors.empty()) {
    s.result.errors.push_back(at(s, rc) + ": syntax error");
  }
  return std::move(s.result);
}

IniFile read_ini_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    IniFile failed;
    failed.errors.push_back("config file " + path.string() + ": is a directory");
    return failed;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    IniFile failed;
    failed.errors.push_back("config file " + path.string() + ": " + std::strerror(errno));
    return failed;
  }
  std::string text;
  text.resize(kMaxIniFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxIniFileBytes) {
    IniFile failed;
    failed.errors.push_back("config file " + path.string() + ": larger than " +
                            std::to_string(kMaxIniFileBytes) + " bytes");
    return failed;
  }
  if (in.bad()) {
    IniFile failed;
    failed.errors.push_back("config file " + path.string() + ": read error");
    return failed;
  }
  return parse_ini_text(text, path.string());
}

}  // namespace gthulhu::config
