#include "coordinator/web/static_files.h"

#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "common/http/json_api.h"
#include "common/http/router.h"
#include "coordinator/web/security_headers.h"

namespace gthulhu::coordinator {

namespace fs = std::filesystem;

namespace {

constexpr const char* kImmutable = "public, max-age=31536000, immutable";
constexpr const char* kRevalidate = "no-cache";

http::Response not_found(const std::string& message) {
  auto resp = http::json_error(404, message);
  add_ui_security_headers(resp);
  return resp;
}

bool is_safe_segment(const std::string& seg) {
  return seg != "." && seg != ".." && seg.find('\\') == std::string::npos &&
         seg.find('\0') == std::string::npos;
}

bool starts_with_path(const fs::path& p, const fs::path& prefix) {
  auto pi = p.begin();
  for (auto it = prefix.begin(); it != prefix.end(); ++it, ++pi) {
    if (it->empty()) continue;  // a trailing separator
    if (pi == p.end() || *pi != *it) return false;
  }
  return true;
}

}  // namespace

std::string content_type_for(const fs::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

StaticFiles::StaticFiles(fs::path root) : root_(std::move(root)) {}

fs::path StaticFiles::resolve(const std::string& url_path) const {
  fs::path rel;
  for (const auto& seg : http::split_path(url_path)) {
    if (!is_safe_segment(seg)) return {};
    rel /= seg;
  }
  if (rel.empty()) return {};
  std::error_code ec;
  const fs::path root = fs::canonical(root_, ec);
  if (ec) return {};
  const fs::path file = fs::canonical(root / rel, ec);
  if (ec || !fs::is_regular_file(file, ec) || !starts_with_path(file, root)) return {};
  return file;
}

http::Response StaticFiles::file_response(const fs::path& file, const char* cache_control) const {
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found("not found");
  std::ostringstream body;
  body << in.rdbuf();
  http::Response resp;
  resp.status = 200;
  resp.body = body.str();
  resp.content_type = content_type_for(file);
  resp.with_header("Cache-Control", cache_control);
  add_ui_security_headers(resp);
  return resp;
}

http::Response StaticFiles::serve(const std::string& url_path) const {
  const fs::path index = root_ / "index.html";
  std::error_code ec;
  if (root_.empty() || !fs::is_regular_file(index, ec)) {
    return not_found("the web UI is not installed on this coordinator (see ui.directory)");
  }
  const auto segments = http::split_path(url_path);
  const bool asset = !segments.empty() && segments.front() == "assets";
  if (fs::path file = resolve(url_path); !file.empty()) {
    return file_response(file, asset ? kImmutable : kRevalidate);
  }
  if (asset) return not_found("no such asset: " + url_path);
  // A missing file (a name with an extension) is not an SPA route.
  if (!segments.empty() && segments.back().find('.') != std::string::npos) {
    return not_found("not found: " + url_path);
  }
  return file_response(index, kRevalidate);
}

}  // namespace gthulhu::coordinator
