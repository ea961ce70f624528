#include "exec/workspace.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

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

// The .git of a snapshot: see workspace.h.
Status SetUpGitDir(const std::string& common_dir, const std::string& commit,
                   const std::string& git_dir) {
  for (const char* sub : {"objects/info", "refs/heads", "refs/tags"}) {
    Status s = MakeDirs(JoinPath(git_dir, sub));
    if (!s.ok()) return s;
  }
  std::string head = commit.empty() ? "ref: refs/heads/main\n" : commit + "\n";
  Status s = WriteFile(JoinPath(git_dir, "HEAD"), head);
  if (s.ok()) s = WriteFile(JoinPath(git_dir, "objects/info/alternates"), common_dir + "/objects\n");
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

std::string RefDirSuffix(const std::string& ref) {
  std::string out;
  for (char c : ref) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

}  // namespace

StatusOr<std::shared_ptr<const Snapshot>> WorkspaceFactory::GetSnapshot(
    const std::string& project_dir, const std::string& ref, const std::string& run_dir) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = run_dir + "\n" + ref;
  auto it = snapshots_.find(key);
  if (it != snapshots_.end()) return it->second;
  std::string dir = JoinPath(run_dir, ref.empty() ? "source" : "source-" + RefDirSuffix(ref));
  StatusOr<std::shared_ptr<const Snapshot>> made = MakeSnapshot(project_dir, ref, dir);
  if (made.ok()) snapshots_[key] = *made;
  return made;
}

StatusOr<std::shared_ptr<const Snapshot>> WorkspaceFactory::MakeSnapshot(
    const std::string& project_dir, const std::string& ref, const std::string& dir) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->dir = dir;
  Status s = RemoveTree(dir);
  if (s.ok()) s = MakeDirs(dir);
  if (!s.ok()) return s;

  StatusOr<std::string> common =
      RunTool(runner_, {"git", "rev-parse", "--path-format=absolute", "--git-common-dir"},
              project_dir);
  if (!common.ok()) {
    if (!ref.empty()) {
      return Status::Error("--ref " + ref + ": " + project_dir + " is not a git repository");
    }
    s = CopyTree(project_dir, dir, {".git", kSlipwayDir});
  } else {
    std::string common_dir = TrimNewlines(*common);
    std::string git_dir = JoinPath(dir, ".git");
    if (ref.empty()) {
      StatusOr<std::string> head =
          RunTool(runner_, {"git", "rev-parse", "--verify", "-q", "HEAD"}, project_dir);
      if (head.ok()) snapshot->commit_sha = TrimNewlines(*head);
      StatusOr<std::string> listed = RunTool(
          runner_, {"git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"},
          project_dir);
      if (!listed.ok()) return listed.status();
      std::vector<std::string> paths = SplitNul(*listed);
      paths.erase(std::unique(paths.begin(), paths.end()), paths.end());  // Unmerged entries.
      for (const std::string& path : paths) {
        if (path == kSlipwayDir || path.starts_with(std::string(kSlipwayDir) + "/")) continue;
        std::string from = JoinPath(project_dir, path);
        if (!PathExists(from)) continue;  // Deleted but not committed.
        // A submodule is listed as one path: copy its files, not its .git.
        s = IsDirectory(from) ? CopyTree(from, JoinPath(dir, path), {".git"})
                              : CopyEntry(from, JoinPath(dir, path));
        if (!s.ok()) return s;
      }
      s = SetUpGitDir(common_dir, snapshot->commit_sha, git_dir);
      if (s.ok() && !snapshot->commit_sha.empty()) {
        StatusOr<std::string> read = RunTool(
            runner_, {"git", "--git-dir=" + git_dir, "--work-tree=" + dir, "read-tree", "HEAD"},
            dir);
        if (!read.ok()) s = read.status();
      }
    } else {
      StatusOr<std::string> sha = RunTool(
          runner_, {"git", "rev-parse", "--verify", "-q", ref + "^{commit}"}, project_dir);
      if (!sha.ok()) return Status::Error("--ref " + ref + ": not a commit in " + project_dir);
      snapshot->commit_sha = TrimNewlines(*sha);
      s = SetUpGitDir(common_dir, snapshot->commit_sha, git_dir);
      if (s.ok()) {
        StatusOr<std::string> read =
            RunTool(runner_,
                    {"git", "--git-dir=" + git_dir, "--work-tree=" + dir, "read-tree", "--reset",
                     "-u", snapshot->commit_sha},
                    dir);
        if (!read.ok()) s = read.status();
      }
    }
  }
  if (!s.ok()) return s;
  if (common.ok()) PackRefs(runner_, JoinPath(dir, ".git"), dir);

  StatusOr<std::vector<TreeEntry>> entries = ListTree(dir);
  if (!entries.ok()) return entries.status();
  snapshot->entries = std::move(*entries);
  StatusOr<TreeImage> image = TreeImage::Read(dir, snapshot->entries);
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

WorkspaceFactory::~WorkspaceFactory() {
  for (const std::string& root : pool_roots_) (void)RemoveTree(root);
  for (const auto& [key, snapshot] : snapshots_) (void)RemoveTree(snapshot->dir);
}

StatusOr<std::string> WorkspaceFactory::Acquire(const Snapshot& snapshot,
                                                const std::string& run_dir,
                                                const std::string& name) {
  std::string root = JoinPath(run_dir, "builds");
  Slot* slot = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    size_t in_run = 0;
    for (const std::unique_ptr<Slot>& s : slots_) {
      if (!s->dir.starts_with(root + "/")) continue;
      ++in_run;
      if (!s->busy && s->dir.ends_with("/" + name)) {
        slot = s.get();
        break;
      }
    }
    if (slot == nullptr) {
      if (std::find(pool_roots_.begin(), pool_roots_.end(), root) == pool_roots_.end()) {
        pool_roots_.push_back(root);
      }
      slots_.push_back(std::make_unique<Slot>());
      slot = slots_.back().get();
      slot->dir = JoinPath(JoinPath(root, std::to_string(in_run)), name);
    }
    slot->busy = true;
  }
  Status s = MakeDirs(slot->dir.substr(0, slot->dir.find_last_of('/')));
  if (s.ok()) s = snapshot.image.WriteTo(slot->dir, &slot->stamps);
  if (!s.ok()) {
    // Whatever a job left that cannot be reconciled (say, a directory it
    // made unreadable): start again from nothing.
    Status removed = RemoveTree(slot->dir);
    s = removed.ok() ? snapshot.image.WriteTo(slot->dir, &slot->stamps) : removed;
  }
  if (!s.ok()) {
    Release(slot->dir);
    return s;
  }
  return slot->dir;
}

void WorkspaceFactory::Release(const std::string& workspace) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  for (const std::unique_ptr<Slot>& s : slots_) {
    if (s->dir == workspace) s->busy = false;
  }
}

}  // namespace slipway
