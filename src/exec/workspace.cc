#include "exec/workspace.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

namespace slipway {
namespace {

constexpr const char* kSlipwayDir = ".slipway";

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string TrimNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// The .git of a snapshot: see workspace.h. objects: the object directory
// it borrows from; empty: common_dir's own.
Status SetUpGitDir(const std::string& common_dir, const std::string& objects,
                   const std::string& commit, const std::string& git_dir) {
  for (const char* sub : {"objects/info", "refs/heads", "refs/tags"}) {
    Status s = MakeDirs(JoinPath(git_dir, sub));
    if (!s.ok()) return s;
  }
  std::string head = commit.empty() ? "ref: refs/heads/main\n" : commit + "\n";
  Status s = WriteFile(JoinPath(git_dir, "HEAD"), head);
  std::string alternate = objects.empty() ? common_dir + "/objects" : objects;
  if (s.ok()) s = WriteFile(JoinPath(git_dir, "objects/info/alternates"), alternate + "\n");
  if (s.ok()) {
    s = WriteFile(JoinPath(git_dir, "config"),
                  "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n");
  }
  if (!s.ok()) return s;
  for (const char* file : {"packed-refs", "shallow"}) {
    std::string from = JoinPath(common_dir, file);
    if (PathExists(from)) {
      s = CopyEntry(from, JoinPath(git_dir, file));
      if (!s.ok()) return s;
    }
  }
  return CopyTree(JoinPath(common_dir, "refs"), JoinPath(git_dir, "refs"));
}

// Packs the refs of a snapshot's .git into packed-refs and removes the
// directories that leaves empty: every job's workspace then gets one file for
// all refs instead of a directory per namespace and a file per ref. Git reads
// both forms alike; if packing fails, the loose refs stay and still work.
void PackRefs(ProcessRunner* runner, const std::string& git_dir, const std::string& dir) {
  if (!RunTool(runner, {"git", "--git-dir=" + git_dir, "pack-refs", "--all"}, dir).ok()) return;
  std::string refs = JoinPath(git_dir, "refs");
  StatusOr<std::vector<TreeEntry>> entries = ListTree(refs);
  if (!entries.ok()) return;
  // Children come after their parents: removing in reverse order empties a
  // directory before it is tried. Non-empty ones stay (rmdir fails).
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
    if (it->type == EntryType::kDirectory) (void)rmdir(JoinPath(refs, it->path).c_str());
  }
}

// Modes of what the pool shares with its owner's group: see workspace.h.
constexpr mode_t kSharedDirMode = 0750;
constexpr mode_t kSharedFileMode = 0640;

// Gives the directory dir (made by slipway, with its umask) to slipway's
// user and the group gid, mode kSharedDirMode, where it is not so already.
Status ShareWithGroup(const std::string& dir, gid_t gid) {
  StatusOr<UniqueFd> fd = OpenDirNoFollow(dir);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (fstat(fd->get(), &st) != 0) {
    return Status::Error("cannot stat " + dir + ": " + std::strerror(errno));
  }
  if ((st.st_uid != geteuid() || st.st_gid != gid) && fchown(fd->get(), geteuid(), gid) != 0) {
    return Status::Error("cannot chown " + dir + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 07777) != kSharedDirMode && fchmod(fd->get(), kSharedDirMode) != 0) {
    return Status::Error("cannot chmod " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::string RefDirSuffix(const std::string& ref) {
  std::string out;
  for (char c : ref) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// Orders paths as a depth-first walk lists them: a directory, then its
// contents, then its next sibling ('/' sorts before every other byte).
bool WalkOrder(const std::string& a, const std::string& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    int kx = x == '/' ? 0 : static_cast<unsigned char>(x) + 1;
    int ky = y == '/' ? 0 : static_cast<unsigned char>(y) + 1;
    return kx < ky;
  });
}

// The entries of project_dir that paths (as `git ls-files` lists them)
// name, with their parent directories, in walk order. A listed directory (a
// submodule) brings its files, without its .git.
StatusOr<std::vector<TreeEntry>> ListedEntries(const std::string& project_dir,
                                               const std::vector<std::string>& paths) {
  std::vector<std::string> all;
  for (const std::string& path : paths) {
    if (path == kSlipwayDir || path.starts_with(std::string(kSlipwayDir) + "/")) continue;
    std::string from = JoinPath(project_dir, path);
    struct stat st;
    if (lstat(from.c_str(), &st) != 0) continue;  // Deleted but not committed.
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      all.push_back(path.substr(0, slash));
    }
    all.push_back(path);
    if (S_ISDIR(st.st_mode)) {
      StatusOr<std::vector<TreeEntry>> inside = ListTree(from, {".git"});
      if (!inside.ok()) return inside.status();
      for (const TreeEntry& e : *inside) all.push_back(path + "/" + e.path);
    }
  }
  std::sort(all.begin(), all.end(), WalkOrder);
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<TreeEntry> entries;
  entries.reserve(all.size());
  for (std::string& path : all) entries.push_back({std::move(path), EntryType::kFile});
  return entries;  // TreeImage::Read finds each entry's type itself.
}

}  // namespace

StatusOr<bool> WorkspaceFactory::TakePersistent(const std::string& dir, Held* held) {
  Status made = MakeDirs(dir.substr(0, dir.find_last_of('/')));
  if (!made.ok()) return made;
  std::string lock = dir + ".lock";
  int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error("cannot create " + lock + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    close(fd);
    if (error == EWOULDBLOCK) return false;
    return Status::Error("cannot lock " + lock + ": " + std::strerror(error));
  }
  held->dir = dir;
  held->persistent = true;
  held->lock_fd = fd;
  held->stamps = TreeImage::Stamps::Load(dir + ".stamps");
  return true;
}

WorkspaceFactory::~WorkspaceFactory() {
  if (prefetch_.valid()) {  // Made, but no job asked for it: keep it for the next run.
    Prepared prepared = prefetch_.get();
    if (prepared.held) snapshot_dirs_.push_back(std::move(prepared.held));
  }
  std::vector<std::string> roots;
  for (const auto* list : {&slots_, &snapshot_dirs_}) {
    for (const std::unique_ptr<Held>& held : *list) {
      if (held->persistent) {
        (void)held->stamps.Save(held->dir + ".stamps");
        close(held->lock_fd);
      } else if (!held->root.empty()) {
        if (std::find(roots.begin(), roots.end(), held->root) == roots.end()) {
          roots.push_back(held->root);
        }
      } else {
        (void)RemoveTree(held->dir);
      }
    }
  }
  for (const std::string& root : roots) (void)RemoveTree(root);
}

WorkspaceFactory::Prepared WorkspaceFactory::PrepareInStateDir(const std::string& project_dir,
                                                               const std::string& ref) {
  Prepared out;
  auto held = std::make_unique<Held>();
  StatusOr<bool> taken =
      TakePersistent(JoinPath(state_dir_, ref.empty() ? "source" : "source-ref"), held.get());
  if (!taken.ok()) {
    out.made = taken.status();
    return out;
  }
  if (!*taken) {
    out.busy = true;
    return out;
  }
  out.made = MakeSnapshot(project_dir, ref, held.get());
  if (!out.made.ok()) {
    // Whatever an interrupted run left there: start again from nothing.
    held->stamps = {};
    Status removed = RemoveTree(held->dir);
    out.made = removed.ok() ? MakeSnapshot(project_dir, ref, held.get()) : removed;
  }
  out.held = std::move(held);
  return out;
}

void WorkspaceFactory::Prefetch(const std::string& project_dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_dir_.empty() || prefetch_.valid()) return;
  prefetch_project_ = project_dir;
  prefetch_ = std::async(std::launch::async,
                         [this, project_dir] { return PrepareInStateDir(project_dir, ""); });
}

