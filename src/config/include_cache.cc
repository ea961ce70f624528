#include "config/include_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "util/beneath.h"
#include "util/sha256.h"

namespace slipway {
namespace {

constexpr const char* kVersion = "v1";

// Opens the root (making it, 0700, when missing) refusing a root that is a
// symbolic link or belongs to another user; tightens its mode to 0700.
StatusOr<UniqueFd> OpenRoot(const std::string& root, bool create) {
  if (root.empty()) return Status::Error("no cache directory (neither XDG_CACHE_HOME nor HOME)");
  if (create) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    if (ec) return Status::Error("cannot make the include cache `" + root + "`: " + ec.message());
  }
  UniqueFd fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return Status::Error("cannot open the include cache `" + root + "`: " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || st.st_uid != geteuid()) {
    return Status::Error("the include cache `" + root + "` is not the user's own directory");
  }
  if ((st.st_mode & 077) != 0 && fchmod(fd.get(), 0700) != 0) {
    return Status::Error("cannot make the include cache `" + root +
                         "` private: " + std::strerror(errno));
  }
  return fd;
}

// Opens (making when asked) the directory name below parent, never through
// a link.
UniqueFd SubDirectory(int parent, const std::string& name, bool create) {
  if (create) mkdirat(parent, name.c_str(), 0700);
  BeneathOpen dir = WalkBeneath(parent, name, BeneathKind::kDirectory);
  return dir.result == BeneathOpen::Result::kOk ? std::move(dir.fd) : UniqueFd();
}

}  // namespace

std::string DefaultIncludeCacheDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/slipway/includes";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.cache/slipway/includes";
  return "";
}

std::string IncludeCache::PathOf(std::string_view kind, std::string_view key) const {
  return root_ + "/" + kVersion + "/" + std::string(kind) + "/" + Sha256Hex(key);
}

std::optional<std::string> IncludeCache::Get(std::string_view kind, std::string_view key) const {
  StatusOr<UniqueFd> root = OpenRoot(root_, /*create=*/false);
  if (!root.ok()) return std::nullopt;
  std::string relative = std::string(kVersion) + "/" + std::string(kind) + "/" + Sha256Hex(key);
  BeneathOpen file = WalkBeneath(root->get(), relative, BeneathKind::kFile);
  if (file.result != BeneathOpen::Result::kOk) return std::nullopt;
  std::string content;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(file.fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

StatusOr<std::string> IncludeCache::Directory(std::string_view kind, std::string_view key) const {
  StatusOr<UniqueFd> root = OpenRoot(root_, /*create=*/true);
  if (!root.ok()) return root.status();
  UniqueFd version = SubDirectory(root->get(), kVersion, true);
  UniqueFd group =
      version.valid() ? SubDirectory(version.get(), std::string(kind), true) : UniqueFd();
  UniqueFd dir = group.valid() ? SubDirectory(group.get(), Sha256Hex(key), true) : UniqueFd();
  if (!dir.valid()) {
    return Status::Error("cannot make a directory in the include cache `" + root_ +
                         "` (a symbolic link or a file in the way?)");
  }
  return PathOf(kind, key);
}

Status IncludeCache::Put(std::string_view kind, std::string_view key,
                         std::string_view content) const {
  StatusOr<UniqueFd> root = OpenRoot(root_, /*create=*/true);
  if (!root.ok()) return root.status();
  UniqueFd version = SubDirectory(root->get(), kVersion, true);
  UniqueFd dir =
      version.valid() ? SubDirectory(version.get(), std::string(kind), true) : UniqueFd();
  if (!dir.valid()) {
    return Status::Error("cannot make a directory in the include cache `" + root_ +
                         "` (a symbolic link or a file in the way?)");
  }
  std::string name = Sha256Hex(key);
  std::string temp = "." + name + "." + std::to_string(std::random_device()());
  UniqueFd out(
      openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) {
    return Status::Error("cannot write to the include cache `" + root_ +
                         "`: " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = write(out.get(), content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      unlinkat(dir.get(), temp.c_str(), 0);
      return Status::Error("cannot write to the include cache `" + root_ +
                           "`: " + std::strerror(saved));
    }
    written += static_cast<size_t>(n);
  }
  out.Reset();
  // rename replaces a link at the destination rather than writing through it.
  if (renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) != 0) {
    int saved = errno;
    unlinkat(dir.get(), temp.c_str(), 0);
    return Status::Error("cannot write to the include cache `" + root_ +
                         "`: " + std::strerror(saved));
  }
  return Status::Ok();
}

}  // namespace slipway
