#include "pipeline/trigger_lint.h"

#include "pipeline/trigger.h"

namespace slipway {
namespace {

int CheckLevel(const PipelineConfig& config, const PipelineContext& context,
               IncludeFetcher* fetcher, int child_depth, const std::string& chain,
               Diagnostics* diags) {
  int read = 0;
  for (const Job& job : config.jobs) {
    if (!job.trigger) continue;
    std::string where = chain.empty() ? "trigger job '" + job.name + "'"
                                      : "trigger job '" + job.name + "' in " + chain;
    Diagnostics own;
    std::optional<Trigger> trigger = ParseTrigger(*job.trigger, job.name, &own);
    for (Diagnostic d : own.items()) {
      if (!chain.empty()) d.message += " (" + chain + ")";
      diags->Add(std::move(d));
    }
    if (!trigger) continue;
    // Past GitLab's depth the child is never created: nothing to read.
    if (!StaticTriggerIncludes(*trigger) || child_depth >= kMaxChildPipelineDepth) continue;
    PipelineContext child_context = context;
    child_context.predefined.Set("CI_PIPELINE_SOURCE", "parent_pipeline");
    LoadOptions load = ChildLoadOptions(*trigger, child_context, fetcher);
    LoadedPipeline child;
    Diagnostics found;
    std::string in = "child pipeline of " + where;
    bool ok = LoadAndBuild(load, &child, &found);
    for (Diagnostic d : found.items()) {
      // GitLab's lint does not read children at all. What is wrong inside a
      // child is an error (its creation would fail); its warnings are left
      // for its own lint. At the trigger's own include entries the child's
      // files cannot be read here (not in the repository, not fetched): a
      // warning.
      bool unreadable = d.mark.file == job.mark.file;
      if (d.severity == Severity::kWarning && !unreadable) continue;
      if (unreadable) d.severity = Severity::kWarning;
      d.message += " (" + in + ")";
      diags->Add(std::move(d));
    }
    if (ok) ++read;
    if (ok) read += CheckLevel(child.config, context, fetcher, child_depth + 1, in, diags);
  }
  return read;
}

}  // namespace

int CheckTriggerJobs(const LoadedPipeline& parent, IncludeFetcher* fetcher, Diagnostics* diags) {
  return CheckLevel(parent.config, parent.context, fetcher, 0, "", diags);
}

}  // namespace slipway
