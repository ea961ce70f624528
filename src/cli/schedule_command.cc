// `slipway schedule add`: registers a pipeline schedule (cron syntax in a
// time zone) for a project and prints its id and next run. The running
// server's timer picks it up. `schedule list` and `schedule remove ID`.
#include <chrono>
#include <cstdio>
#include <ctime>

#include "cli/commands.h"
#include "cli/server_commands.h"
#include "server/cron.h"
#include "util/clock.h"
#include "util/iso_time.h"

namespace slipway {
namespace {

struct ScheduleOptions {
  int64_t project_id = 0;
  std::string cron;
  std::string timezone = "UTC";
  std::string ref;
  std::string description;
  std::vector<std::string> variables;  // KEY=VALUE
};

void AddScheduleList(CLI::App* schedule, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  auto project_id = std::make_shared<int64_t>(0);
  CLI::App* list = schedule->add_subcommand("list", "List the pipeline schedules");
  AddDataOptions(list, data.get());
  list->add_option("project_id", *project_id, "Only this project's (default: every project's)")
      ->type_name("ID");
  list->callback([data, project_id, exit_code] {
    std::unique_ptr<Store> store = OpenExistingDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    auto projects = store->ListProjects();
    if (!projects.ok()) {
      std::fprintf(stderr, "slipway: %s\n", projects.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "project", "cron", "timezone", "ref", "state", "next run", "description"}};
    for (const ProjectRecord& p : *projects) {
      if (*project_id != 0 && p.id != *project_id) continue;
      auto schedules = store->ListSchedules(p.id);
      if (!schedules.ok()) {
        std::fprintf(stderr, "slipway: %s\n", schedules.status().message().c_str());
        *exit_code = 1;
        return;
      }
      for (const ScheduleRecord& s : *schedules) {
        rows.push_back({std::to_string(s.id), p.path_with_namespace, s.cron, s.cron_timezone, s.ref,
                        s.active ? "active" : "inactive",
                        s.next_run_at ? Iso8601Seconds(*s.next_run_at) : "-", s.description});
      }
    }
    if (rows.size() == 1) {
      std::printf("no schedules (add one with `slipway schedule add`)\n");
      return;
    }
    PrintTable(rows);
  });
}

void AddScheduleRemove(CLI::App* schedule, int* exit_code) {
  auto data = std::make_shared<DataOptions>();
  auto id = std::make_shared<int64_t>(0);
  CLI::App* remove = schedule->add_subcommand("remove", "Delete a pipeline schedule");
  AddDataOptions(remove, data.get());
  remove->add_option("id", *id, "The schedule's id (see `slipway schedule list`)")
      ->type_name("ID")
      ->required();
  remove->callback([data, id, exit_code] {
    std::unique_ptr<Store> store = OpenExistingDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    if (Status deleted = store->DeleteSchedule(*id); !deleted.ok()) {
      std::fprintf(stderr, "slipway: %s\n", deleted.message().c_str());
      *exit_code = 1;
      return;
    }
    std::printf("removed schedule %lld\n", static_cast<long long>(*id));
  });
}

}  // namespace

void AddScheduleCommand(CLI::App* app, int* exit_code) {
  CLI::App* schedule = app->add_subcommand("schedule", "Manage pipeline schedules");
  schedule->require_subcommand(1);
  auto data = std::make_shared<DataOptions>();
  auto options = std::make_shared<ScheduleOptions>();
  CLI::App* add = schedule->add_subcommand(
      "add", "Run a project's pipeline on a cron schedule; prints the schedule's id");
  AddDataOptions(add, data.get());
  add->add_option("project_id", options->project_id, "The project's id")
      ->type_name("ID")
      ->required();
  add->add_option("--cron", options->cron, "Five-field cron expression, e.g. '0 3 * * *'")
      ->type_name("EXPR")
      ->required();
  add->add_option("--cron-timezone", options->timezone, "IANA time zone of the cron times")
      ->type_name("TZ")
      ->capture_default_str();
  add->add_option("--ref", options->ref, "Branch (or refs/tags/NAME) to run")
      ->type_name("REF")
      ->required();
  add->add_option("--description", options->description, "What the schedule is for");
  add->add_option("--variable", options->variables, "KEY=VALUE for its pipelines (repeatable)")
      ->type_name("KEY=VALUE");
  add->callback([data, options, exit_code] {
    ScheduleRecord record;
    record.project_id = options->project_id;
    record.cron = options->cron;
    record.cron_timezone = options->timezone;
    record.ref = options->ref;
    record.description = options->description;
    for (const std::string& kv : options->variables) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "slipway: --variable: expected KEY=VALUE, got '%s'\n", kv.c_str());
        *exit_code = 2;
        return;
      }
      record.variables.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
    }
    int64_t now = UnixMillis(MachineClock()->WallNow());
    StatusOr<int64_t> next = NextRun(record.cron, record.cron_timezone, now);
    if (!next.ok()) {
      std::fprintf(stderr, "slipway: %s\n", next.status().message().c_str());
      *exit_code = 2;
      return;
    }
    record.next_run_at = *next;
    std::unique_ptr<Store> store = OpenDataStore(*data);
    if (!store) {
      *exit_code = 1;
      return;
    }
    auto project = store->GetProject(record.project_id);
    if (!project.ok() || !*project) {
      std::fprintf(stderr, "slipway: %s\n",
                   project.ok()
                       ? ("project " + std::to_string(record.project_id) + " not found").c_str()
                       : project.status().message().c_str());
      *exit_code = 1;
      return;
    }
    auto created = store->CreateSchedule(record);
    if (!created.ok()) {
      std::fprintf(stderr, "slipway: %s\n", created.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::printf("%lld next run %s\n", static_cast<long long>(created->id),
                Iso8601Seconds(*next).c_str());
  });
  AddScheduleList(schedule, exit_code);
  AddScheduleRemove(schedule, exit_code);
}

}  // namespace slipway
