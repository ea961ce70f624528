// Evaluating the conditions that decide whether a job (or a pipeline) is
// created: `rules` (if / changes / exists), and the older `only` / `except`
// (refs, variables, changes, kubernetes), with GitLab's semantics.
#ifndef SLIPWAY_PIPELINE_RULES_H_
#define SLIPWAY_PIPELINE_RULES_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/variables.h"
#include "pipeline/job.h"
#include "util/status.h"

namespace slipway {

// Answers that are costly to compute (they run git or walk the tree) and the
// same for every job of a pipeline. Not thread-safe.
struct RuleCache {
  // The files `exists` patterns are matched against (project-relative).
  std::optional<std::vector<std::string>> project_files;
  // compare_to revision -> files changed since it; nullopt when the
  // revision names no commit.
  std::map<std::string, std::optional<std::vector<std::string>>> changed_since;
};

// What the conditions look at. Not owning: the pointed-to objects outlive it.
struct RuleContext {
  // Root for `exists` patterns and `changes:compare_to` diffs.
  std::string project_dir = ".";
  // The commit id the pipeline runs (`slipway run --ref`): `exists` looks at
  // its files and `compare_to` diffs end at it. Empty: the working tree.
  std::string commit;
  // The variables `if:` expressions see and that `changes` / `exists`
  // patterns are expanded with. Never null when evaluating.
  const VariableList* variables = nullptr;
  // Paths changed by the pipeline; nullopt means unknown, and then `changes`
  // is true, as GitLab does for pipelines without a diff base.
  const std::optional<std::vector<std::string>>* changed_files = nullptr;
  // The pipeline's ref and source, for only/except refs.
  std::string ref;
  bool is_tag = false;
  std::string source = "push";
  std::string project_path;  // CI_PROJECT_PATH, for `ref@group/project`.
  // Where git and file-system answers are kept between evaluations; point
  // every job's context of one pipeline at the same cache so each query runs
  // once. Null: a cache private to this context is used.
  RuleCache* cache = nullptr;
  mutable RuleCache own_cache;
};

// Whether one rule's clauses all hold (a rule without clauses always does).
// Errors, already phrased for the user, when an expression does not parse or
// `compare_to` names no commit.
StatusOr<bool> RuleMatches(const Rule& rule, const RuleContext& context);

// The first rule that matches, or nullopt when none does.
StatusOr<std::optional<size_t>> FirstMatchingRule(const std::vector<Rule>& rules,
                                                  const RuleContext& context);

// only/except. `only` is the job's only: or, when absent, the default GitLab
// applies (refs: branches, tags) unless `default_only` is false (jobs of a
// pipeline with workflow:rules get no default). A job is included when every
// given key of `only` has a matching condition and no given key of `except`
// has one.
StatusOr<bool> OnlyExceptIncludes(const OnlyExcept& only, const OnlyExcept& except,
                                  bool default_only, const RuleContext& context);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_RULES_H_
