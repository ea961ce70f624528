#include "image/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include "exec/file_tree.h"
#include "image/reference.h"

namespace slipway {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::Error("cannot " + what + " " + path + ": " + std::strerror(errno));
}

Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  UniqueFd owned(fd);
  if (fsync(fd) != 0) return Errno("sync", dir);
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> MakeTempPath(const std::string& store_dir, const std::string& prefix) {
  std::string tmp = store_dir + "/tmp";
  Status made = MakeDirs(tmp);
  if (!made.ok()) return made;
  static std::atomic<uint64_t> counter{0};
  std::random_device random;
  return tmp + "/" + prefix + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1)) + "-" + std::to_string(random());
}

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  std::string temp =
      path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device()());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", temp);
  UniqueFd owned(fd);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("write", temp);
      unlink(temp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || rename(temp.c_str(), path.c_str()) != 0) {
    Status s = Errno("write", path);
    unlink(temp.c_str());
    return s;
  }
  std::string dir = path.substr(0, path.rfind('/'));
  return SyncDir(dir);
}

std::string BlobStore::PathOf(const std::string& digest) const {
  return dir_ + "/blobs/sha256/" + digest.substr(7);
}

bool BlobStore::Has(const std::string& digest, int64_t size) const {
  struct stat st;
  if (stat(PathOf(digest).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return size < 0 || st.st_size == size;
}

StatusOr<std::string> BlobStore::ReadSmall(const std::string& digest) const {
  return ReadFile(PathOf(digest), size_t{4} << 20);
}

Status BlobStore::Put(const std::string& digest, std::string_view data, const std::string& what) {
  if (Has(digest, static_cast<int64_t>(data.size()))) return Status::Ok();
  BlobWriter writer(this, digest, static_cast<int64_t>(data.size()), what);
  Status s = writer.Open();
  if (s.ok()) s = writer.Append(data);
  if (s.ok()) s = writer.Commit();
  return s;
}

BlobWriter::BlobWriter(const BlobStore* store, std::string digest, int64_t expected_size,
                       std::string what)
    : store_(store),
      digest_(std::move(digest)),
      what_(std::move(what)),
      expected_size_(expected_size) {}

BlobWriter::~BlobWriter() {
  if (!committed_ && !temp_path_.empty()) unlink(temp_path_.c_str());
}

Status BlobWriter::Open() {
  StatusOr<std::string> temp = MakeTempPath(store_->dir(), "blob");
  if (!temp.ok()) return temp.status();
  temp_path_ = *temp;
  int fd = open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    Status s = Errno("create", temp_path_);
    temp_path_.clear();
    return s;
  }
  fd_ = UniqueFd(fd);
  return Status::Ok();
}

Status BlobWriter::Append(std::string_view data) {
  written_ += static_cast<int64_t>(data.size());
  if (expected_size_ >= 0 && written_ > expected_size_) {
    return Status::Error(what_ + ": more than the " + std::to_string(expected_size_) +
                         " bytes its descriptor gives it arrived");
  }
  hash_.Update(data);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd_.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error("cannot store " + what_ + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status BlobWriter::Commit() {
  std::string got = "sha256:" + hash_.FinishHex();
  if (got != digest_) {
    return Status::Error(what_ + " is corrupt: its content has the digest " + got +
                         " (nothing of it was kept)");
  }
  if (expected_size_ >= 0 && written_ != expected_size_) {
    return Status::Error(what_ + " is " + std::to_string(written_) + " bytes, not the " +
                         std::to_string(expected_size_) + " its descriptor gives it");
  }
  if (fsync(fd_.get()) != 0)
    return Status::Error("cannot store " + what_ + ": " + std::strerror(errno));
  std::string dir = store_->dir() + "/blobs/sha256";
  Status made = MakeDirs(dir);
  if (!made.ok()) return made;
  std::string final_path = store_->PathOf(digest_);
  if (rename(temp_path_.c_str(), final_path.c_str()) != 0) return Errno("store", final_path);
  committed_ = true;
  return SyncDir(dir);
}

}  // namespace slipway
