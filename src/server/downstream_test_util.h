// The fixture of the server's downstream pipeline tests
// (service_downstream_test.cc, service_downstream_follow_test.cc): the
// PipelineService fixture plus pipelines created with variables and their
// downstream pipelines as the store links them.
#ifndef SLIPWAY_SERVER_DOWNSTREAM_TEST_UTIL_H_
#define SLIPWAY_SERVER_DOWNSTREAM_TEST_UTIL_H_

#include <vector>

#include "server/pipeline_service_test_util.h"

namespace slipway {

class DownstreamServiceTest : public PipelineServiceTest {
 protected:
  PipelineRecord Create(int64_t project, std::vector<StoredVariable> variables = {},
                        const std::string& ref = "") {
    CreatePipelineRequest request;
    request.project_id = project;
    request.ref = ref;
    request.variables = std::move(variables);
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : PipelineRecord{};
  }
  std::vector<PipelineRecord> Downstream(int64_t pipeline_id) {
    auto list = store_->ListDownstreamPipelines(pipeline_id);
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<PipelineRecord>{};
  }
  // Waits until pipeline_id has n downstream pipelines.
  std::vector<PipelineRecord> WaitDownstream(int64_t pipeline_id, size_t n) {
    std::vector<PipelineRecord> list;
    EXPECT_TRUE(WaitFor([&] {
      list = Downstream(pipeline_id);
      return list.size() >= n;
    }));
    return list;
  }
  // A parent of two trigger jobs of child.yml, `waits` (strategy: depend)
  // and `detached` (none), passing the pipeline variable `variable` down
  // as a YAML variable of both.
  void WriteTwoTriggerJobs(const std::string& variable) {
    repo_.Write(".gitlab-ci.yml", "variables:\n  " + variable + ": $" + variable +
                                      "\n"
                                      "waits:\n  trigger:\n    include: child.yml\n"
                                      "    strategy: depend\n"
                                      "detached:\n  trigger:\n    include: child.yml\n");
  }
  // A registered project at path on repo (group/app is AddProject's).
  int64_t AddOtherProject(const std::string& path, const TestRepo& repo) {
    ProjectRecord p;
    p.name = path.substr(path.rfind('/') + 1);
    p.path_with_namespace = path;
    p.repo_url = repo.dir();
    auto created = store_->CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_DOWNSTREAM_TEST_UTIL_H_
