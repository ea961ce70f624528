// `extends:` as GitLab resolves it, before any keyword is interpreted: each
// entry that extends others becomes the deep merge of its parents (in the
// order listed, later parents winning) with its own keys on top, merged as
// config/deep_merge.h merges: maps key by key, anything else replaced whole.
#ifndef SLIPWAY_CONFIG_EXTENDS_H_
#define SLIPWAY_CONFIG_EXTENDS_H_

#include <vector>

#include "config/node.h"
#include "util/diagnostic.h"

namespace slipway {

// GitLab stops following `extends` when an entry that itself extends
// something is reached through more than this many ancestors.
inline constexpr int kMaxExtendsNesting = 10;

// Resolves `extends` for every entry of entries in place; parents are looked
// up among the same entries (hidden or not). Errors name the entry and the
// `extends` key: unknown parents, parents that are not hashes, cycles and
// chains nested too deeply. Returns false if any error was reported; the
// entries that failed keep their unresolved value.
bool ResolveExtends(std::vector<MapEntry>* entries, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_EXTENDS_H_
