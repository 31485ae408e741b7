// The web UI as the coordinator serves it: files with their types and cache headers,
// SPA routes falling back to index.html, nothing outside the UI directory, the
// security headers, and the API left exactly as it was.
#include <gtest/gtest.h>

#include <filesystem>

#include "coordinator/web/security_headers.h"
#include "coordinator/web/static_files.h"
#include "tests/unit/coordinator_harness.h"

namespace gthulhu::test {
namespace {

namespace fs = std::filesystem;
using coordinator::StaticFiles;

const char* kIndex = "<!doctype html><title>Gthulhu</title><script type=\"module\" src=\"/assets/index-abc123.js\"></script>";

std::string header(const http::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

class UiDir {
 public:
  UiDir() {
    fs::create_directories(dir_.path() / "ui" / "assets");
    write("ui/index.html", kIndex);
    write("ui/assets/index-abc123.js", "console.log(1)");
    write("ui/assets/index-abc123.css", "body{}");
    write("ui/favicon.svg", "<svg/>");
    write("secret.txt", "not for you");
    fs::create_symlink(dir_.path() / "secret.txt", root() / "assets" / "link.js");
  }
  fs::path root() const { return dir_.path() / "ui"; }
  void write(const std::string& rel, const std::string& text) const { dir_.write(rel, text); }

 private:
  TempDir dir_;
};

TEST(StaticFiles, ServesIndexAtTheRootAndForEverySpaRoute) {
  UiDir ui;
  StaticFiles files(ui.root());
  for (const char* path : {"/", "/login", "/strategies", "/strategies/new", "/strategies/abc/edit",
                           "/pods/0a0a0a0a-0000-0000-0000-000000000001", "/admin/users"}) {
    auto r = files.serve(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, kIndex) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache") << path;
    EXPECT_EQ(header(r, "Content-Security-Policy"), coordinator::kUiContentSecurityPolicy) << path;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(header(r, "X-Frame-Options"), "DENY") << path;
  }
}

TEST(StaticFiles, HashedAssetsAreImmutableWithTheirContentType) {
  UiDir ui;
  StaticFiles files(ui.root());
  auto js = files.serve("/assets/index-abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(files.serve("/assets/index-abc123.css").content_type, "text/css; charset=utf-8");
  auto icon = files.serve("/favicon.svg");
  EXPECT_EQ(icon.content_type, "image/svg+xml");
  EXPECT_EQ(header(icon, "Cache-Control"), "no-cache");
}

TEST(StaticFiles, MissingAssetsAreNotFoundNotIndexHtml) {
  UiDir ui;
  StaticFiles files(ui.root());
  auto r = files.serve("/assets/index-gone.js");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(files.serve("/robots.txt").status, 404);
}

TEST(StaticFiles, NothingOutsideTheDirectoryIsServed) {
  UiDir ui;
  StaticFiles files(ui.root());
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/assets/link.js",
                           "/admin/..%2f..%2fsecret.txt", "/assets/..\\..\\secret.txt"}) {
    auto r = files.serve(path);
    EXPECT_EQ(r.body.find("not for you"), std::string::npos) << path;
  }
  EXPECT_EQ(files.serve("/assets/link.js").status, 404);
}

TEST(StaticFiles, WithoutABuiltUiEverythingIs404) {
  TempDir empty;
  EXPECT_EQ(StaticFiles(empty.path()).serve("/").status, 404);
  EXPECT_EQ(StaticFiles("").serve("/strategies").status, 404);
}

TEST(CoordinatorWeb, ServesTheUiAndLeavesTheApiUntouched) {
  UiDir ui;
  CoordinatorHarness h({{"GTHULHU_UI_DIRECTORY", ui.root().string()}});
  auto root = h.call("GET", "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.raw, kIndex);
  EXPECT_EQ(root.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(root.headers["content-security-policy"], coordinator::kUiContentSecurityPolicy);
  EXPECT_EQ(h.call("GET", "/nodes").raw, kIndex);
  EXPECT_EQ(h.call("GET", "/assets/index-abc123.js").headers["cache-control"],
            "public, max-age=31536000, immutable");

  // The API and the system routes answer as before, JSON and no UI fallback.
  auto unknown = h.call("GET", "/api/v1/nothing-here");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_FALSE(unknown.body.value("success", true));
  EXPECT_EQ(h.call("POST", "/api/v1/nothing-here", json::object()).status, 404);
  EXPECT_EQ(h.call("GET", "/api/v1/strategies/self").status, 401);
  EXPECT_EQ(h.call("GET", "/health").body.value("status", ""), "healthy");
  EXPECT_EQ(h.call("GET", "/swagger/").headers["content-type"].rfind("text/html", 0), 0u);
  EXPECT_EQ(h.call("GET", "/swagger/").headers.count("content-security-policy"), 0u);
  // Only GET (and HEAD) reach the UI.
  EXPECT_EQ(h.call("POST", "/strategies", json::object()).status, 405);
}

}  // namespace
}  // namespace gthulhu::test
