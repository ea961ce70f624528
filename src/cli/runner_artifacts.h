// The runner's side of artifacts (docs/runners.md, "Artifacts"): the
// artifacts a job gets are downloaded from the server, checked against the
// digest the server gives and unpacked where the job's executor finds them;
// the artifacts and reports a job leaves are packed into one archive and
// uploaded in chunks, whose digest the finish report then names.
#ifndef SLIPWAY_CLI_RUNNER_ARTIFACTS_H_
#define SLIPWAY_CLI_RUNNER_ARTIFACTS_H_

#include <functional>
#include <optional>
#include <string>

#include "exec/executor.h"
#include "image/tree_archive.h"
#include "util/http_get.h"
#include "util/status.h"

namespace slipway {

// A request to the server's API with the runner's token (RunnerClient::Call).
using RunnerCall = std::function<StatusOr<HttpFetchResponse>(
    const std::string& method, const std::string& path, std::string body,
    std::function<Status(std::string_view)> sink)>;

// The artifacts of earlier jobs, from the server, for one leased job:
// job_path is "/api/v4/runners/jobs/<id>", fence "?fence=<fence>", and each
// source's tree is unpacked into work_dir/from-<job id>/.
class RemoteArtifacts : public ArtifactFetcher {
 public:
  RemoteArtifacts(RunnerCall call, std::string job_path, std::string fence, std::string work_dir)
      : call_(std::move(call)),
        job_path_(std::move(job_path)),
        fence_(std::move(fence)),
        work_dir_(std::move(work_dir)) {}
  StatusOr<std::string> Fetch(const JobSpec::ArtifactSource& source) override;

 private:
  RunnerCall call_;
  const std::string job_path_, fence_, work_dir_;
};

// Packs job_dir's artifacts/ and reports/ into work_dir/artifacts.tar and
// uploads it in chunks below the server's request limit. nullopt when the
// job left none; an error says what the server refused (a 413: too large).
StatusOr<std::optional<ArchiveFile>> UploadArtifacts(const RunnerCall& call,
                                                     const std::string& job_path,
                                                     const std::string& fence,
                                                     const std::string& job_dir,
                                                     const std::string& work_dir);

}  // namespace slipway

#endif  // SLIPWAY_CLI_RUNNER_ARTIFACTS_H_
