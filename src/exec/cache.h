// Caches on the local disk: keys computed as GitLab computes them, entries
// stored under <cache_dir>/<encoded key>/, safe when several jobs (or several
// slipway processes) use one key at once. The recipe and layout are written
// down in docs/cache-key.md.
#ifndef SLIPWAY_EXEC_CACHE_H_
#define SLIPWAY_EXEC_CACHE_H_

#include <string>
#include <vector>

#include "config/variables.h"
#include "exec/file_tree.h"
#include "pipeline/job.h"
#include "util/status.h"

namespace slipway {

// The key of the index-th (0-based) cache of a job. A string key has its
// variables expanded ("" becomes "default"). key:files: the git blob ids of
// the listed files that exist in the source tree at source_dir (globs
// allowed), sorted, deduplicated, joined with '-' and SHA-1 hashed; prefixed
// by key:prefix (expanded) or else by the cache's index, joined with '-';
// "default" in place of the hash when no listed file exists.
std::string CacheKey(const Cache& cache, size_t index, const VariableList& vars,
                     const std::string& source_dir, const std::vector<TreeEntry>& source_entries);

// The keys to try when restoring, in order: the key, cache:fallback_keys
// (expanded), then the CACHE_FALLBACK_KEY variable if set.
std::vector<std::string> RestoreKeys(const Cache& cache, const std::string& key,
                                     const VariableList& vars);

// Thread-safe and safe across processes. Layout under root:
//   <name>                  symlink to .v/<name>@<version>, the current content
//   .v/<name>@<version>/data/   the cached files
//   .v/<name>@<version>/lock    flock: readers hold it shared while copying
// A writer builds a new version privately, then atomically renames a symlink
// over <name>; readers see the old version or the new one, never a mix or a
// part. Writers never wait for readers: a version still being read is left
// behind and removed by a later save.
class CacheStore {
 public:
  explicit CacheStore(std::string root) : root_(std::move(root)) {}

  // Copies the first existing cache among keys into workspace and returns its
  // key; "" when none exists. What is in the workspace is replaced, never
  // written through: a symlink in the way of a directory is replaced by a
  // real one (CopyTree). Entries made belong to owner when it is set.
  StatusOr<std::string> Restore(const std::vector<std::string>& keys, const std::string& workspace,
                                const OptionalOwner& owner = {}) const;

  // Replaces the cache under key with the entries of workspace, read beneath
  // it without following a symlink (a symlink is cached as one).
  Status Save(const std::string& key, const std::string& workspace,
              const std::vector<TreeEntry>& entries) const;

  // The directory name a key is stored under: bytes other than ASCII
  // letters, digits, '-', '_' and '.' percent-encoded; "." and ".." encoded
  // whole, so no key can leave the root.
  static std::string EncodeKey(const std::string& key);

 private:
  std::string root_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_CACHE_H_
