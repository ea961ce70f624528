// Reading a project's repository for the API (GitLab's branches, commits
// and repository files): git plumbing on the server's bare mirror
// (repo_mirror.h), run as argument vectors with literal pathspecs, so that
// names and paths from requests are data to git, never options, pathspec
// magic or shell words. Everything comes from git's objects: a symbolic
// link in the repository is a blob holding its target's name, never a way
// to a file of the server.
#ifndef SLIPWAY_SERVER_REPOSITORY_READER_H_
#define SLIPWAY_SERVER_REPOSITORY_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace slipway {

struct CommitInfo {
  std::string id;  // 40 hex digits.
  std::vector<std::string> parent_ids;
  std::string author_name, author_email, authored_date;  // Dates: ISO 8601 as git gives them.
  std::string committer_name, committer_email, committed_date;
  std::string message;  // Whole, as committed.
  std::string Title() const { return message.substr(0, message.find('\n')); }
};

struct BranchInfo {
  std::string name;
  CommitInfo commit;
  bool merged = false;  // Its tip is reachable from the default branch (not the default itself).
};

// The branches of the repository at git_dir, by name. merged is computed
// against default_branch (false for all when it does not exist).
StatusOr<std::vector<BranchInfo>> ListBranches(const std::string& git_dir,
                                               const std::string& default_branch);

// The commit rev names (a sha, abbreviated or not, a branch or a tag);
// nullopt when it names none. An error only when git cannot run.
StatusOr<std::optional<CommitInfo>> ReadCommit(const std::string& git_dir, const std::string& rev);

struct CommitQuery {
  std::string rev;           // Where history starts; must name a commit (ReadCommit first).
  std::string path;          // Only commits touching it (a literal path); empty: all.
  std::string since, until;  // As git's --since/--until read them; empty: unbounded.
  bool first_parent = false;
  int64_t skip = 0;
  int64_t max_count = 20;
};
// Newest first, as `git log` lists them.
StatusOr<std::vector<CommitInfo>> ListCommits(const std::string& git_dir, const CommitQuery& query);
// How many commits ListCommits would give without skip and max_count.
StatusOr<int64_t> CountCommits(const std::string& git_dir, const CommitQuery& query);

struct RepositoryFile {
  std::string path;
  std::string blob_id;
  std::string commit_id;       // The commit read (rev resolved).
  std::string last_commit_id;  // The newest commit up to commit_id that changed the file.
  bool executable = false;
  int64_t size = 0;
  std::string content;  // Empty when size is over the caller's max_bytes.
};
// The file at path in commit (a full sha, from ReadCommit); nullopt when
// there is no such file (a directory or a submodule is not one). The
// content is read only when size <= max_bytes.
StatusOr<std::optional<RepositoryFile>> ReadRepositoryFile(const std::string& git_dir,
                                                           const std::string& commit,
                                                           const std::string& path,
                                                           int64_t max_bytes);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_REPOSITORY_READER_H_
