#include "server/deployment_commits.h"

#include <cctype>
#include <sstream>

#include "util/git.h"

namespace slipway {
namespace {

bool IsCommitId(const std::string& sha) {
  if (sha.size() < 7 || sha.size() > 64) return false;
  for (char c : sha) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

StatusOr<std::vector<DeploymentCommit>> ShippedCommits(const std::string& git_dir,
                                                       const std::string& sha,
                                                       const std::string& previous_sha) {
  if (!IsCommitId(sha)) return Status::Error("'" + sha + "' is not a commit id");
  if (!previous_sha.empty() && !IsCommitId(previous_sha)) {
    return Status::Error("'" + previous_sha + "' is not a commit id");
  }
  std::vector<std::string> args = {"log", "--format=%H %ct",
                                   "--max-count=" + std::to_string(kMaxCommitsPerDeployment)};
  if (previous_sha.empty()) {
    args[2] = "--max-count=1";
    args.push_back(sha);
  } else {
    args.push_back(sha);
    args.push_back("^" + previous_sha);
  }
  args.push_back("--");
  StatusOr<std::string> out = GitOutput(git_dir, args);
  if (!out.ok()) return out.status();
  std::vector<DeploymentCommit> commits;
  std::istringstream lines(*out);
  std::string line;
  while (std::getline(lines, line)) {
    size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    DeploymentCommit c;
    c.sha = line.substr(0, space);
    c.committed_at = std::stoll(line.substr(space + 1)) * 1000;
    commits.push_back(std::move(c));
  }
  return commits;
}

Status RecordShippedCommits(Store* store, const std::string& git_dir,
                            const DeploymentRecord& deployment) {
  DeploymentFilter filter;
  filter.project_id = deployment.project_id;
  filter.environment_id = deployment.environment_id;
  filter.status = "success";
  filter.order_by = "id";
  filter.sort = "desc";
  filter.per_page = 2;
  StatusOr<Page<DeploymentRecord>> recent = store->ListDeployments(filter);
  if (!recent.ok()) return recent.status();
  std::string previous;
  for (const DeploymentRecord& d : recent->items) {
    if (d.id < deployment.id) {
      previous = d.sha;
      break;
    }
  }
  StatusOr<std::vector<DeploymentCommit>> commits =
      ShippedCommits(git_dir, deployment.sha, previous);
  if (!commits.ok()) return commits.status();
  return store->AddDeploymentCommits(deployment.id, *commits);
}

}  // namespace slipway
