// GitLab's merge of included configuration: a Ruby Hash#deep_merge!.
#ifndef SLIPWAY_CONFIG_DEEP_MERGE_H_
#define SLIPWAY_CONFIG_DEEP_MERGE_H_

#include "config/node.h"

namespace slipway {

// Merges overlay into base, as GitLab merges one included file into the
// configuration merged so far: a key only in base stays; a key in both whose
// values are both maps is merged recursively; otherwise overlay's value
// replaces base's, keeping the key's position; keys only in overlay are
// appended in overlay's order. Sequences are replaced, never concatenated.
// If base is not a map it becomes a copy of overlay.
void DeepMerge(Node* base, Node overlay);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_DEEP_MERGE_H_
