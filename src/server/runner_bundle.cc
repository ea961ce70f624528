#include "server/runner_bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <utility>
#include <vector>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "util/git.h"
#include "util/git_bundle.h"
#include "util/unique_fd.h"

namespace slipway {

namespace {

constexpr char kBundleRef[] = "refs/slipway/job";

bool IsHexCommit(const std::string& commit) {
  if (commit.size() != 40 && commit.size() != 64) return false;
  for (char c : commit) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// An empty bare repository, as git's repository layout (gitrepository-
// layout(5)) has it, written without running git.
Status MakeBareRepository(const std::string& dir) {
  Status s;
  for (const char* sub : {"/objects/info", "/objects/pack", "/refs/heads", "/refs/tags"}) {
    if (s.ok()) s = MakeDirs(dir + sub);
  }
  if (s.ok()) s = WriteFile(dir + "/HEAD", "ref: refs/heads/main\n");
  if (s.ok()) {
    s = WriteFile(dir + "/config",
                  "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n");
  }
  return s;
}

// Reads the header of the bundle open at fd (util/git_bundle.h) and returns
// the offset where its pack starts.
StatusOr<uint64_t> ReadBundleHeader(int fd, const std::string& commit) {
  std::string head(kMaxBundleHeader, '\0');
  ssize_t n;
  do {
    n = ::pread(fd, head.data(), head.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::Error(std::string("cannot read: ") + std::strerror(errno));
  head.resize(static_cast<size_t>(n));
  StatusOr<size_t> pack = ParseBundleHeader(head, commit);
  if (!pack.ok()) return pack.status();
  return uint64_t{*pack};
}

// Removes all but the keep most recently written refs in dir. Every job's
// workspace copies its repository's refs (exec/workspace.cc): a runner that
// ran jobs of thousands of commits would copy thousands. The commits' objects
// stay (nothing here collects garbage).
void DropOldestRefs(const std::string& dir, size_t keep) {
  namespace fs = std::filesystem;
  std::vector<std::pair<fs::file_time_type, fs::path>> refs;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    refs.emplace_back(fs::last_write_time(it->path(), ignored), it->path());
  }
  if (refs.size() <= keep) return;
  std::sort(refs.begin(), refs.end());
  for (size_t i = 0; i + keep < refs.size(); ++i) {
    std::error_code ignored;
    fs::remove(refs[i].second, ignored);
  }
}

// Copies what fd holds from offset on into a new file at path.
Status CopyFrom(int fd, uint64_t offset, const std::string& path) {
  UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444));
  if (out.get() < 0) return Status::Error("cannot create " + path + ": " + std::strerror(errno));
  std::string buffer(1 << 16, '\0');
  for (off_t at = static_cast<off_t>(offset);;) {
    ssize_t n = ::pread(fd, buffer.data(), buffer.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(std::string("cannot read the bundle: ") + std::strerror(errno));
    if (n == 0) break;
    at += n;
    Status written = WriteAll(out.get(), std::string_view(buffer.data(), n), path);
    if (!written.ok()) return written;
  }
  return Status::Ok();
}

}  // namespace

Status MakeCommitBundle(const std::string& repository, const std::string& commit,
                        const std::string& bundle_file) {
  if (!IsHexCommit(commit)) return Status::Error("not a commit id: '" + commit + "'");
  // git runs in the scratch repository: a relative path would be its.
  std::error_code ec;
  std::string bundle_path = std::filesystem::absolute(bundle_file, ec).string();
  if (ec) return Status::Error("cannot resolve " + bundle_file + ": " + ec.message());
  // The repository's own object store (a server's checkout borrows the
  // mirror's in turn: git follows alternates of alternates).
  StatusOr<std::string> common =
      GitOutput(repository, {"rev-parse", "--path-format=absolute", "--git-common-dir"});
  if (!common.ok()) return common.status();
  std::string scratch = bundle_path + ".git";
  Status s = RemoveTree(scratch);
  if (s.ok()) s = MakeBareRepository(scratch);
  // The mirror's objects, borrowed: nothing is copied, nothing written there.
  if (s.ok()) s = WriteFile(scratch + "/objects/info/alternates", *common + "/objects\n");
  if (s.ok()) s = MakeDirs(scratch + "/refs/slipway");
  if (s.ok()) s = WriteFile(scratch + "/" + kBundleRef, commit + "\n");
  if (s.ok()) {
    s = GitOutput(scratch, {"bundle", "create", "-q", bundle_path, kBundleRef}).status();
    // Why, in the words a user understands.
    if (!s.ok() && !GitOutput(scratch, {"cat-file", "-e", commit + "^{commit}"}).ok()) {
      s = Status::Error("commit " + commit + " is not in " + repository);
    }
  }
  Status removed = RemoveTree(scratch);
  return s.ok() ? removed : s;
}

Status FetchCommitBundle(const std::string& bundle_file, const std::string& commit,
                         const std::string& repo, size_t keep_refs) {
  if (!IsHexCommit(commit)) return Status::Error("not a commit id: '" + commit + "'");
  struct stat st;
  Status s;
  if (::stat(repo.c_str(), &st) != 0) s = MakeBareRepository(repo);
  if (!s.ok()) return s;
  UniqueFd in(::open(bundle_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0)
    return Status::Error("cannot open " + bundle_file + ": " + std::strerror(errno));
  StatusOr<uint64_t> pack_start = ReadBundleHeader(in.get(), commit);
  if (!pack_start.ok()) return Status::Error(bundle_file + ": " + pack_start.status().message());
  // The pack, as `git index-pack` takes it: a file in the repository's pack
  // directory, indexed (and checked) there, then named by its checksum.
  static std::atomic<uint64_t> incoming{0};
  std::string pack_dir = repo + "/objects/pack";
  std::string base =
      pack_dir + "/incoming-" + std::to_string(::getpid()) + "-" + std::to_string(++incoming);
  s = CopyFrom(in.get(), *pack_start, base + ".pack");
  StatusOr<std::string> indexed =
      s.ok() ? GitOutput(repo, {"index-pack", base + ".pack"}) : StatusOr<std::string>(s);
  if (indexed.ok() && !IsHexCommit(*indexed)) {
    indexed = Status::Error("git index-pack printed '" + *indexed + "'");
  }
  if (indexed.ok()) {
    // The index last: git looks for packs by their indexes.
    std::string name = pack_dir + "/pack-" + *indexed;
    if (std::rename((base + ".pack").c_str(), (name + ".pack").c_str()) != 0 ||
        std::rename((base + ".idx").c_str(), (name + ".idx").c_str()) != 0) {
      indexed = Status::Error("cannot rename " + base + ": " + std::strerror(errno));
    }
  }
  if (!indexed.ok()) {
    std::remove((base + ".pack").c_str());
    std::remove((base + ".idx").c_str());
    return indexed.status();
  }
  const std::string refs = repo + "/refs/slipway/jobs";
  s = MakeDirs(refs);
  if (s.ok()) s = ReplaceFile(refs, commit, commit + "\n");
  if (s.ok()) DropOldestRefs(refs, keep_refs);
  return s;
}

CommitBundles::CommitBundles(std::string dir, size_t keep) : dir_(std::move(dir)), keep_(keep) {
  // What an earlier server left (a killed one's scratch repositories and
  // bundles): gone once an hour old. A live replica's are younger, or made
  // again when it finds them gone (LinkTo).
  (void)MakeDirs(dir_);  // Failing, LinkTo says why.
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_time_type now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    fs::file_time_type written =
        fs::symlink_status(it->path(), ignored).type() == fs::file_type::symlink
            ? now - std::chrono::hours(2)
            : fs::last_write_time(it->path(), ignored);
    if (!ignored && now - written > std::chrono::hours(1)) fs::remove_all(it->path(), ignored);
  }
}

CommitBundles::~CommitBundles() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [commit, entry] : bundles_) entry.made.wait();
}

