#include "server/repository_reader.h"

#include <algorithm>
#include <set>

#include "util/git.h"

namespace slipway {
namespace {

// Fields of one commit, separated by US (0x1f); the message last, so that a
// US inside it stays in it. `git log -z` ends each commit with a NUL.
constexpr const char* kCommitFormat =
    "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B";
constexpr int kCommitFields = 9;

// git's global option making every pathspec literal (no `:(glob)`, `*`).
constexpr const char* kLiteral = "--literal-pathspecs";

std::vector<std::string> SplitAll(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    if (end == std::string::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::optional<CommitInfo> ParseCommit(const std::string& record) {
  std::vector<std::string> f;
  size_t start = 0;
  for (int i = 0; i + 1 < kCommitFields; ++i) {
    size_t end = record.find('\x1f', start);
    if (end == std::string::npos) return std::nullopt;
    f.push_back(record.substr(start, end - start));
    start = end + 1;
  }
  CommitInfo c;
  c.id = f[0];
  if (!f[1].empty()) c.parent_ids = SplitAll(f[1], ' ');
  c.author_name = f[2];
  c.author_email = f[3];
  c.authored_date = f[4];
  c.committer_name = f[5];
  c.committer_email = f[6];
  c.committed_date = f[7];
  c.message = record.substr(start);
  while (!c.message.empty() && c.message.back() == '\n') c.message.pop_back();
  return c;
}

std::vector<std::string> LogArgs(const CommitQuery& q, const char* command) {
  std::vector<std::string> args = {kLiteral, command};
  if (q.first_parent) args.push_back("--first-parent");
  if (!q.since.empty()) args.push_back("--since=" + q.since);
  if (!q.until.empty()) args.push_back("--until=" + q.until);
  return args;
}

// rev followed by the path filter; rev was checked by ReadCommit (a sha).
void AddRevAndPath(const CommitQuery& q, std::vector<std::string>* args) {
  args->push_back(q.rev);
  args->push_back("--");
  if (!q.path.empty()) args->push_back(q.path);
}

}  // namespace

StatusOr<std::optional<CommitInfo>> ReadCommit(const std::string& git_dir, const std::string& rev) {
  // A name starting with '-' would be an option; ':' and '^' would be
  // revision syntax reaching other objects than a commit of a ref.
  if (rev.empty() || rev.front() == '-' || rev.find_first_of(":^~@{}\\ \n") != std::string::npos) {
    return std::optional<CommitInfo>();
  }
  StatusOr<GitResult> sha =
      RunGit(git_dir, {"rev-parse", "--verify", "--quiet", rev + "^{commit}"});
  if (!sha.ok()) return sha.status();
  if (sha->exit_code != 0) return std::optional<CommitInfo>();
  std::string id = sha->out.substr(0, sha->out.find('\n'));
  StatusOr<std::string> shown = GitOutput(git_dir, {"show", "-s", "-z", kCommitFormat, id});
  if (!shown.ok()) return shown.status();
  return ParseCommit(*shown);
}

StatusOr<std::vector<BranchInfo>> ListBranches(const std::string& git_dir,
                                               const std::string& default_branch) {
  // Ref names cannot hold a space: "<tip> <name>" per line.
  StatusOr<std::string> refs = GitOutput(
      git_dir, {"for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/heads"});
  if (!refs.ok()) return refs.status();
  std::set<std::string> merged;
  StatusOr<GitResult> merged_out =
      RunGit(git_dir, {"for-each-ref", "--format=%(refname:strip=2)",
                       "--merged=refs/heads/" + default_branch, "refs/heads"});
  if (!merged_out.ok()) return merged_out.status();
  if (merged_out->exit_code == 0) {
    for (std::string& name : SplitAll(merged_out->out, '\n')) {
      if (!name.empty()) merged.insert(std::move(name));
    }
  }
  std::vector<BranchInfo> out;
  if (refs->empty()) return out;
  std::vector<std::pair<std::string, std::string>> tips;  // (sha, name)
  for (const std::string& line : SplitAll(*refs, '\n')) {
    size_t space = line.find(' ');
    if (space != std::string::npos)
      tips.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  // One `git log` for every tip instead of one process per branch;
  // --no-walk shows each commit once, so branches at one tip share it.
  std::vector<std::string> args = {"log", "--no-walk=unsorted", "-z", kCommitFormat};
  for (const auto& tip : tips) args.push_back(tip.first);
  args.push_back("--");
  StatusOr<std::string> log = GitOutput(git_dir, args);
  if (!log.ok()) return log.status();
  std::vector<CommitInfo> commits;
  for (const std::string& record : SplitAll(*log, '\0')) {
    if (std::optional<CommitInfo> c = ParseCommit(record)) commits.push_back(std::move(*c));
  }
  for (const auto& [sha, name] : tips) {
    auto commit = std::find_if(commits.begin(), commits.end(),
                               [&](const CommitInfo& c) { return c.id == sha; });
    if (commit == commits.end()) continue;
    BranchInfo branch;
    branch.name = name;
    branch.commit = *commit;
    branch.merged = name != default_branch && merged.count(name) > 0;
    out.push_back(std::move(branch));
  }
  return out;
}

StatusOr<std::vector<CommitInfo>> ListCommits(const std::string& git_dir, const CommitQuery& q) {
  std::vector<std::string> args = LogArgs(q, "log");
  args.insert(args.begin() + 2, {"-z", kCommitFormat, "--skip=" + std::to_string(q.skip),
                                 "--max-count=" + std::to_string(q.max_count)});
  AddRevAndPath(q, &args);
  StatusOr<std::string> log = GitOutput(git_dir, args);
  if (!log.ok()) return log.status();
  std::vector<CommitInfo> out;
  if (log->empty()) return out;
  for (const std::string& record : SplitAll(*log, '\0')) {
    if (std::optional<CommitInfo> c = ParseCommit(record)) out.push_back(std::move(*c));
  }
  return out;
}

StatusOr<int64_t> CountCommits(const std::string& git_dir, const CommitQuery& q) {
  std::vector<std::string> args = LogArgs(q, "rev-list");
  args.insert(args.begin() + 2, "--count");
  AddRevAndPath(q, &args);
  StatusOr<std::string> count = GitOutput(git_dir, args);
  if (!count.ok()) return count.status();
  return static_cast<int64_t>(std::stoll("0" + *count));
}

StatusOr<std::optional<RepositoryFile>> ReadRepositoryFile(const std::string& git_dir,
                                                           const std::string& commit,
                                                           const std::string& path,
                                                           int64_t max_bytes) {
  std::optional<RepositoryFile> none;
  if (path.empty()) return none;
  // -z: the name unquoted; "<mode> blob <id>\t<path>" for a file.
  // git refuses paths outside the repository ("../x", "/etc"): not a file.
  StatusOr<GitResult> entry =
      RunGit(git_dir, {kLiteral, "ls-tree", "-z", "--full-tree", commit, "--", path});
  if (!entry.ok()) return entry.status();
  if (entry->exit_code != 0) return none;
  std::string line = entry->out.substr(0, entry->out.find('\0'));
  size_t tab = line.find('\t');
  if (tab == std::string::npos || line.substr(tab + 1) != path) return none;
  std::vector<std::string> head = SplitAll(line.substr(0, tab), ' ');
  if (head.size() != 3 || head[1] != "blob") return none;
  RepositoryFile file;
  file.path = path;
  file.blob_id = head[2];
  file.commit_id = commit;
  file.executable = head[0] == "100755";
  StatusOr<std::string> size = GitOutput(git_dir, {"cat-file", "-s", file.blob_id});
  if (!size.ok()) return size.status();
  file.size = std::stoll("0" + *size);
  if (file.size <= max_bytes) {
    StatusOr<GitResult> blob = RunGit(git_dir, {"cat-file", "blob", file.blob_id});
    if (!blob.ok()) return blob.status();
    file.content = std::move(blob->out);
  }
  StatusOr<std::string> last =
      GitOutput(git_dir, {kLiteral, "log", "-1", "--format=%H", commit, "--", path});
  if (!last.ok()) return last.status();
  file.last_commit_id = *last;
  return std::optional<RepositoryFile>(std::move(file));
}

}  // namespace slipway
