#pragma once
// The built web UI (Vite's output: index.html, assets/<name>-<hash>.<ext>, a few
// top-level files) served from a directory:
//   /assets/<file>     the file, "Cache-Control: public, max-age=31536000, immutable"
//                      (names carry a content hash); 404 when absent, never index.html
//   /<existing file>   the file, "Cache-Control: no-cache"
//   anything else      index.html, "Cache-Control: no-cache" (the SPA's own routes)
// Content types by extension; the security headers of security_headers.h on every
// answer. Paths with "..", "." or backslash segments, and files that resolve outside
// the directory (symlinks), are refused with 404. Files are read per request, so a
// rebuilt UI is served without a restart.
#include <filesystem>
#include <string>

#include "common/http/request.h"

namespace gthulhu::coordinator {

// "text/javascript; charset=utf-8" for "x.js", ...; application/octet-stream otherwise.
std::string content_type_for(const std::filesystem::path& file);

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  // The answer to GET `url_path` (the request path without its query string).
  http::Response serve(const std::string& url_path) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  // The file under root_ for url_path, or empty when there is none (or it escapes).
  std::filesystem::path resolve(const std::string& url_path) const;
  http::Response file_response(const std::filesystem::path& file, const char* cache_control) const;

  std::filesystem::path root_;
};

}  // namespace gthulhu::coordinator
