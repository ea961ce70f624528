#include "pipeline/validate.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "pipeline/job_graph.h"

namespace slipway {
namespace {

using InstanceMap = std::map<std::string, std::vector<std::string>>;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool IsLocal(const Need& n) { return n.project.empty() && n.pipeline.empty(); }

void ExpandNeeds(std::vector<Need>* needs, const InstanceMap& instances) {
  std::vector<Need> out;
  for (Need& n : *needs) {
    auto it = IsLocal(n) ? instances.find(n.job) : instances.end();
    if (it == instances.end()) {
      out.push_back(std::move(n));
      continue;
    }
    for (const std::string& name : it->second) {
      Need copy = n;
      copy.job = name;
      out.push_back(std::move(copy));
    }
  }
  *needs = std::move(out);
}

class Validator {
 public:
  Validator(PipelineConfig* config, Diagnostics* diags) : config_(*config), diags_(diags) {
    for (size_t i = 0; i < config_.jobs.size(); ++i) index_[config_.jobs[i].name] = i;
  }

  void Run() {
    for (const Job& job : config_.jobs) {
      CheckStage(job);
      if (job.needs) CheckNeeds(job, *job.needs);
      if (job.rules) {
        for (const Rule& rule : *job.rules) {
          if (rule.needs) CheckNeeds(job, *rule.needs);
        }
      }
      CheckDependencies(job);
      CheckOnStop(job);
    }
    CheckCycles();
  }

 private:
  int StageIndex(const std::string& stage) const {
    auto it = std::find(config_.stages.begin(), config_.stages.end(), stage);
    return it == config_.stages.end() ? -1 : static_cast<int>(it - config_.stages.begin());
  }

  void Error(const Job& job, const Mark& mark, const std::string& key, std::string message) {
    diags_->Error(mark.line > 0 ? mark : job.mark, std::move(message), job.name, key);
  }

  void CheckStage(const Job& job) {
    if (StageIndex(job.stage) >= 0) return;
    Error(job, job.mark, "stage",
          "chosen stage " + job.stage + " does not exist; available stages are " +
              Join(config_.stages));
  }

  // GitLab's rule for needs and dependencies alike: the other job exists
  // and its stage is not after this job's.
  void CheckDependency(const Job& job, const std::string& other, const std::string& type,
                       bool optional, const Mark& mark, const std::string& key) {
    auto it = index_.find(other);
    if (it == index_.end()) {
      if (!optional) Error(job, mark, key, "undefined " + type + ": " + other);
      return;
    }
    int other_stage = StageIndex(config_.jobs[it->second].stage);
    int own_stage = StageIndex(job.stage);
    if (own_stage >= 0 && (other_stage < 0 || other_stage > own_stage)) {
      Error(job, mark, key, type + " " + other + " is not defined in current or prior stages");
    }
  }

  void CheckNeeds(const Job& job, const std::vector<Need>& needs) {
    std::vector<std::string> seen, duplicated;
    size_t local = 0;
    for (const Need& n : needs) {
      if (!IsLocal(n)) continue;
      ++local;
      CheckDependency(job, n.job, "need", n.optional, n.mark, "needs");
      if (std::find(seen.begin(), seen.end(), n.job) != seen.end()) {
        if (std::find(duplicated.begin(), duplicated.end(), n.job) == duplicated.end()) {
          duplicated.push_back(n.job);
        }
      } else {
        seen.push_back(n.job);
      }
    }
    if (!duplicated.empty()) {
      Error(job, needs.front().mark, "needs",
            "has the following needs duplicated: " + Join(duplicated) + ".");
    }
    if (local > kMaxNeeds) {
      // The limit is an instance setting (ci_needs_size_limit) that some
      // self-managed instances raise (corpus 03 needs 126 jobs), so slipway
      // warns where GitLab.com would refuse.
      diags_->Warning(needs.front().mark,
                      "one job can only need " + std::to_string(kMaxNeeds) +
                          " others, but you have listed " + std::to_string(local) +
                          ". See needs keyword documentation for more details",
                      job.name, "needs");
    }
  }

  void CheckDependencies(const Job& job) {
    if (!job.dependencies) return;
    for (const std::string& dep : *job.dependencies) {
      CheckDependency(job, dep, "dependency", false, job.mark, "dependencies");
    }
  }

  void CheckOnStop(const Job& job) {
    if (!job.environment || job.environment->on_stop.empty()) return;
    const std::string& on_stop = job.environment->on_stop;
    const std::string key = "environment:on_stop";
    auto it = index_.find(on_stop);
    if (it == index_.end()) {
      Error(job, job.mark, key, "on_stop job " + on_stop + " is not defined");
      return;
    }
    const Job& stop = config_.jobs[it->second];
    if (!stop.environment) {
      Error(job, job.mark, key, "on_stop job " + on_stop + " does not have environment defined");
    } else if (stop.environment->name != job.environment->name) {
      Error(job, job.mark, key, "on_stop job " + on_stop + " have different environment name");
    } else if (stop.environment->action != "stop") {
      Error(job, job.mark, key, "on_stop job " + on_stop + " needs to have action stop defined");
    }
  }

  // One error for the pipeline, as GitLab reports it, on the first job
  // whose needs lead back to it.
  void CheckCycles() {
    std::optional<int> on_cycle = JobGraph::FromJobs(config_.jobs, config_.stages).JobOnCycle();
    if (!on_cycle) return;
    const Job& job = config_.jobs[*on_cycle];
    Error(job, job.mark, "needs", "The pipeline has circular dependencies");
  }

  PipelineConfig& config_;
  Diagnostics* diags_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace

bool ResolveAndValidateJobs(PipelineConfig* config, const InstanceMap& parallel_instances,
                            Diagnostics* diags) {
  for (Job& job : config->jobs) {
    if (job.needs) ExpandNeeds(&*job.needs, parallel_instances);
    if (job.rules) {
      for (Rule& rule : *job.rules) {
        if (rule.needs) ExpandNeeds(&*rule.needs, parallel_instances);
      }
    }
    if (job.dependencies) {
      std::vector<std::string> deps;
      for (const std::string& d : *job.dependencies) {
        auto it = parallel_instances.find(d);
        if (it == parallel_instances.end()) {
          deps.push_back(d);
        } else {
          deps.insert(deps.end(), it->second.begin(), it->second.end());
        }
      }
      job.dependencies = std::move(deps);
    }
  }
  int errors_before = diags->ErrorCount();
  Validator(config, diags).Run();
  return diags->ErrorCount() == errors_before;
}

}  // namespace slipway
