// An flock(2) on a lock file, held for the life of the object: serialises
// work on a shared directory across threads and processes (each FileLock
// opens its own descriptor, so two in one process exclude each other too).
// The lock file is created if missing (0644), opened close-on-exec and
// never through a symlink (O_NOFOLLOW): a link planted where the lock file
// goes makes the lock fail rather than touch its target.
#ifndef SLIPWAY_UTIL_FILE_LOCK_H_
#define SLIPWAY_UTIL_FILE_LOCK_H_

#include <string>

#include "util/status.h"
#include "util/unique_fd.h"

namespace slipway {

class FileLock {
 public:
  // operation: LOCK_SH or LOCK_EX; waits for the lock (EINTR retried).
  FileLock(const std::string& path, int operation);
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // Ok when the lock is held; else why not ("cannot open lock PATH: ...",
  // "cannot lock PATH: ...").
  Status status() const { return error_.empty() ? Status::Ok() : Status::Error(error_); }

 private:
  UniqueFd fd_;  // Closing it releases the lock.
  std::string error_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_FILE_LOCK_H_