StatusOr<std::shared_ptr<const Snapshot>> WorkspaceFactory::GetSnapshot(
    const std::string& project_dir, const std::string& ref, const std::string& run_dir) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = run_dir + "\n" + ref;
  auto it = snapshots_.find(key);
  if (it != snapshots_.end()) return it->second;
  Prepared prepared;
  prepared.busy = true;
  if (ref.empty() && prefetch_.valid() && project_dir == prefetch_project_) {
    prepared = prefetch_.get();
  } else if (!state_dir_.empty()) {
    prepared = PrepareInStateDir(project_dir, ref);
  }
  if (!prepared.busy) {
    if (prepared.held) snapshot_dirs_.push_back(std::move(prepared.held));
    if (prepared.made.ok()) snapshots_[key] = *prepared.made;
    return prepared.made;
  }
  // Held by a concurrent run (or no state directory): one of this run's own.
  auto held = std::make_unique<Held>();
  held->dir = JoinPath(run_dir, ref.empty() ? "source" : "source-" + RefDirSuffix(ref));
  Status removed = RemoveTree(held->dir);
  if (!removed.ok()) return removed;
  StatusOr<std::shared_ptr<const Snapshot>> made = MakeSnapshot(project_dir, ref, held.get());
  snapshot_dirs_.push_back(std::move(held));
  if (made.ok()) snapshots_[key] = *made;
  return made;
}