CommitBundles::Entry CommitBundles::StartLocked(const std::string& repository,
                                                const std::string& commit) {
  Entry entry;
  entry.id = ++next_id_;
  // A name of this process's own: replicas sharing dir each make theirs and
  // rename it in place (the same commit's bundles are equivalent).
  std::string partial = dir_ + "/" + commit + "." + std::to_string(::getpid()) + "." +
                        std::to_string(entry.id) + ".partial";
  std::string path = PathOf(commit);
  entry.made = std::async(std::launch::async, [repository, commit, partial, path] {
                 Status s = MakeCommitBundle(repository, commit, partial);
                 if (s.ok() && std::rename(partial.c_str(), path.c_str()) != 0) {
                   s = Status::Error("cannot rename " + partial + ": " + std::strerror(errno));
                 }
                 if (!s.ok()) std::remove(partial.c_str());
                 return s;
               }).share();
  bundles_[commit] = entry;
  order_.push_back(commit);
  // The oldest made beyond keep_ go (one being made goes later).
  while (order_.size() > keep_) {
    auto old = bundles_.find(order_.front());
    if (old != bundles_.end()) {
      if (old->second.made.wait_for(std::chrono::seconds(0)) != std::future_status::ready) break;
      std::remove(PathOf(old->first).c_str());
      bundles_.erase(old);
    }
    order_.pop_front();
  }
  return entry;
}

void CommitBundles::Forget(const std::string& commit, uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bundles_.find(commit);
  if (it == bundles_.end() || it->second.id != id) return;
  bundles_.erase(it);
  order_.erase(std::find(order_.begin(), order_.end(), commit));
}

void CommitBundles::Prepare(const std::string& repository, const std::string& commit) {
  if (!IsHexCommit(commit)) return;  // LinkTo says why.
  std::lock_guard<std::mutex> lock(mu_);
  if (bundles_.count(commit) == 0) StartLocked(repository, commit);
}

Status CommitBundles::LinkTo(const std::string& repository, const std::string& commit,
                             const std::string& path) {
  if (!IsHexCommit(commit)) return Status::Error("not a commit id: '" + commit + "'");
  if (::access(path.c_str(), F_OK) == 0) return Status::Ok();
  Status s;
  // A second try when the first found the bundle gone (removed by another
  // replica sharing dir) or failed.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Entry entry;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = bundles_.find(commit);
      entry = it != bundles_.end() ? it->second : StartLocked(repository, commit);
    }
    s = entry.made.get();
    if (s.ok()) {
      if (::link(PathOf(commit).c_str(), path.c_str()) == 0 || errno == EEXIST) {
        return Status::Ok();
      }
      s = Status::Error("cannot link " + path + ": " + std::strerror(errno));
    }
    Forget(commit, entry.id);
  }
  return s;
}

}  // namespace slipway
