// The conditional keywords: `rules:` (job and workflow), `needs:` (job and
// rules:needs) and `only:` / `except:`, read into the pipeline model with
// GitLab's validation. Evaluating them is instantiate's business.
#ifndef SLIPWAY_PIPELINE_RULES_PARSER_H_
#define SLIPWAY_PIPELINE_RULES_PARSER_H_

#include <optional>
#include <string>
#include <vector>

#include "config/keyword_reader.h"
#include "config/node.h"
#include "pipeline/job.h"

namespace slipway {

enum class RulesScope {
  kJob,       // if changes exists when start_in allow_failure variables needs interruptible
  kWorkflow,  // if changes exists when variables auto_cancel; when: always | never
};

// Each parser returns nullopt after reporting errors through reader; key is
// the keyword path used in messages ("rules", "workflow:rules", ...).
std::optional<std::vector<Rule>> ParseRules(const Node& node, RulesScope scope,
                                            const std::string& key, KeywordReader* reader);

// `needs:` entries: job names, {job, artifacts, optional, parallel:matrix},
// {pipeline, job, artifacts}, {project, job, ref, artifacts}. Nested lists
// (from anchors) are flattened and null items skipped, as GitLab does.
// needs:parallel:matrix becomes one Need per selected instance.
std::optional<std::vector<Need>> ParseNeeds(const Node& node, const std::string& key,
                                            KeywordReader* reader);

std::optional<OnlyExcept> ParseOnlyExcept(const Node& node, const std::string& key,
                                          KeywordReader* reader);

// Checks the syntax of an `if:` (or only:variables) expression; reports
// "invalid expression syntax: ..." and returns false when it is wrong.
bool ValidateIfExpression(const Node& node, const std::string& key, KeywordReader* reader);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_RULES_PARSER_H_
