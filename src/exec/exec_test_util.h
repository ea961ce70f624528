// Helpers for the exec tests: temporary directories and shell one-liners
// to set up repositories. Test-only; not part of the engine.
#ifndef SLIPWAY_EXEC_EXEC_TEST_UTIL_H_
#define SLIPWAY_EXEC_EXEC_TEST_UTIL_H_

#include <stdlib.h>

#include <string>

#include "exec/file_tree.h"

namespace slipway {

// A directory under /tmp removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/slipway-test-XXXXXX";
    path_ = mkdtemp(name) != nullptr ? name : "";
  }
  ~TempDir() { (void)RemoveTree(path_); }
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
      "GIT_COMMITTER_EMAIL=t@t bash -e -s >/dev/null 2>&1 <<'SLIPWAY_TEST_EOF'\n" + script +
      "\nSLIPWAY_TEST_EOF\n";
  return system(command.c_str());
}

inline std::string Slurp(const std::string& path) {
  StatusOr<std::string> content = ReadFile(path);
  return content.ok() ? *content : "<missing>";
}

}  // namespace slipway

#endif  // SLIPWAY_EXEC_EXEC_TEST_UTIL_H_
