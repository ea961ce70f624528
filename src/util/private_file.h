// Files that hold a secret (the secrets key, a TLS private key) must be
// regular files readable by their owner only.
#ifndef SLIPWAY_UTIL_PRIVATE_FILE_H_
#define SLIPWAY_UTIL_PRIVATE_FILE_H_

#include <string>

#include "util/status.h"

namespace slipway {

// Checks the file open at fd: an error naming `what` ("the secrets key file
// '/x'", "--tls-key /x") when it is not a regular file or when its group or
// others have any permission on it.
Status CheckPrivateFile(int fd, const std::string& what);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_PRIVATE_FILE_H_
