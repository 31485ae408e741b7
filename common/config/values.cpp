#include "common/config/values.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>

namespace gthulhu::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t nanoseconds;
};

// Longest suffixes first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 6> kUnits = {{{"ns", 1},
                                         {"us", 1'000},
                                         {"ms", 1'000'000},
                                         {"s", 1'000'000'000},
                                         {"m", 60'000'000'000},
                                         {"h", 3'600'000'000'000}}};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<bool> parse_bool(std::string_view text) {
  std::string t = lower(text);
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  // from_chars takes no '+', but people write "+5".
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) {
      return std::nullopt;
    }
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds::zero();
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    std::int64_t count = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + digits, count);
    if (ec != std::errc()) return std::nullopt;
    text.remove_prefix(digits);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(0, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    text.remove_prefix(unit->suffix.size());
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    if (count > (kMax - total) / unit->nanoseconds) return std::nullopt;
    total += count * unit->nanoseconds;
  }
  return std::chrono::nanoseconds(total);
}

std::string format_duration(std::chrono::nanoseconds d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0";
  if (ns < 0) return std::to_string(ns) + "ns";  // never parsed back; shows the bug
  std::string out;
  if (ns % 1'000'000'000 == 0) {
    // Whole seconds read best as Go writes them: "1h30m", "2m", "45s".
    for (std::string_view suffix : {"h", "m", "s"}) {
      const Unit& u = *std::find_if(kUnits.begin(), kUnits.end(),
                                    [&](const Unit& x) { return x.suffix == suffix; });
      if (ns >= u.nanoseconds) {
        out += std::to_string(ns / u.nanoseconds) + std::string(suffix);
        ns %= u.nanoseconds;
      }
    }
    return out;
  }
  // Otherwise one exact sub-second unit: "1500ms" rather than "1s500ms".
  for (std::string_view suffix : {"ms", "us", "ns"}) {
    const Unit& u = *std::find_if(kUnits.begin(), kUnits.end(),
                                  [&](const Unit& x) { return x.suffix == suffix; });
    if (ns % u.nanoseconds == 0) return std::to_string(ns / u.nanoseconds) + std::string(suffix);
  }
  return out;  // unreachable: every count is a whole number of ns
}

}  // namespace gthulhu::config
