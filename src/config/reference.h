// `!reference [key, key, ...]` tags, resolved on the merged configuration
// (after includes, before `extends`), as GitLab resolves them.
#ifndef SLIPWAY_CONFIG_REFERENCE_H_
#define SLIPWAY_CONFIG_REFERENCE_H_

#include "config/node.h"
#include "util/diagnostic.h"

namespace slipway {

// Replaces every node tagged `!reference` in root with a copy of the value at
// that key path of root (maps only; references inside the copied value are
// resolved too). A reference that is an item of a sequence and yields a
// sequence is spliced into it, one level, the way GitLab flattens
// `script: [!reference [.setup, script], make]`. Reports, at the tag's mark,
// a path that does not exist or leads to null ("could not be found"), a tag
// that is not a non-empty list of strings ("is not valid"), references
// that lead back to themselves ("is part of a circular chain"), and the
// bounds that keep resolution from recursing without end: more than
// kMaxReferenceNesting references resolved through one another, a result
// nested deeper than kMaxNodeDepth, more than 1,000,000 nodes copied.
// Returns false if anything was reported; the offending nodes become null.
bool ResolveReferences(Node* root, Diagnostics* diags);

// How many !reference tags may be resolved through one another (a value
// holding a reference whose value holds a reference …). GitLab sets no
// number; real pipelines use a handful.
inline constexpr size_t kMaxReferenceNesting = 100;

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_REFERENCE_H_
