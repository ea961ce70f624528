// Helpers for tests: temporary directories and shell one-liners
// to set up repositories. Test-only; not part of the engine.
#ifndef SLIPWAY_UTIL_TEST_DIR_H_
#define SLIPWAY_UTIL_TEST_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace slipway {

// A directory under /tmp removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/slipway-test-XXXXXX";
    path_ = mkdtemp(name) != nullptr ? name : "";
  }
  // Directories a job left read-only are made writable first.
  ~TempDir() {
    if (path_.empty()) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    for (fs::recursive_directory_iterator
             it(path_, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
      }
    }
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Runs a bash script in dir (with git identity set for commits); returns the
// exit code.
inline int Sh(const std::string& dir, const std::string& script) {
  std::string command =
      "cd '" + dir +
      "' && GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t "
      "GIT_COMMITTER_EMAIL=t@t bash -e -s >/dev/null 2>&1 <<'SLIPWAY_TEST_EOF'\n" +
      script + "\nSLIPWAY_TEST_EOF\n";
  return system(command.c_str());
}

// The whole file, or "<missing>".
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<missing>";
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace slipway

#endif  // SLIPWAY_UTIL_TEST_DIR_H_
