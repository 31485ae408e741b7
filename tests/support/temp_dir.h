#pragma once
// A private temporary directory that is removed with everything in it when the object
// goes out of scope, so tests leave nothing behind under /tmp.
#include <filesystem>
#include <string>

namespace gthulhu::test {

class TempDir {
 public:
  TempDir();  // throws std::system_error if mkdtemp fails
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `contents` to path()/name (mode 0600) and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& contents) const;

 private:
  std::filesystem::path path_;
};

}  // namespace gthulhu::test
