// `slipway lint` of trigger: jobs: their trigger: keyword as GitLab
// validates it and, where a child pipeline's files are known before it runs
// (trigger:include with local, template or project files; not an artifact
// a job makes), the child's configuration too, and its own children up to
// GitLab's nesting depth.
#ifndef SLIPWAY_PIPELINE_TRIGGER_LINT_H_
#define SLIPWAY_PIPELINE_TRIGGER_LINT_H_

#include "config/include_fetcher.h"
#include "pipeline/pipeline_context.h"
#include "util/diagnostic.h"

namespace slipway {

// Checks the trigger jobs of parent (loaded from parent.context's project and
// commit). Errors go to diags; those inside a child's files keep their
// file:line:col and job, and say which trigger job's child they are in:
// "... (child pipeline of trigger job 'deploy')". A child whose files
// cannot be read (the messages point at the trigger job's include entries)
// is a warning: GitLab's lint does not read children. fetcher may be null.
// Returns the number of child pipelines read.
int CheckTriggerJobs(const LoadedPipeline& parent, IncludeFetcher* fetcher, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_TRIGGER_LINT_H_
