// The local copy of every include slipway fetched (include:remote,
// include:template ...), so a second `lint` reads no network, and `--offline`
// can run without one. The layout is a format, written down in
// docs/includes.md:
//
//   <root>/v1/<kind>/<sha256 hex of the key>
//
// root is $XDG_CACHE_HOME/slipway/includes or ~/.cache/slipway/includes;
// kind is "remote" or "template" (the key: the URL with any credentials
// removed). Each file holds the fetched bytes exactly. Directories are made
// 0700; files are written to a temporary name and renamed into place, so a
// reader sees a whole entry or none. Nothing is read or written through a
// symbolic link: the root must be a directory owned by the user, and each
// step below it is opened with O_NOFOLLOW.
#ifndef SLIPWAY_CONFIG_INCLUDE_CACHE_H_
#define SLIPWAY_CONFIG_INCLUDE_CACHE_H_

#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace slipway {

// $XDG_CACHE_HOME/slipway/includes, else $HOME/.cache/slipway/includes;
// empty when neither variable is set.
std::string DefaultIncludeCacheDir();

// Thread-compatible; entries are immutable once written, so separate
// processes may share a root.
class IncludeCache {
 public:
  explicit IncludeCache(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }

  // The bytes stored for (kind, key); nullopt when there are none (or the
  // cache cannot be read: a cache is never a reason to fail).
  std::optional<std::string> Get(std::string_view kind, std::string_view key) const;

  // Stores content for (kind, key), replacing what was there. Errors say why
  // (a root that is a symbolic link or someone else's, a full disk ...).
  Status Put(std::string_view kind, std::string_view key, std::string_view content) const;

  // A private directory for (kind, key) (<root>/v1/<kind>/<hash>/), made
  // 0700 when missing, never reached through a link: a git repository for
  // include:project.
  StatusOr<std::string> Directory(std::string_view kind, std::string_view key) const;

  // The file an entry lives in (for messages and docs; it may not exist).
  std::string PathOf(std::string_view kind, std::string_view key) const;

 private:
  std::string root_;
};

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_INCLUDE_CACHE_H_
