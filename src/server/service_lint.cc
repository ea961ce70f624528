// PipelineService::Lint (pipeline_lint.h): CreatePipeline's reading of the
// pipeline without its storing. Includes are fetched into the draft's
// directory and thrown away with it.
#include "server/pipeline_lint.h"
#include "server/service_impl.h"
#include "util/ref_name.h"

namespace slipway {
namespace internal {

StatusOr<LintResult> Service::Lint(const LintRequest& request) {
  StatusOr<ProjectRecord> project = Project(request.project_id);
  if (!project.ok()) return project.status();
  LintResult out;
  out.ref = request.ref.empty() ? project->default_branch : request.ref;
  if (Status valid = CheckBranchOrTagName(out.ref, false); !valid.ok()) return valid;
  DraftDir tmp;
  StatusOr<std::string> sha = CheckoutDraft(*project, out.ref, false, request.sha, &tmp);
  if (!sha.ok()) return sha.status();
  out.sha = *sha;
  PipelineRecord draft;
  draft.project_id = project->id;
  draft.ref = out.ref;
  draft.sha = out.sha;
  draft.source = "push";
  LintInput lint;
  lint.root_text = request.content ? &*request.content : nullptr;
  lint.sources = &out.sources;
  StatusOr<ServerPipeline> loaded =
      Load(*project, draft, tmp.path + "/src", tmp.path + "/variables", lint);
  if (!loaded.ok()) return loaded.status();
  out.loaded = std::move(*loaded);
  return out;
}

}  // namespace internal
}  // namespace slipway
