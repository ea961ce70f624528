#include "server/runner_bundle.h"

#include <sys/stat.h>

#include <filesystem>

#include "exec/file_tree.h"
#include "util/git.h"

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
  if (s.ok()) s = GitOutput(".", {"init", "-q", "--bare", scratch}).status();
  // The mirror's objects, borrowed: nothing is copied, nothing written there.
  if (s.ok()) s = WriteFile(scratch + "/objects/info/alternates", *common + "/objects\n");
  if (s.ok()) {
    s = GitOutput(scratch, {"update-ref", kBundleRef, commit}).status();
    if (!s.ok()) s = Status::Error("commit " + commit + " is not in " + repository);
  }
  if (s.ok()) s = GitOutput(scratch, {"bundle", "create", "-q", bundle_path, kBundleRef}).status();
  Status removed = RemoveTree(scratch);
  return s.ok() ? removed : s;
}

Status FetchCommitBundle(const std::string& bundle_file, const std::string& commit,
                         const std::string& repo) {
  if (!IsHexCommit(commit)) return Status::Error("not a commit id: '" + commit + "'");
  std::error_code ec;
  std::string bundle_path = std::filesystem::absolute(bundle_file, ec).string();
  if (ec) return Status::Error("cannot resolve " + bundle_file + ": " + ec.message());
  struct stat st;
  Status s;
  if (::stat(repo.c_str(), &st) != 0) s = GitOutput(".", {"init", "-q", "--bare", repo}).status();
  if (s.ok()) {
    s = GitOutput(repo, {"fetch", "-q", "--no-tags", bundle_path,
                         std::string("+") + kBundleRef + ":refs/slipway/jobs/" + commit})
            .status();
  }
  if (s.ok()) s = GitOutput(repo, {"cat-file", "-e", commit + "^{commit}"}).status();
  return s;
}

}  // namespace slipway
