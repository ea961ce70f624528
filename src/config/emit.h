// Writing Node trees back as YAML.
#ifndef SLIPWAY_CONFIG_EMIT_H_
#define SLIPWAY_CONFIG_EMIT_H_

#include <string>

#include "config/node.h"

namespace slipway {

// Writes a node tree back as YAML (block style, stable key order as in the
// tree), as `slipway config` prints the merged configuration.
std::string EmitYaml(const Node& node);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_EMIT_H_
