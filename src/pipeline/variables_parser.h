// Reading a `variables:` block (top level, job, rules:variables) into a
// VariableList, with GitLab's stringification of scalar values and its
// validation of the hash form (value / description / expand / options).
#ifndef SLIPWAY_PIPELINE_VARIABLES_PARSER_H_
#define SLIPWAY_PIPELINE_VARIABLES_PARSER_H_

#include <optional>
#include <string>

#include "config/keyword_reader.h"
#include "config/node.h"
#include "config/variables.h"

namespace slipway {

enum class VariablesScope {
  kTopLevel,  // value, description, expand, options
  kJob,       // value, expand
  kRule,      // plain values only
};

// Returns nullopt after reporting an error through reader. key names the
// block in messages (e.g. "variables", "rules:0:variables").
std::optional<VariableList> ParseVariables(const Node& node, VariablesScope scope,
                                           const std::string& key, KeywordReader* reader);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_VARIABLES_PARSER_H_
