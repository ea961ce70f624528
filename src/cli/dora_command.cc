// `slipway dora`: the DORA metrics of a project from the server's database
// (the server need not run), as a table: every metric over the range, or one
// metric by day or month (docs/dora.md, docs/cli.md).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/server_commands.h"
#include "server/dora_request.h"
#include "util/clock.h"
#include "util/display_width.h"

namespace slipway {
namespace {

struct DoraCommandOptions {
  std::string project;
  std::string metric;  // Empty: every metric.
  std::string interval = "all";
  std::string start_date, end_date;
  std::vector<std::string> tiers;
};

std::string Duration(double seconds) {
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[64];
  if (s >= 86400) {
    std::snprintf(buf, sizeof buf, "%lldd %lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  } else if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh %lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm %llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  }
  return buf;
}

// value, mean and samples of a point as the table shows them.
std::vector<std::string> Cells(DoraMetric metric, const DoraPoint& p) {
  char buf[64];
  auto percent = [&](const std::optional<double>& v) {
    if (!v) return std::string("-");
    std::snprintf(buf, sizeof buf, "%.1f%%", *v * 100);
    return std::string(buf);
  };
  auto duration = [](const std::optional<double>& v) { return v ? Duration(*v) : "-"; };
  switch (metric) {
    case DoraMetric::kDeploymentFrequency:
      std::snprintf(buf, sizeof buf, "%.2f/day", p.mean.value_or(0));
      return {std::to_string(p.count), buf, std::to_string(p.count) + " deployments"};
    case DoraMetric::kLeadTimeForChanges:
      return {duration(p.value), duration(p.mean), std::to_string(p.count) + " commits"};
    case DoraMetric::kTimeToRestoreService:
      return {duration(p.value), duration(p.mean), std::to_string(p.count) + " incidents"};
    case DoraMetric::kFailedDeploymentRecoveryTime:
      return {duration(p.value), duration(p.mean),
              std::to_string(p.count) + " recovered, " + std::to_string(p.matching) + " not"};
    case DoraMetric::kChangeFailureRate:
      return {percent(p.value), "-",
              std::to_string(p.matching) + " of " + std::to_string(p.count) + " failed"};
    case DoraMetric::kDeploymentReworkRate:
      return {percent(p.value), "-",
              std::to_string(p.matching) + " of " + std::to_string(p.count) + " rework"};
  }
  return {};
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : PadToWidth(row[i], widths[i]) + "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

std::string Band(const DoraPoint& p, const std::string& year) {
  auto it = p.bands.find(year);
  return it == p.bands.end() ? "-" : it->second;
}

int RunDora(const DataOptions& data, const DoraCommandOptions& options) {
  std::error_code ec;
  std::filesystem::path db = std::filesystem::path(data.data_dir) / "slipway.db";
  if (data.database.empty() && !std::filesystem::exists(db, ec)) {
    std::fprintf(stderr, "slipway: no server data in %s (no %s); is --data right?\n",
                 data.data_dir.c_str(), db.c_str());
    return 1;
  }
  std::unique_ptr<Store> store = OpenDataStore(data);
  if (!store) return 1;
  auto project = store->GetProjectByPath(options.project);
  if (project.ok() && !*project &&
      options.project.find_first_not_of("0123456789") == std::string::npos &&
      !options.project.empty()) {
    project = store->GetProject(std::stoll(options.project));
  }
  if (!project.ok()) {
    std::fprintf(stderr, "slipway: %s\n", project.status().message().c_str());
    return 1;
  }
  if (!*project) {
    std::fprintf(stderr, "slipway: no project '%s' (see `slipway project list`)\n",
                 options.project.c_str());
    return 1;
  }
  std::vector<DoraMetric> metrics = AllDoraMetrics();
  if (!options.metric.empty()) {
    std::optional<DoraMetric> one = ParseDoraMetric(options.metric);
    if (!one) {
      std::fprintf(stderr,
                   "slipway: --metric: '%s' is not one of deployment_frequency, "
                   "lead_time_for_changes, change_failure_rate, failed_deployment_recovery_time, "
                   "time_to_restore_service, deployment_rework_rate\n",
                   options.metric.c_str());
      return 2;
    }
    metrics = {*one};
  }
  std::vector<std::vector<std::string>> rows;
  bool by_metric = options.interval == "all";
  rows.push_back({by_metric ? "metric" : "date", "median/value", "mean", "from", "2022", "2024"});
  // The facts depend on the range and tiers only: loaded once for every metric.
  std::optional<DoraFacts> facts;
  for (DoraMetric metric : metrics) {
    DoraOptionsInput input{DoraMetricName(metric), options.interval,
                           options.start_date,     options.end_date,
                           options.tiers,          UnixMillis(MachineClock()->WallNow())};
    StatusOr<DoraOptions> resolved = ResolveDoraOptions(input);
    if (!resolved.ok()) {
      std::fprintf(stderr, "slipway: %s\n", resolved.status().message().c_str());
      return 2;
    }
    if (!facts) {
      // One metric: only what it needs; all of them: everything, once.
      DoraQuery query = DoraQueryFor(resolved->request, (*project)->id, resolved->tiers);
      if (metrics.size() > 1) query.deployments = query.lead_times = query.incidents = true;
      StatusOr<DoraFacts> loaded = store->LoadDoraFacts(query);
      if (!loaded.ok()) {
        std::fprintf(stderr, "slipway: %s\n", loaded.status().message().c_str());
        return 1;
      }
      facts = std::move(*loaded);
    }
    if (!by_metric) rows.front()[0] = DoraMetricName(metric);
    for (const DoraPoint& p : ComputeDora(*facts, resolved->request)) {
      std::vector<std::string> row = {by_metric ? DoraMetricName(metric) : p.date};
      for (std::string& cell : Cells(metric, p)) row.push_back(std::move(cell));
      row.push_back(Band(p, "2022"));
      row.push_back(Band(p, "2024"));
      rows.push_back(std::move(row));
    }
  }
  PrintTable(rows);
  return 0;
}

}  // namespace

void AddDoraCommand(CLI::App* app, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  auto options = std::make_shared<DoraCommandOptions>();
  CLI::App* dora = app->add_subcommand(
      "dora", "Print a project's DORA metrics from the server's database (docs/dora.md)");
  AddDataOptions(dora, data.get());
  dora->add_option("--project", options->project, "The project's path or id")
      ->type_name("PATH")
      ->required();
  dora->add_option("--metric", options->metric, "One metric (default: all of them)")
      ->type_name("NAME");
  dora->add_option("--interval", options->interval, "all (default), monthly or daily")
      ->type_name("INTERVAL");
  dora->add_option("--start-date", options->start_date,
                   "First day, YYYY-MM-DD (default: three months before the end)")
      ->type_name("DATE");
  dora->add_option("--end-date", options->end_date, "Last day, YYYY-MM-DD (default: today, UTC)")
      ->type_name("DATE");
  dora->add_option("--tier", options->tiers, "Environment tier, repeatable (default: production)")
      ->type_name("TIER");
  dora->callback([data, options, exit_code] {
    if (options->interval != "all" && options->metric.empty()) {
      std::fprintf(stderr, "slipway: --interval %s needs --metric\n", options->interval.c_str());
      *exit_code = 2;
      return;
    }
    *exit_code = RunDora(*data, *options);
  });
}

}  // namespace slipway
