// `slipway runs` and `slipway show`: the project's past runs, as kept in
// .slipway/runs/<id>/ (report.json, summary.txt and each job's log; see
// docs/report.md).
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run.h"
#include "exec/file_tree.h"
#include "exec/run_dir.h"
#include "util/bounded_json.h"

namespace slipway {
namespace {

std::string RunDirOf(const std::string& project_dir, int id) {
  return RunsDir(project_dir) + "/" + std::to_string(id);
}

// The run's report, or null when it has none (interrupted, or still going).
nlohmann::json ReadRunReport(const std::string& run_dir) {
  StatusOr<std::string> text = ReadFile(run_dir + "/" + kRunReportFile);
  if (!text.ok()) return nullptr;
  // The file is in the project directory, where any job or checkout may
  // have written it: nesting is bounded as for a request body.
  BoundedJson report = ParseBoundedJson(*text);
  return report.value.is_object() ? std::move(report.value) : nlohmann::json(nullptr);
}

std::string Field(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "-";
}

// "5 jobs: 4 success, 1 failed" in the order statuses first appear.
std::string JobCounts(const nlohmann::json& report) {
  std::vector<std::pair<std::string, int>> counts;
  size_t total = 0;
  if (report.contains("jobs") && report["jobs"].is_array()) {
    for (const nlohmann::json& job : report["jobs"]) {
      std::string status = Field(job, "status");
      auto it = std::find_if(counts.begin(), counts.end(),
                             [&](const auto& c) { return c.first == status; });
      if (it == counts.end()) {
        counts.emplace_back(status, 1);
      } else {
        ++it->second;
      }
      ++total;
    }
  }
  std::string out = std::to_string(total) + (total == 1 ? " job" : " jobs");
  for (size_t i = 0; i < counts.size(); ++i) {
    out += (i == 0 ? ": " : ", ") + std::to_string(counts[i].second) + " " + counts[i].first;
  }
  return out;
}

void ListRuns(const std::string& project_dir, int* exit_code) {
  std::vector<int> ids = ListRunIds(project_dir);
  if (ids.empty()) {
    std::printf("no runs in %s\n", RunsDir(project_dir).c_str());
    *exit_code = kExitSuccess;
    return;
  }
  std::printf("%-5s %-24s %-10s %-10s %s\n", "run", "started (UTC)", "status", "duration", "jobs");
  for (int id : ids) {
    nlohmann::json report = ReadRunReport(RunDirOf(project_dir, id));
    if (report.is_null()) {
      std::printf("%-5d %-24s %-10s %-10s %s\n", id, "-", "unfinished", "-",
                  "(no report: interrupted, or still running)");
      continue;
    }
    const nlohmann::json& pipeline = report.contains("pipeline") ? report["pipeline"] : report;
    std::string duration = "-";
    if (pipeline.contains("duration_s") && pipeline["duration_s"].is_number()) {
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%.2f s", pipeline["duration_s"].get<double>());
      duration = buffer;
    }
    std::printf("%-5d %-24s %-10s %-10s %s\n", id, Field(pipeline, "started_at").c_str(),
                Field(report, "status").c_str(), duration.c_str(), JobCounts(report).c_str());
  }
  *exit_code = kExitSuccess;
}

void Show(const std::string& project_dir, const std::string& run, const std::string& job,
          int* exit_code) {
  *exit_code = kExitInvalid;
  std::vector<int> ids = ListRunIds(project_dir);
  int id = 0;
  if (run.empty() || run == "last") {
    if (ids.empty()) {
      std::fprintf(stderr, "error: no runs in %s\n", RunsDir(project_dir).c_str());
      return;
    }
    id = ids.back();
  } else {
    try {
      size_t used = 0;
      id = std::stoi(run, &used);
      if (used != run.size()) id = 0;
    } catch (const std::exception&) {
      id = 0;
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
      std::fprintf(stderr, "error: no run '%s' in %s (runs: `slipway runs`)\n", run.c_str(),
                   RunsDir(project_dir).c_str());
      return;
    }
  }
  std::string dir = RunDirOf(project_dir, id);
  nlohmann::json report = ReadRunReport(dir);
  StatusOr<std::string> summary = ReadFile(dir + "/" + kRunSummaryFile);
  if (report.is_null() || !summary.ok()) {
    std::fprintf(stderr,
                 "error: run %d has no report (interrupted, or still running); "
                 "its job logs are in %s/jobs\n",
                 id, dir.c_str());
    return;
  }
  if (job.empty()) {
    std::printf("run %d\n%s", id, summary->c_str());
    *exit_code = kExitSuccess;
    return;
  }
  std::vector<std::string> names;
  if (report.contains("jobs") && report["jobs"].is_array()) {
    for (const nlohmann::json& j : report["jobs"]) {
      std::string name = Field(j, "name");
      names.push_back(name);
      if (name != job) continue;
      std::string log = Field(j, "log");
      if (log == "-") {
        std::fprintf(stderr, "error: job '%s' of run %d did not start: it has no log\n",
                     job.c_str(), id);
        return;
      }
      StatusOr<std::string> text =
          ReadFile(log.starts_with("/") ? log : project_dir + "/" + log, size_t{1} << 30);
      if (!text.ok()) {
        std::fprintf(stderr, "error: %s\n", text.status().message().c_str());
        return;
      }
      std::fwrite(text->data(), 1, text->size(), stdout);
      *exit_code = kExitSuccess;
      return;
    }
  }
  std::string known;
  for (const std::string& name : names) known += "\n  " + name;
  std::fprintf(stderr, "error: run %d has no job '%s'%s%s\n", id, job.c_str(),
               names.empty() ? "" : "; its jobs:", known.c_str());
}

}  // namespace

void AddRunsCommand(CLI::App* app, int* exit_code) {
  auto project_dir = std::make_shared<std::string>(".");
  CLI::App* runs = app->add_subcommand("runs", "List the project's past runs (.slipway/runs)");
  runs->add_option("-C,--directory", *project_dir, "Project directory")->type_name("DIR");
  runs->callback(
      [project_dir, exit_code] { ListRuns(AbsoluteProjectDir(*project_dir), exit_code); });

  auto show_dir = std::make_shared<std::string>(".");
  auto run = std::make_shared<std::string>();
  auto job = std::make_shared<std::string>();
  CLI::App* show =
      app->add_subcommand("show", "Print a past run's summary, or one of its jobs' full log");
  show->add_option("-C,--directory", *show_dir, "Project directory")->type_name("DIR");
  show->add_option("run", *run, "Run id (default: the last run)");
  show->add_option("job", *job, "Job name: print its full log instead");
  show->callback([show_dir, run, job, exit_code] {
    Show(AbsoluteProjectDir(*show_dir), *run, *job, exit_code);
  });
}

}  // namespace slipway
