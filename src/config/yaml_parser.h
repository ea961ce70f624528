// Reading YAML text into Node trees (libyaml's event parser; see
// yaml_parser.cc for why events rather than a document model).
#ifndef SLIPWAY_CONFIG_YAML_PARSER_H_
#define SLIPWAY_CONFIG_YAML_PARSER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "util/diagnostic.h"

namespace slipway {

// Parses YAML text into documents. Marks name `file`. Anchors/aliases become
// copies, `<<` merge keys are applied (explicit keys win), duplicate keys are
// warnings (the later value wins). Returns nullopt after reporting an error.
std::optional<std::vector<Node>> ParseYaml(std::string_view text, const std::string& file,
                                           Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_YAML_PARSER_H_
