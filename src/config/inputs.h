// CI/CD inputs: a file's `spec:inputs` header, the values given to it (by
// `include:inputs`, or to the root file by the pipeline), and the
// `$[[ inputs.NAME | function ... ]]` interpolation of the file's content.
#ifndef SLIPWAY_CONFIG_INPUTS_H_
#define SLIPWAY_CONFIG_INPUTS_H_

#include <string>
#include <vector>

#include "config/node.h"
#include "config/variables.h"
#include "util/diagnostic.h"

namespace slipway {

// Where the values come from, for error messages.
struct InputsSource {
  // Mark of the `include` entry (or of the header for the root file); spec
  // and argument errors are reported here.
  Mark mark;
  // Prefix of those messages, e.g. "`templates/a.yml`: " (GitLab names the
  // included file this way); may be empty.
  std::string prefix;
};

// True when a file's documents start with a `spec:` header (GitLab: more
// than one document and the first is a map with a `spec` key).
bool HasSpecHeader(const std::vector<Node>& documents);

// Validates `args` (a map, or null/absent when nothing was given) against
// the header's `spec:inputs` and interpolates every `$[[ ... ]]` block in the
// keys and values of content. Types string (default), number, boolean and
// array; `default` (an input without one is required), `options`, `regex`;
// functions expand_vars, truncate(offset,length) and posix_escape, at most 3
// per block; `$[[ matrix.* ]]` blocks are left alone. A block that is the
// whole scalar takes the input's type; inside a longer string it is written
// as text. Reports every problem and returns false if there was any.
bool ApplyInputs(const Node& header, const Node* args, const InputsSource& source,
                 const VariableList& variables, Node* content, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_INPUTS_H_
