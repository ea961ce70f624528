#include "util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>

namespace slipway {

FileLock::FileLock(const std::string& path, int operation)
    : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) {
  if (!fd_.valid()) {
    error_ = "cannot open lock " + path + ": " + std::strerror(errno);
    return;
  }
  while (flock(fd_.get(), operation) != 0) {
    if (errno != EINTR) {
      error_ = "cannot lock " + path + ": " + std::strerror(errno);
      return;
    }
  }
}

}  // namespace slipway
