// `include:rules`: whether an include entry applies.
#ifndef SLIPWAY_CONFIG_INCLUDE_RULES_H_
#define SLIPWAY_CONFIG_INCLUDE_RULES_H_

#include <optional>
#include <string>

#include "config/node.h"
#include "config/variables.h"
#include "util/diagnostic.h"
#include "util/source_tree.h"

namespace slipway {

// Evaluates rules (the value of an include's `rules:`, or nullptr) the way
// GitLab filters includes: no rules means included; otherwise the first rule
// whose clauses all hold decides (`when: never` excludes, `always` or no
// `when` includes), and no matching rule excludes. Clauses: `if` (a CI/CD
// expression over variables), `exists` (a list of fnmatch patterns, or
// `paths:` with them, variables expanded with expand_existing, matched
// against the files under project_dir; true when any file matches), `changes` (always true: a local
// run has no push to compare with, which is also what GitLab does without a diff base). Returns
// nullopt after reporting a malformed rule.
std::optional<bool> EvaluateIncludeRules(const Node* rules, const SourceTree& tree,
                                         const VariableList& variables, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_INCLUDE_RULES_H_
