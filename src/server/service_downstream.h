// Internal to src/server: trigger: jobs of the server's pipelines
// (docs/child-pipelines.md). A child pipeline (trigger:include) and another
// project's pipeline (trigger:project) are stored pipelines of their own,
// linked to the trigger job and its pipeline (upstream_pipeline_id,
// upstream_job_id), run by the service like any other.
#ifndef SLIPWAY_SERVER_SERVICE_DOWNSTREAM_H_
#define SLIPWAY_SERVER_SERVICE_DOWNSTREAM_H_

#include "exec/downstream.h"
#include "pipeline/pipeline_context.h"
#include "pipeline/trigger.h"
#include "server/service_impl.h"

namespace slipway {
namespace internal {

// GitLab's failure reasons of a trigger:project job refused
// (Ci::CreateDownstreamPipelineService), with its messages.
inline constexpr char kProjectNotFoundReason[] = "downstream_bridge_project_not_found";
inline constexpr char kNoPermissionsReason[] = "insufficient_bridge_permissions";
inline constexpr char kInvalidTriggerReason[] = "invalid_bridge_trigger";

// The jobs of the parent whose artifacts trigger:include's `artifact`
// entries name, in order, once each.
std::vector<std::string> TriggerArtifactJobs(const Trigger& trigger);

// The DownstreamRunner of one run of a stored pipeline (record, loaded with
// context). Thread-safe: its state is the service's and the store's.
//  - The trigger job's attempt creates the downstream pipeline through
//    Service::CreatePipeline (stored, queued) and, without strategy:
//    depend, succeeds at once; with it, it runs the pipeline on its own
//    thread (Service::AwaitPipeline) and takes its status.
//  - trigger:project: the project must be registered on this server and,
//    as for include:project, be of the triggering project's top-level
//    group; a project may not trigger itself (GitLab's rule).
//  - Canceling the attempt cancels the pipeline it waits for.
class ServerDownstream : public DownstreamRunner {
 public:
  ServerDownstream(Service* service, PipelineRecord record, ProjectRecord project,
                   PipelineContext context)
      : service_(service),
        record_(std::move(record)),
        project_(std::move(project)),
        context_(std::move(context)) {}
  JobResult Run(const Job& job, const JobSpec& spec, const JobHost& host, LogSink* log,
                const CancelToken& cancel) override;

 private:
  // Levels of child pipelines, and of downstream pipelines of any kind,
  // above record_ (0: a pipeline nobody triggered).
  void Depths(int* child_depth, int* depth) const;
  // The registered project trigger:project names, or why it may not be
  // triggered (failure_reason, message).
  StatusOr<ProjectRecord> TriggeredProject(const std::string& path, std::string* reason) const;

  Service* service_;
  const PipelineRecord record_;
  const ProjectRecord project_;
  const PipelineContext context_;
};

}  // namespace internal
}  // namespace slipway

#endif  // SLIPWAY_SERVER_SERVICE_DOWNSTREAM_H_
