// Loading the pipeline of a server-side pipeline record: its commit checked
// out under runs/<id>/src, `.gitlab-ci.yml` read from that commit's git
// objects (not its files) with the same code as `slipway run --ref`
// (LoadPipelineFile, InstantiatePipeline), and the predefined
// variables of a server pipeline (docs/server.md): CI_PIPELINE_SOURCE,
// CI_COMMIT_BRANCH or CI_COMMIT_TAG, CI_COMMIT_SHA / BEFORE_SHA, the store's
// pipeline and project ids, and the request's variables on top.
#ifndef SLIPWAY_SERVER_SERVER_PIPELINE_H_
#define SLIPWAY_SERVER_SERVER_PIPELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/instantiate.h"
#include "pipeline/merge_request.h"
#include "pipeline/pipeline_context.h"
#include "store/store.h"
#include "util/status.h"

namespace slipway {

struct ServerPipelineInput {
  ProjectRecord project;
  // A checkout of sha (RepoMirror::Checkout): CI_COMMIT_* are read from it,
  // and the pipeline's files from sha's objects in its repository.
  std::string checkout_dir;
  std::string ref;
  bool tag = false;
  std::string sha;
  std::string before_sha;  // Empty: 40 zeros.
  std::string source = "api";
  int64_t pipeline_id = 0;  // 0 before the pipeline is stored.
  int64_t pipeline_iid = 0;
  int64_t created_at_ms = 0;  // 0: now.
  std::vector<StoredVariable> variables;
  // The project's CI/CD variables: below `variables` in precedence; the
  // protected ones only for a protected ref (CI_COMMIT_REF_PROTECTED).
  std::vector<ProjectVariableRecord> project_variables;
  // Created during a deploy freeze (deploy_freeze.h): CI_DEPLOY_FREEZE=true.
  bool deploy_freeze = false;
  // Where file-type request and project variables are written (one file
  // per key); the variable's value becomes the file's path, as in GitLab.
  std::string file_variables_dir;
  // A merge-request pipeline's merge request (ApplyMergeRequest), and
  // CI_OPEN_MERGE_REQUESTS (empty: not set).
  std::optional<MergeRequest> merge_request;
  std::string open_merge_requests;
  // Where includes that are not local come from; null: they are errors.
  IncludeFetcher* fetcher = nullptr;
  // CI Lint (PipelineService::Lint): the text to read as .gitlab-ci.yml
  // instead of the commit's file, and where to list the files read. Null:
  // the commit's file, no list.
  const std::string* root_text = nullptr;
  std::vector<IncludeSource>* sources = nullptr;
};

struct ServerPipeline {
  PipelineContext context;
  // Set when the file is valid; `created` false when workflow:rules or the
  // jobs' rules leave nothing to run.
  std::optional<Pipeline> pipeline;
  // The diagnostics as `slipway lint` prints them, one per line; non-empty
  // when the file is invalid.
  std::string errors;
  // The warnings as `slipway lint` prints them (valid or not).
  std::vector<std::string> warnings;
  // The merged configuration, includes and anchors resolved; null when the
  // file could not be loaded.
  Node root;
  // The project variables the pipeline got (also in context.cli_variables,
  // under its own variables), and the values of the masked ones.
  VariableList project_variables;
  std::vector<std::string> masked_values;
};

// Errors are failures to read the repository, not an invalid file.
StatusOr<ServerPipeline> LoadServerPipeline(const ServerPipelineInput& input);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_SERVER_PIPELINE_H_
