#include "cli/runner_executors.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>

#include "exec/file_tree.h"

namespace slipway {

namespace {

// The project id as a path component: digits only (the server's ids).
std::string ProjectName(const std::string& project) {
  bool digits = !project.empty() && std::all_of(project.begin(), project.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
  return digits ? project : "0";
}

}  // namespace

RunnerExecutors::Lease::~Lease() { owner_->Return(entry_); }

Executor* RunnerExecutors::Lease::executor() const { return entry_->executor.get(); }

const std::string& RunnerExecutors::Lease::run_dir() const { return entry_->run_dir; }

RunnerExecutors::~RunnerExecutors() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!entries_.empty()) Drop(entries_.begin());
}

std::string RunnerExecutors::StateDir(const std::string& project) const {
  return dir_ + "/builds/project-" + ProjectName(project);
}

std::unique_ptr<RunnerExecutors::Lease> RunnerExecutors::Take(const std::string& project,
                                                              const std::string& commit) {
  const std::string name = ProjectName(project);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if ((*it)->project == name && (*it)->commit == commit) {
      ++(*it)->users;
      entries_.splice(entries_.begin(), entries_, it);
      return std::make_unique<Lease>(this, it->get());
    }
  }
  // An idle executor of another commit of the project holds the snapshot
  // directory: gone, the new one reconciles it to its commit.
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if ((*it)->project == name && (*it)->users == 0) Drop(it);
    it = next;
  }
  auto entry = std::make_unique<Entry>();
  entry->project = name;
  entry->commit = commit;
  entry->run_dir = dir_ + "/runs/" + std::to_string(++runs_);
  entry->executor = make_(StateDir(name));
  entry->users = 1;
  entries_.push_front(std::move(entry));
  return std::make_unique<Lease>(this, entries_.front().get());
}

void RunnerExecutors::Return(Entry* entry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (--entry->users > 0) return;
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [entry](const std::unique_ptr<Entry>& e) { return e.get() == entry; });
  entries_.splice(entries_.begin(), entries_, it);
  // Kept: the most recently used idle executor of each project, kMaxIdle
  // at most.
  std::set<std::string> idle_projects;
  for (it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if ((*it)->users == 0 &&
        (!idle_projects.insert((*it)->project).second || idle_projects.size() > kMaxIdle)) {
      Drop(it);
    }
    it = next;
  }
}

void RunnerExecutors::Drop(std::list<std::unique_ptr<Entry>>::iterator it) {
  (*it)->executor.reset();  // Saves the workspaces' stamps, releases their locks.
  Status removed = RemoveTree((*it)->run_dir);
  (void)removed;  // Only a snapshot made beside a concurrent one was there.
  entries_.erase(it);
}

}  // namespace slipway