StatusOr<std::shared_ptr<const Snapshot>> WorkspaceFactory::MakeSnapshot(
    const std::string& project_dir, const std::string& ref, Held* held) {
  auto snapshot = std::make_shared<Snapshot>();
  const std::string& dir = held->dir;
  snapshot->dir = dir;
  Status s;

  StatusOr<std::string> common = RunTool(
      runner_, {"git", "rev-parse", "--path-format=absolute", "--git-common-dir"}, project_dir);
  std::string git_dir = JoinPath(dir, ".git");
  std::optional<TreeImage> project_image;  // What was written into dir, if anything.
  if (ref.empty()) {
    // The project's files, written over what the last run left in dir.
    StatusOr<std::vector<TreeEntry>> entries = std::vector<TreeEntry>();
    if (!common.ok()) {
      entries = ListTree(project_dir, {".git", kSlipwayDir});
    } else {
      StatusOr<std::string> head =
          RunTool(runner_, {"git", "rev-parse", "--verify", "-q", "HEAD"}, project_dir);
      if (head.ok()) snapshot->commit_sha = TrimNewlines(*head);
      StatusOr<std::string> listed =
          RunTool(runner_, {"git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"},
                  project_dir);
      if (!listed.ok()) return listed.status();
      entries = ListedEntries(project_dir, SplitNul(*listed));
    }
    if (!entries.ok()) return entries.status();
    StatusOr<TreeImage> files = TreeImage::Read(project_dir, *entries);
    if (!files.ok()) return files.status();
    project_image = *std::move(files);
    s = MakeDirs(dir.substr(0, dir.find_last_of('/')));
    if (s.ok()) s = project_image->WriteTo(dir, &held->stamps);
    if (s.ok() && common.ok()) {
      s = SetUpGitDir(TrimNewlines(*common), git_objects_, snapshot->commit_sha, git_dir);
      if (s.ok() && !snapshot->commit_sha.empty()) {
        StatusOr<std::string> read = RunTool(
            runner_, {"git", "--git-dir=" + git_dir, "--work-tree=" + dir, "read-tree", "HEAD"},
            dir);
        if (!read.ok()) s = read.status();
      }
    }
  } else {
    if (!common.ok()) {
      return Status::Error("--ref " + ref + ": " + project_dir + " is not a git repository");
    }
    StatusOr<std::string> sha = RunTool(
        runner_, {"git", "rev-parse", "--verify", "-q", "--end-of-options", ref + "^{commit}"},
        project_dir);
    if (!sha.ok()) return Status::Error("--ref " + ref + ": not a commit in " + project_dir);
    snapshot->commit_sha = TrimNewlines(*sha);
    // The last run's checkout stays: read-tree -u changes only what differs
    // (its index says what is there). Its refs go: the project's are copied.
    s = RemoveTree(JoinPath(git_dir, "refs"));
    if (s.ok()) s = RemoveTree(JoinPath(git_dir, "packed-refs"));
    if (s.ok()) s = MakeDirs(dir);
    if (s.ok()) s = SetUpGitDir(TrimNewlines(*common), git_objects_, snapshot->commit_sha, git_dir);
    if (s.ok()) {
      StatusOr<std::string> read =
          RunTool(runner_,
                  {"git", "--git-dir=" + git_dir, "--work-tree=" + dir, "read-tree", "--reset",
                   "-u", "--end-of-options", snapshot->commit_sha},
                  dir);
      if (!read.ok()) s = read.status();
    }
  }
  if (!s.ok()) return s;
  if (common.ok()) PackRefs(runner_, git_dir, dir);

  StatusOr<std::vector<TreeEntry>> entries = ListTree(dir);
  if (!entries.ok()) return entries.status();
  snapshot->entries = std::move(*entries);
  // The files just written from the project's image are not read again.
  StatusOr<TreeImage> image =
      TreeImage::Read(dir, snapshot->entries, project_image ? &*project_image : nullptr);
  if (!image.ok()) return image.status();
  snapshot->image = *std::move(image);
  for (const TreeEntry& e : snapshot->entries) {
    if (e.type == EntryType::kDirectory || e.path == ".git" || e.path.starts_with(".git/")) {
      continue;
    }
    snapshot->source_files.insert(e.path);
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

StatusOr<std::string> WorkspaceFactory::Acquire(const Snapshot& snapshot,
                                                const std::string& run_dir,
                                                const std::string& name) {
  bool persistent = !state_dir_.empty();
  std::string root = persistent ? JoinPath(state_dir_, "builds") : JoinPath(run_dir, "builds");
  auto slot_dir = [&](int n) { return JoinPath(JoinPath(root, std::to_string(n)), name); };
  Held* slot = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    std::vector<int> taken;
    for (const std::unique_ptr<Held>& held : slots_) {
      if (held->root != root) continue;
      taken.push_back(held->number);
      if (!held->busy && held->dir == slot_dir(held->number)) {
        slot = held.get();
        break;
      }
    }
    for (int n = 0; slot == nullptr; ++n) {
      if (std::find(taken.begin(), taken.end(), n) != taken.end()) continue;
      auto held = std::make_unique<Held>();
      std::string dir = slot_dir(n);
      if (persistent) {
        StatusOr<bool> taken = TakePersistent(dir, held.get());
        if (!taken.ok()) return taken.status();
        if (!*taken) continue;  // Another run holds it.
      }
      held->dir = dir;
      held->root = root;
      held->number = n;
      slot = held.get();
      slots_.push_back(std::move(held));
    }
    slot->busy = true;
  }
  Status s = MakeDirs(slot->dir.substr(0, slot->dir.find_last_of('/')));
  if (s.ok() && owner_) s = ShareWithGroup(root, owner_->gid);
  if (s.ok() && owner_) {
    s = ShareWithGroup(JoinPath(root, std::to_string(slot->number)), owner_->gid);
  }
  if (s.ok()) s = snapshot.image.WriteTo(slot->dir, &slot->stamps, owner_);
  if (!s.ok()) {
    // Whatever a job left that cannot be reconciled (say, a directory it
    // made unreadable, or a symlink in place of the workspace): start again
    // from nothing.
    Status removed = RemoveTree(slot->dir);
    s = removed.ok() ? snapshot.image.WriteTo(slot->dir, &slot->stamps, owner_) : removed;
  }
  if (!s.ok()) {
    Release(slot->dir);
    return s;
  }
  return slot->dir;
}

StatusOr<std::string> WorkspaceFactory::WriteBeside(const std::string& workspace,
                                                    const std::string& name,
                                                    std::string_view content) {
  std::string dir = workspace.substr(0, workspace.find_last_of('/'));
  std::string path = JoinPath(dir, name);
  if (!owner_) {
    Status s = ReplaceFile(dir, name, content);
    if (!s.ok()) return s;
    return path;
  }
  StatusOr<UniqueFd> dir_fd = OpenDirNoFollow(dir);
  if (!dir_fd.ok()) return dir_fd.status();
  StatusOr<UniqueFd> file =
      CreateFileAt(dir_fd->get(), name, kSharedFileMode, FileOwner{geteuid(), owner_->gid}, path);
  if (!file.ok()) return file.status();
  Status s = WriteAll(file->get(), content, path);
  if (!s.ok()) return s;
  // The umask (the server's 077) took the group's bits.
  if (fchmod(file->get(), kSharedFileMode) != 0 || close(file->Release()) != 0) {
    return Status::Error("cannot write " + path + ": " + std::strerror(errno));
  }
  return path;
}

StatusOr<std::string> WorkspaceFactory::MakeHomeBeside(const std::string& workspace) {
  std::string dir = workspace.substr(0, workspace.find_last_of('/'));
  std::string name = workspace.substr(dir.size() + 1) + ".home";
  std::string path = JoinPath(dir, name);
  StatusOr<UniqueFd> dir_fd = OpenDirNoFollow(dir);
  if (!dir_fd.ok()) return dir_fd.status();
  if (Status s = RemoveAt(dir_fd->get(), name, path); !s.ok()) return s;
  StatusOr<UniqueFd> home = MakeDirAt(dir_fd->get(), name, 0700, owner_, path);
  if (!home.ok()) return home.status();
  return path;
}

void WorkspaceFactory::Release(const std::string& workspace) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  for (const std::unique_ptr<Held>& held : slots_) {
    if (held->dir == workspace) held->busy = false;
  }
}

}  // namespace slipway
