#include "util/private_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace slipway {

Status CheckPrivateFile(int fd, const std::string& what) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Status::Error(what + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status::Error(what + " is not a file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::Error(what + " has mode " + mode +
                         ": others than its owner may read it; chmod 600 it (and consider the "
                         "key known)");
  }
  return Status::Ok();
}

}  // namespace slipway
