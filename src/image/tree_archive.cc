#include "image/tree_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "image/byte_source.h"
#include "image/layer_unpack.h"
#include "image/tar_writer.h"
#include "util/sha256.h"

namespace slipway {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::Error("cannot " + what + " " + path + ": " + std::strerror(errno));
}

// The size and digest of the file at path, read through.
StatusOr<ArchiveFile> Measure(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return Errno("open", path);
  Sha256 hash;
  ArchiveFile out;
  std::vector<char> buffer(size_t{1} << 20);
  for (;;) {
    ssize_t n = read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read", path);
    if (n == 0) break;
    hash.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    out.size += static_cast<uint64_t>(n);
  }
  out.digest = "sha256:" + hash.FinishHex();
  return out;
}

}  // namespace

StatusOr<ArchiveFile> PackTree(const std::string& root, const std::vector<std::string>& top_level,
                               const std::string& out_path) {
  StatusOr<UniqueFd> root_fd = OpenDirNoFollow(root);
  if (!root_fd.ok()) {
    if (errno == ENOENT) return ArchiveFile();
    return root_fd.status();
  }
  StatusOr<std::vector<TreeEntry>> listed = ListTreeAt(root_fd->get(), root);
  if (!listed.ok()) return listed.status();
  std::vector<TreeEntry> entries;
  for (TreeEntry& entry : *listed) {
    std::string first = entry.path.substr(0, entry.path.find('/'));
    if (top_level.empty() ||
        std::find(top_level.begin(), top_level.end(), first) != top_level.end()) {
      entries.push_back(std::move(entry));
    }
  }
  if (entries.empty()) return ArchiveFile();
  UniqueFd out(open(out_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return Errno("create", out_path);
  Sha256 hash;
  ArchiveFile file;
  Status written = WriteTar(root_fd->get(), root, entries, [&](std::string_view bytes) {
    hash.Update(bytes);
    file.size += bytes.size();
    return WriteAll(out.get(), bytes, out_path);
  });
  if (!written.ok()) return written;
  file.digest = "sha256:" + hash.FinishHex();
  return file;
}

Status UnpackTree(const std::string& archive_path, const ArchiveFile& expected,
                  const std::string& into, uint64_t max_bytes,
                  const std::vector<std::string>& top_level) {
  if (!top_level.empty()) {
    std::string scratch = into + "/.unpacking";
    Status s = RemoveTree(scratch);
    if (s.ok()) s = UnpackTree(archive_path, expected, scratch, max_bytes);
    for (size_t i = 0; s.ok() && i < top_level.size(); ++i) {
      std::string from = scratch + "/" + top_level[i], to = into + "/" + top_level[i];
      struct stat st;
      if (lstat(from.c_str(), &st) != 0) continue;  // The archive has none.
      if (!S_ISDIR(st.st_mode)) {
        s = Status::Error("the archive's " + top_level[i] + " is not a directory");
      } else if (s = RemoveTree(to); s.ok() && std::rename(from.c_str(), to.c_str()) != 0) {
        s = Errno("rename", from);
      }
    }
    Status removed = RemoveTree(scratch);
    return s.ok() ? removed : s;
  }
  StatusOr<ArchiveFile> got = Measure(archive_path);
  if (!got.ok()) return got.status();
  if (got->size != expected.size || got->digest != expected.digest) {
    return Status::Error("the archive is " + std::to_string(got->size) + " bytes with the digest " +
                         got->digest + ", not " + std::to_string(expected.size) + " bytes with " +
                         expected.digest);
  }
  StatusOr<UniqueFd> dir = MakeDirNoFollow(into);
  if (!dir.ok()) return dir.status();
  UniqueFd in(open(archive_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) return Errno("open", archive_path);
  FdSource source(std::move(in), archive_path);
  UnpackLimits limits;
  limits.max_bytes = max_bytes;
  limits.whiteouts = false;
  UnpackStats stats;
  return ApplyLayer(dir->get(), into, &source, archive_path, limits, &stats);
}

}  // namespace slipway
