// `parallel: N` and `parallel:matrix`: the instances GitLab creates from one
// job, with GitLab's names ("test 2/5", "build: [linux, amd64]") and, for a
// matrix, the variables of each instance.
#ifndef SLIPWAY_PIPELINE_PARALLEL_H_
#define SLIPWAY_PIPELINE_PARALLEL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/keyword_reader.h"
#include "config/node.h"
#include "config/variables.h"

namespace slipway {

// GitLab's limit on instances per job, for `parallel: N` and for the sum of
// all matrix entries.
inline constexpr int kMaxParallel = 200;

struct ParallelInstance {
  std::string name;
  int index = 0;  // 1-based.
  int total = 0;
  VariableList variables;  // Matrix values; empty for parallel: N.
};

// Expands the `parallel:` value of job base_name. Returns nullopt after
// reporting an error (key "parallel...") through reader.
std::optional<std::vector<ParallelInstance>> ExpandParallel(const std::string& base_name,
                                                            const Node& parallel,
                                                            KeywordReader* reader);

// Expands a `matrix:` list (the value under parallel:matrix, also used by
// needs:parallel:matrix) for job base_name. key is the matrix's keyword path.
std::optional<std::vector<ParallelInstance>> ExpandMatrix(const std::string& base_name,
                                                          const Node& matrix,
                                                          const std::string& key,
                                                          KeywordReader* reader);

// Matrix expressions: replaces each `$[[ matrix.NAME ]]` in text with the
// value of NAME in one instance's matrix variables, as GitLab does in the
// `needs` of a parallel:matrix job. Returns nullopt and sets *unknown to the
// identifier when NAME is not one of the instance's matrix variables.
std::optional<std::string> InterpolateMatrix(std::string_view text, const VariableList& values,
                                             std::string* unknown);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_PARALLEL_H_
