#include "tests/support/temp_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <system_error>
#include <vector>

namespace gthulhu::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "gthulhu-test-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& contents) const {
  std::filesystem::path file = path_ / name;
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out) throw std::system_error(errno, std::generic_category(), "write " + file.string());
  }
  ::chmod(file.c_str(), 0600);
  return file;
}

}  // namespace gthulhu::test
