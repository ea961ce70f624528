// `slipway schedule add`: registers a pipeline schedule (cron syntax in a
// time zone) for a project and prints its id and next run. The running
// server's timer picks it up.
#include <chrono>
#include <cstdio>
#include <ctime>

#include "cli/commands.h"
#include "cli/server_commands.h"
#include "server/cron.h"
#include "util/clock.h"

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

std::string Iso8601Utc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
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
                Iso8601Utc(*next).c_str());
  });
}

}  // namespace slipway
