// GitLab's predefined CI/CD variables (CI_*, GITLAB_*), filled from the git
// repository being run and from the run itself. docs/variables.md lists every
// variable and where its value comes from.
#ifndef SLIPWAY_PIPELINE_PREDEFINED_H_
#define SLIPWAY_PIPELINE_PREDEFINED_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/variables.h"
#include "pipeline/job.h"
#include "util/status.h"

namespace slipway {

struct PredefinedOptions {
  std::string project_dir = ".";
  std::string config_path = ".gitlab-ci.yml";  // CI_CONFIG_PATH.
  std::string pipeline_source = "push";        // CI_PIPELINE_SOURCE.
  // Run as if the pipeline were for this branch or tag instead of what HEAD
  // says. At most one of them should be set; tag wins if both are.
  std::optional<std::string> branch;
  std::optional<std::string> tag;
  std::optional<std::string> default_branch;  // Overrides the detection.
  // A revision (`slipway run --ref REV`): describe the commit it names
  // instead of HEAD; a branch or tag name also sets the ref (see
  // docs/variables.md). Empty: HEAD.
  std::string revision;
  int64_t pipeline_id = 1;
  int64_t pipeline_iid = 1;
  std::string created_at;  // ISO 8601 UTC, e.g. "2026-01-02T03:04:05Z"; empty: now.
};

// What the repository says about the commit a pipeline runs for.
struct RepositoryInfo {
  bool is_git = false;      // false: not a repository, or git is not installed.
  bool has_commit = false;  // false for a repository without commits.
  std::string sha;          // 40 hex digits; zeros without a commit.
  std::string ref;          // Branch or tag name (CI_COMMIT_REF_NAME).
  bool is_tag = false;
  std::string tag_message;  // An annotated tag's message; empty otherwise.
  std::string default_branch;
  std::string message;     // Full commit message, trailing newlines removed.
  std::string author;      // "Name <email>".
  std::string timestamp;   // Committer date in UTC, "2026-01-02T03:04:05Z".
  std::string origin_url;  // Empty without an `origin` remote.
  std::string user_name;   // git config user.name, else the author's name.
  std::string user_email;
};

// The error ReadRepositoryInfo gives for a project directory that does not
// exist; Ok otherwise.
Status CheckProjectDirectory(const std::string& project_dir);

// Reads RepositoryInfo with git. Never fails for a directory that exists:
// without git, or without commits, the fields get documented defaults.
// Errors when project_dir does not exist, and when options.revision is set
// but names no commit ("--ref REV: ...").
StatusOr<RepositoryInfo> ReadRepositoryInfo(const PredefinedOptions& options);

// The pipeline-level predefined variables, in the order docs/variables.md
// lists them.
StatusOr<VariableList> PredefinedVariables(const PredefinedOptions& options);
VariableList PredefinedVariablesFor(const RepositoryInfo& repo, const PredefinedOptions& options);

// Per-job variables: CI_JOB_NAME, CI_JOB_NAME_SLUG, CI_JOB_STAGE, CI_JOB_ID,
// CI_JOB_URL, CI_JOB_MANUAL, CI_JOB_TIMEOUT, CI_NODE_INDEX / CI_NODE_TOTAL
// (parallel jobs only) and CI_ENVIRONMENT_* (jobs with an environment; its
// name and url expanded with `variables`, the job's other variables).
// `pipeline` is the result of PredefinedVariables (for CI_PROJECT_URL).
VariableList JobPredefinedVariables(const Job& job, int64_t job_id, const VariableList& pipeline,
                                    const VariableList& variables);

// GitLab's slug: lowercase, every character but a-z and 0-9 replaced by '-',
// cut to 63 bytes, then leading and trailing '-' removed.
std::string Slugify(std::string_view text);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_PREDEFINED_H_
