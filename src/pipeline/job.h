// The pipeline model: what every job keyword GitLab documents means, after
// includes, anchors, !reference, extends, default and inherit are resolved and
// parallel jobs are expanded. Raw keywords whose running is for later issues
// (image, services, trigger, release, pages ...) are kept as YAML nodes.
#ifndef SLIPWAY_PIPELINE_JOB_H_
#define SLIPWAY_PIPELINE_JOB_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "config/variables.h"
#include "pipeline/deploy_checks.h"
#include "util/diagnostic.h"

namespace slipway {

enum class When { kOnSuccess, kOnFailure, kAlways, kManual, kDelayed, kNever };
// "on_success", "on_failure", "always", "manual", "delayed", "never".
const char* WhenName(When w);
std::optional<When> ParseWhen(std::string_view s);

struct Need {
  std::string job;  // Final job name (a parallel instance's full name).
  bool artifacts = true;
  bool optional = false;
  // Cross-project / parent-pipeline needs; kept, never scheduled locally.
  std::string project;
  std::string ref;
  std::string pipeline;
  Mark mark;
};

struct Changes {
  std::vector<std::string> paths;
  std::string compare_to;  // Empty when not given.
};

struct Rule {
  Mark mark;
  std::optional<std::string> if_expr;  // Validated at load time.
  Mark if_mark;
  std::optional<Changes> changes;
  std::optional<std::vector<std::string>> exists;
  std::optional<When> when;
  std::string start_in;
  std::optional<bool> allow_failure;
  VariableList variables;
  std::optional<std::vector<Need>> needs;
  std::optional<bool> interruptible;
};

// only:/except: in their complex form (the simple list is `refs`).
struct OnlyExcept {
  bool present = false;
  Mark mark;
  std::vector<std::string> refs;
  std::vector<std::string> variables;  // Expressions, validated at load.
  std::vector<std::string> changes;
  std::string kubernetes;
};

struct AllowFailure {
  bool value = false;
  std::vector<int> exit_codes;  // Non-empty only for `allow_failure:exit_codes`.
};

struct Retry {
  int max = 0;                    // 0..2
  std::vector<std::string> when;  // Empty means "always".
  std::vector<int> exit_codes;
};

struct Artifacts {
  bool present = false;
  std::vector<std::string> paths;
  std::vector<std::string> exclude;
  bool untracked = false;
  std::string when = "on_success";  // on_success | on_failure | always
  std::string expire_in;
  std::string name;
  std::string expose_as;
  bool is_public = true;
  // reports: type -> paths (e.g. "junit" -> ["report.xml"], "dotenv" -> ...).
  std::map<std::string, std::vector<std::string>> reports;
};

struct Cache {
  std::string key = "default";         // Literal key (unexpanded).
  std::vector<std::string> key_files;  // key:files
  std::string key_prefix;              // key:prefix
  std::vector<std::string> paths;
  bool untracked = false;
  std::string policy = "pull-push";  // pull | push | pull-push
  std::string when = "on_success";   // on_success | on_failure | always
  std::vector<std::string> fallback_keys;
  bool unprotect = false;
};

struct Environment {
  std::string name;
  std::string url;
  std::string action = "start";  // start | prepare | stop | verify | access
  std::string on_stop;
  std::string auto_stop_in;
  std::string deployment_tier;
  std::optional<Node> kubernetes;
};

// trigger: jobs (GitLab's bridges) start a child or multi-project pipeline.
// `slipway run` runs it (exec/child_pipeline.h), `slipway serve` too
// (server/service_downstream.h); where nothing can (a scheduler without a
// DownstreamRunner) such a job
// fails when it would run, with this message and GitLab's failure_reason
// below, instead of reporting a success that did not happen.
inline constexpr char kTriggerNotSupported[] =
    "trigger: jobs (child and multi-project pipelines) are not supported yet";
inline constexpr char kTriggerFailureReason[] = "downstream_pipeline_creation_failed";

struct Job {
  std::string name;       // GitLab's name, e.g. "build: [linux, amd64]", "test 1/3".
  std::string base_name;  // The YAML key (differs from name for parallel jobs).
  Mark mark;              // The job's key in the YAML.

  std::string stage = "test";
  std::vector<std::string> before_script;  // Flattened; default: applied.
  std::vector<std::string> script;
  std::vector<std::string> after_script;
  // Effective variables: global ones (as allowed by inherit:variables) overlaid
  // with the job's own and, for parallel:matrix, the matrix values.
  VariableList variables;

  std::optional<std::vector<Need>> needs;  // nullopt: stage order; empty: needs: [].
  std::optional<std::vector<std::string>> dependencies;
  std::optional<std::vector<Rule>> rules;  // nullopt when the job has no rules:
  OnlyExcept only;
  OnlyExcept except;

  When when = When::kOnSuccess;
  std::string start_in;  // For When::kDelayed.
  AllowFailure allow_failure;
  bool allow_failure_set = false;  // Explicitly given (rules may still override).
  Retry retry;
  std::optional<int64_t> timeout_seconds;
  // parallel: N or matrix. index is 1-based; 0 when not parallel.
  int parallel_index = 0;
  int parallel_total = 0;

  Artifacts artifacts;
  std::vector<Cache> caches;
  std::string resource_group;
  std::optional<Environment> environment;
  bool interruptible = false;
  std::vector<std::string> tags;
  std::string coverage;

  // Kept verbatim for later issues.
  std::optional<Node> image;
  std::optional<Node> services;
  std::optional<Node> trigger;
  std::optional<Node> release;
  std::optional<Node> pages;
  std::optional<Node> hooks;
  std::optional<Node> id_tokens;
  std::optional<Node> secrets;
  std::optional<Node> identity;
  std::optional<Node> manual_confirmation;
  std::optional<Node> dast_configuration;
  std::optional<Node> run;
};

// GitLab's limit for a pipeline name (workflow:name), in characters; it
// applies to the name as written and once its variables are expanded.
inline constexpr size_t kMaxPipelineNameLength = 255;

// Characters (UTF-8 code points; a stray byte counts as one) in text, as
// GitLab counts them for length limits.
inline size_t CharacterCount(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

struct Workflow {
  std::optional<std::vector<Rule>> rules;
  std::string name;  // As written; Pipeline::name is it expanded.
  Mark name_mark;
  std::string auto_cancel_on_new_commit;
  std::string auto_cancel_on_job_failure;
};

// The static configuration: everything the YAML says, before any rule is
// evaluated against a particular commit.
struct PipelineConfig {
  std::vector<std::string> stages;  // Always starts with .pre and ends with .post.
  VariableList variables;           // Top-level variables:.
  Workflow workflow;
  std::vector<Job> jobs;    // In YAML order, parallel instances expanded in place.
  SlipwaySettings slipway;  // From the hidden `.slipway:` key (deploy_checks.h).

  const Job* FindJob(std::string_view name) const;
};

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_JOB_H_
