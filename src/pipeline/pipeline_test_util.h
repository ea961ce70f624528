// Test helper (header-only, tests only): builds instantiated Pipelines
// tersely, for the run plan's and the scheduler's tests.
#ifndef SLIPWAY_PIPELINE_PIPELINE_TEST_UTIL_H_
#define SLIPWAY_PIPELINE_PIPELINE_TEST_UTIL_H_

#include <string>
#include <vector>

#include "pipeline/instantiate.h"

namespace slipway {

// Builds pipelines tersely: stages, then jobs in order.
class PipelineBuilder {
 public:
  explicit PipelineBuilder(std::vector<std::string> stages) {
    pipeline_.stages.push_back(".pre");
    for (std::string& s : stages) pipeline_.stages.push_back(std::move(s));
    pipeline_.stages.push_back(".post");
  }
  Job& Add(const std::string& name, const std::string& stage) {
    Job job;
    job.name = name;
    job.base_name = name;
    job.stage = stage;
    job.script = {"true"};
    pipeline_.jobs.push_back(std::move(job));
    return pipeline_.jobs.back();
  }
  // A DAG job needing `needs` (possibly none: `needs: []`).
  Job& AddNeeds(const std::string& name, const std::string& stage,
                const std::vector<std::string>& needs) {
    Job& job = Add(name, stage);
    job.needs.emplace();
    for (const std::string& n : needs) {
      Need need;
      need.job = n;
      job.needs->push_back(need);
    }
    return job;
  }
  Pipeline& pipeline() { return pipeline_; }

 private:
  Pipeline pipeline_;
};

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_PIPELINE_TEST_UTIL_H_
