// Reading a pipeline: the root file and everything it includes, merged the way
// GitLab merges them, with anchors, merge keys and !reference resolved.
#ifndef SLIPWAY_CONFIG_LOADER_H_
#define SLIPWAY_CONFIG_LOADER_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/include_fetcher.h"
#include "config/node.h"
#include "config/variables.h"
#include "util/diagnostic.h"
#include "util/status.h"

namespace slipway {

// One file a load read, for `slipway config --sources`.
struct IncludeSource {
  std::string name;    // As messages name it: a path, a URL, a template name.
  std::string origin;  // "local", or the URL (credentials masked).
  bool from_cache = false;
};

struct LoadOptions {
  std::string project_dir = ".";  // Root for `include: local` paths.
  // Relative to project_dir, or absolute; it must lie inside project_dir
  // with every link resolved (SourceTree::Locate), else loading fails.
  std::string file = ".gitlab-ci.yml";
  // When set, the root file's text (GitLab's CI Lint of given content):
  // `file` is not read but names it in messages; its includes are read as
  // usual. Not owned.
  const std::string* root_text = nullptr;
  // Variables visible to `include:rules` and `include` path expansion
  // (predefined CI_* variables and --variable values).
  VariableList variables;
  // When set, `variables` is ignored and this is called instead, at most
  // once, the first time an include needs variables (a `$` in its location,
  // `rules:`, or a `spec:inputs` header): reading them from git costs
  // processes that a pipeline without such includes never needs.
  std::function<VariableList()> lazy_variables;
  // Pipeline inputs for the root file's `spec:inputs` header: a map from
  // input name to value, or null to use the defaults.
  Node inputs;
  // A commit id: read the root file, local includes and the files
  // include:rules:exists looks for from this commit of the repository at
  // project_dir instead of the disk (`slipway run --ref`, the server).
  // Messages then name files `<commit_label>:<path>`, or `<path>` when the
  // label is empty. Either way no file is read through a symbolic link
  // (util/source_tree.h).
  std::string commit;
  std::string commit_label;
  // Reads `remote`, `template` and `project` includes (not owned). Null: such includes
  // are errors ("cannot fetch ...").
  IncludeFetcher* fetcher = nullptr;
  // When set, every file read (the root file first) is appended, in the
  // order read (not owned).
  std::vector<IncludeSource>* sources = nullptr;
  // A child pipeline's configuration (trigger:include): the root is not read
  // from `file` but is `include: root_include`, as GitLab builds it
  // (Bridge#yaml_for_downstream); messages about the root name `file`.
  std::optional<Node> root_include;
  // Reads `include: artifact` entries (the dynamic child pipeline): the file
  // at `path` among the artifacts of job `job`. Returns the name messages
  // give the file and its text, or the reason it cannot be read. Null: such
  // includes are errors ("cannot fetch ...").
  struct ArtifactFile {
    std::string name;
    std::string text;
  };
  std::function<StatusOr<ArtifactFile>(const std::string& job, const std::string& path)>
      read_artifact;
};

// GitLab's limit on included files per pipeline (each inclusion counts, also
// repeated ones; the root file does not).
inline constexpr int kMaxIncludes = 150;

// Loads the root file and its includes into one merged top-level map, then
// resolves !reference tags. Returns nullopt if any error was reported.
// `include: local` (string, `local:`, wildcards) is read from the project;
// `remote`, `template` and `project` through options.fetcher; `component`
// and `artifact` includes whose rules let them in are errors at the include
// ("slipway cannot fetch ..."). See docs/config-loading.md for the merge
// order, limits and messages, and docs/includes.md for fetched includes.
std::optional<Node> LoadConfig(const LoadOptions& options, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_LOADER_H_
