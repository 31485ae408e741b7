#pragma once
// The text forms of typed configuration values, shared by the INI file and the
// environment so both accept exactly the same spellings.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gthulhu::config {

// true/false, yes/no, on/off, 1/0; any letter case.
std::optional<bool> parse_bool(std::string_view text);

// A decimal integer with an optional sign; nothing else (no spaces, no "0x", no "1e3").
std::optional<std::int64_t> parse_int(std::string_view text);

// One or more <integer><unit> parts with units ns, us, ms, s, m, h, as in Go:
// "500ms", "5s", "2m", "1h30m". A bare "0" is zero. Negative or overflowing -> nullopt.
// A bare number other than 0 is refused: "5" could mean seconds or milliseconds.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

// The shortest text parse_duration reads back as `d` ("1h30m", "250ms", "0").
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace gthulhu::config
