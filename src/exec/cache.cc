#include "exec/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "exec/runner_glob.h"
#include "util/file_lock.h"
#include "util/sha1.h"

namespace slipway {
namespace {

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  return std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

std::string CacheKey(const Cache& cache, size_t index, const VariableList& vars,
                     const std::string& source_dir, const std::vector<TreeEntry>& source_entries) {
  if (cache.key_files.empty()) {
    std::string key = ExpandVariables(cache.key, vars);
    return key.empty() ? "default" : key;
  }
  std::vector<std::string> blob_ids;
  for (const std::string& raw : cache.key_files) {
    std::string pattern = CleanRelativePath(ExpandVariables(raw, vars));
    if (pattern.empty() || EscapesRoot(pattern)) continue;
    for (const TreeEntry& e : source_entries) {
      if (e.type != EntryType::kFile || !RunnerGlobMatch(pattern, e.path)) continue;
      StatusOr<std::string> content = ReadFile(JoinPath(source_dir, e.path));
      if (content.ok()) blob_ids.push_back(GitBlobId(*content));
    }
  }
  std::sort(blob_ids.begin(), blob_ids.end());
  blob_ids.erase(std::unique(blob_ids.begin(), blob_ids.end()), blob_ids.end());
  std::string digest = "default";
  if (!blob_ids.empty()) {
    std::string joined;
    for (const std::string& id : blob_ids) joined += (joined.empty() ? "" : "-") + id;
    digest = Sha1Hex(joined);
  }
  std::string prefix =
      cache.key_prefix.empty() ? std::to_string(index) : ExpandVariables(cache.key_prefix, vars);
  return prefix.empty() ? digest : prefix + "-" + digest;
}

std::vector<std::string> RestoreKeys(const Cache& cache, const std::string& key,
                                     const VariableList& vars) {
  std::vector<std::string> keys = {key};
  for (const std::string& fallback : cache.fallback_keys) {
    std::string expanded = ExpandVariables(fallback, vars);
    if (!expanded.empty()) keys.push_back(expanded);
  }
  if (const std::string* global = vars.Get("CACHE_FALLBACK_KEY")) {
    std::string expanded = ExpandVariables(*global, vars);
    if (!expanded.empty()) keys.push_back(expanded);
  }
  return keys;
}

std::string CacheStore::EncodeKey(const std::string& key) {
  static const char kHex[] = "0123456789ABCDEF";
  if (key == "." || key == "..") return key == "." ? "%2E" : "%2E%2E";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

namespace {

constexpr const char* kVersionsDir = ".v";

// Removes the versions of name other than current that nobody is reading or
// still writing.
void RemoveStaleVersions(const std::string& root, const std::string& name,
                         const std::string& current) {
  std::string versions = JoinPath(root, kVersionsDir);
  StatusOr<std::vector<std::string>> names = ListNames(versions);
  if (!names.ok()) return;
  for (const std::string& version : *names) {
    if (version == current || version.size() <= name.size() || version[name.size()] != '@' ||
        version.compare(0, name.size(), name) != 0) {
      continue;
    }
    std::string dir = JoinPath(versions, version);
    int fd = open(JoinPath(dir, "lock").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) (void)RemoveTree(dir);
    close(fd);
  }
}

}  // namespace

StatusOr<std::string> CacheStore::Restore(const std::vector<std::string>& keys,
                                          const std::string& workspace,
                                          const OptionalOwner& owner) const {
  for (const std::string& key : keys) {
    std::string link = JoinPath(root_, EncodeKey(key));
    // A retry happens only when a version is removed between reading the
    // link and locking the version, i.e. a newer one was published.
    for (int attempt = 0; attempt < 100; ++attempt) {
      char target[4096];
      ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n < 0) break;  // No such cache.
      std::string version = JoinPath(root_, std::string(target, static_cast<size_t>(n)));
      int fd = open(JoinPath(version, "lock").c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      while (flock(fd, LOCK_SH) != 0 && errno == EINTR) {
      }
      if (!IsDirectory(JoinPath(version, "data"))) {
        close(fd);
        continue;
      }
      Status s = CopyTree(JoinPath(version, "data"), workspace, {}, owner);
      close(fd);
      if (!s.ok()) return s;
      return key;
    }
  }
  return std::string();
}

Status CacheStore::Save(const std::string& key, const std::string& workspace,
                        const std::vector<TreeEntry>& entries) const {
  std::string name = EncodeKey(key);
  std::string version_name = name + "@" + UniqueSuffix();
  std::string version = JoinPath(JoinPath(root_, kVersionsDir), version_name);
  Status s = MakeDirs(version);
  if (!s.ok()) return s;
  // Held until the version is published, so a concurrent save's cleanup
  // leaves it alone.
  FileLock lock(JoinPath(version, "lock"), LOCK_SH);
  if (!lock.status().ok()) return lock.status();
  s = CopyEntries(workspace, entries, JoinPath(version, "data"));
  std::string tmp_link = JoinPath(root_, ".link-" + version_name);
  std::string relative = std::string(kVersionsDir) + "/" + version_name;
  if (s.ok() && symlink(relative.c_str(), tmp_link.c_str()) != 0) {
    s = Status::Error("cannot create " + tmp_link + ": " + std::strerror(errno));
  }
  if (s.ok() && rename(tmp_link.c_str(), JoinPath(root_, name).c_str()) != 0) {
    s = Status::Error("cannot store cache " + key + ": " + std::strerror(errno));
    unlink(tmp_link.c_str());
  }
  if (!s.ok()) {
    (void)RemoveTree(version);
    return s;
  }
  RemoveStaleVersions(root_, name, version_name);
  return Status::Ok();
}

}  // namespace slipway
