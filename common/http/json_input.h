#pragma once
// Reading a client's JSON safely, shared by both servers. A wrong value in a request is
// the client's fault: it must come back as 400/422 naming the field, never as a 500,
// and never with the JSON library's exception ids ("[json.exception.type_error.302]").
//
// Readers throw InputError; the HTTP server (server.cpp) renders any InputError that
// leaves a handler as the error envelope with its status, so a handler needs no
// try/catch of its own.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gthulhu::http {

struct InputError : std::runtime_error {
  InputError(int status_code, const std::string& message)
      : std::runtime_error(message), status(status_code) {}
  int status;  // 400 (wrong type, malformed) or 422 (well-formed, invalid value)
};

[[noreturn]] void bad_input(int status, const std::string& message);

// The library's message without its "[json.exception.<kind>.<id>] " prefix and without
// the raw bytes it quotes ("last read: ..."), which may be invalid UTF-8.
std::string describe_json_exception(const nlohmann::json::exception& e);

// Typed readers of one member of a JSON object. Absent or null -> nullopt; `obj` not
// an object -> nullopt; present with another type -> InputError 400 "<name> must be a
// <type>". Integers out of the int64 range -> InputError 422 naming the value as sent.
std::optional<std::string> optional_string(const nlohmann::json& obj, std::string_view name);
std::optional<bool> optional_bool(const nlohmann::json& obj, std::string_view name);
std::optional<std::int64_t> optional_int(const nlohmann::json& obj, std::string_view name);

// An integer JSON value as int64 (whole floats like 5.0 accepted, as Go's decoder does);
// InputError naming `name` otherwise.
std::int64_t as_int64(const nlohmann::json& v, std::string_view name);

}  // namespace gthulhu::http
