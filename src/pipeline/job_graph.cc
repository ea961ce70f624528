#include "pipeline/job_graph.h"

#include <algorithm>

namespace slipway {

JobGraph::JobGraph(std::vector<GraphJob> jobs) : jobs_(std::move(jobs)) {
  needs_.resize(jobs_.size());
  dependents_.resize(jobs_.size());
  for (size_t i = 0; i < jobs_.size(); ++i) index_.emplace(jobs_[i].name, static_cast<int>(i));
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (!jobs_[i].needs) continue;
    for (const std::string& need : *jobs_[i].needs) {
      int n = Find(need);
      if (n < 0 || std::find(needs_[i].begin(), needs_[i].end(), n) != needs_[i].end()) continue;
      needs_[i].push_back(n);
      dependents_[n].push_back(static_cast<int>(i));
    }
  }
}

JobGraph JobGraph::FromJobs(const std::vector<Job>& jobs, const std::vector<std::string>& stages) {
  std::vector<GraphJob> graph_jobs;
  graph_jobs.reserve(jobs.size());
  for (const Job& job : jobs) {
    GraphJob g;
    g.name = job.name;
    auto stage = std::find(stages.begin(), stages.end(), job.stage);
    g.stage = stage == stages.end() ? -1 : static_cast<int>(stage - stages.begin());
    if (job.needs) {
      g.needs.emplace();
      for (const Need& need : *job.needs) {
        if (need.project.empty() && need.pipeline.empty()) g.needs->push_back(need.job);
      }
    }
    graph_jobs.push_back(std::move(g));
  }
  return JobGraph(std::move(graph_jobs));
}

int JobGraph::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

std::vector<bool> JobGraph::WaitingFor(const std::vector<int>& from) const {
  std::vector<bool> waiting(jobs_.size(), false);
  if (from.empty()) return waiting;
  int earliest_stage = stage(from.front());
  std::vector<int> stack;
  for (int f : from) {
    earliest_stage = std::min(earliest_stage, stage(f));
    stack.push_back(f);
  }
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    for (int d : dependents_[n]) {
      if (waiting[d]) continue;
      waiting[d] = true;
      stack.push_back(d);
    }
  }
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (jobs_[i].stage > earliest_stage) waiting[i] = true;
  }
  return waiting;
}

std::optional<int> JobGraph::JobOnCycle() const {
  enum Color { kWhite, kGrey, kBlack };
  std::vector<Color> color(jobs_.size(), kWhite);
  // Iterative depth-first search: (job, next need to visit).
  std::vector<std::pair<int, size_t>> stack;
  for (size_t root = 0; root < jobs_.size(); ++root) {
    if (color[root] != kWhite) continue;
    stack.push_back({static_cast<int>(root), 0});
    color[root] = kGrey;
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      if (next == needs_[n].size()) {
        color[n] = kBlack;
        stack.pop_back();
        continue;
      }
      int need = needs_[n][next++];
      if (color[need] == kGrey) return static_cast<int>(root);
      if (color[need] == kWhite) {
        color[need] = kGrey;
        stack.push_back({need, 0});
      }
    }
  }
  return std::nullopt;
}

}  // namespace slipway
