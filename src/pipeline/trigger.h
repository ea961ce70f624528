// What a trigger: job (GitLab's bridge) asks for: a child pipeline built from
// include entries (trigger:include) or another project's pipeline
// (trigger:project), whether the trigger job mirrors its status
// (strategy: depend) and which variables it forwards. GitLab's validation
// (Entry::Trigger, Entry::Bridge) with its messages.
#ifndef SLIPWAY_PIPELINE_TRIGGER_H_
#define SLIPWAY_PIPELINE_TRIGGER_H_

#include <optional>
#include <string>

#include "config/include_fetcher.h"
#include "config/loader.h"
#include "config/node.h"
#include "pipeline/instantiate.h"
#include "pipeline/job.h"
#include "util/diagnostic.h"

namespace slipway {

// GitLab's limit on trigger:include entries of one child pipeline.
inline constexpr size_t kMaxTriggerIncludes = 3;
// Levels of child pipelines below the pipeline a user started: a child may
// start a grandchild, which may start no further child (GitLab: "Parent and
// child pipelines have a maximum depth of two levels of child pipelines").
inline constexpr int kMaxChildPipelineDepth = 2;
// GitLab's failure_reason for a trigger job past that depth, and its words.
inline constexpr char kMaxDepthFailureReason[] = "reached_max_descendant_pipelines_depth";
inline constexpr char kMaxDepthMessage[] = "You reached the maximum depth of child pipelines";

struct Trigger {
  enum class Kind { kChild, kProject };
  Kind kind = Kind::kChild;
  // kChild: the include entries, always a sequence of what `include:` takes
  // (`include: path` becomes `[path]`), as the child's root file would
  // write them.
  Node include;
  // kProject: the project's full path and the branch (empty: its default
  // branch), as written (variables are expanded when the job runs).
  std::string project;
  std::string branch;
  // strategy: depend, or mirror (GitLab 18.2: the trigger job shows the
  // downstream pipeline's status as it changes; once it ends, its status,
  // as with depend). Empty: none.
  std::string strategy;
  bool depend = false;                      // A strategy is set: the trigger job waits.
  bool forward_yaml_variables = true;       // forward:yaml_variables
  bool forward_pipeline_variables = false;  // forward:pipeline_variables
  Mark mark;
};

// Reads job.trigger. Reports what GitLab rejects (unknown keys, include and
// project together, a strategy other than depend or mirror, more than
// kMaxTriggerIncludes includes, wrong types) to diags with the job's name and
// returns nullopt.
std::optional<Trigger> ParseTrigger(const Node& trigger, const std::string& job_name,
                                    Diagnostics* diags);

// The include entries of trigger whose file is known before the pipeline
// runs (`local`, `template`, `project`), or nullopt when one comes from an
// artifact: `slipway lint` reads a child pipeline only when it can read all
// of it.
std::optional<Node> StaticTriggerIncludes(const Trigger& trigger);

// How a child pipeline's configuration is loaded: `include:` of the
// trigger's entries (LoadOptions::root_include), from child's project and
// commit, with its predefined and pipeline variables visible to
// include:rules; messages about the root name the trigger job's file.
// kChild triggers only. read_artifact is left for the caller.
LoadOptions ChildLoadOptions(const Trigger& trigger, const PipelineContext& child,
                             IncludeFetcher* fetcher);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_TRIGGER_H_
