#include "common/config/pem_value.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace gthulhu::config {
namespace {

constexpr std::string_view kBegin = "-----BEGIN";
constexpr std::string_view kEnd = "-----END";

PemValue failure(std::string why) {
  PemValue out;
  out.error = std::move(why);
  return out;
}

PemValue success(std::string pem) {
  PemValue out;
  out.ok = true;
  out.pem = std::move(pem);
  return out;
}

std::string unescape_newlines(const std::string& text) {
  if (text.find('\n') != std::string::npos) return text;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

PemValue resolve_pem(const std::string& value) {
  if (value.rfind(kBegin, 0) == 0) {
    std::string pem = unescape_newlines(value);
    if (pem.find(kEnd) == std::string::npos) {
      return failure("inline PEM has no -----END line");
    }
    if (pem.back() != '\n') pem += '\n';
    return success(std::move(pem));
  }
  std::filesystem::path path(value);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return failure("PEM file " + value + " is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure("cannot read PEM file " + value + ": " + std::strerror(errno));
  std::string text(kMaxPemFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return failure("cannot read PEM file " + value);
  if (text.size() > kMaxPemFileBytes) {
    return failure("PEM file " + value + " is larger than " + std::to_string(kMaxPemFileBytes) +
                   " bytes");
  }
  if (text.find(kBegin) == std::string::npos) {
    return failure("file " + value + " holds no PEM data (no -----BEGIN line)");
  }
  return success(std::move(text));
}

}  // namespace gthulhu::config
