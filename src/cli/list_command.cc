// `slipway list [--json]`: the jobs the pipeline creates for the current git
// state, after workflow and job rules, with stage, when, allow_failure and
// needs, in GitLab's order. trigger: jobs say what they trigger.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "pipeline/trigger.h"
#include "util/display_width.h"

namespace slipway {
namespace {

std::string NeedsText(const Job& job) {
  if (!job.needs) return "";
  std::string out = "[";
  for (size_t i = 0; i < job.needs->size(); ++i) {
    if (i > 0) out += ", ";
    out += (*job.needs)[i].job;
  }
  return out + "]";
}

// What a trigger job starts, for the note under the table and the JSON:
// "child pipeline from ci/a.yml, template Jobs/X.yml" or
// "pipeline of project group/name (branch main)"; strategy: depend noted.
std::string TriggerText(const Trigger& t) {
  std::string out;
  if (t.kind == Trigger::Kind::kProject) {
    out = "pipeline of project " + t.project;
    if (!t.branch.empty()) out += " (branch " + t.branch + ")";
  } else {
    out = "child pipeline from ";
    for (size_t i = 0; i < t.include.items.size(); ++i) {
      const Node& e = t.include.items[i];
      if (i > 0) out += ", ";
      if (e.IsScalar()) {
        out += e.scalar;
        continue;
      }
      for (const char* key : {"local", "template", "artifact", "project", "remote", "component"}) {
        const Node* v = e.Find(key);
        if (v == nullptr || !v->IsScalar()) continue;
        out += std::string(key) == "local" ? v->scalar : std::string(key) + " " + v->scalar;
        if (std::string(key) == "artifact" && e.Find("job") != nullptr) {
          out += " of job " + e.Find("job")->scalar;
        }
        if (std::string(key) == "project" && e.Find("file") != nullptr &&
            e.Find("file")->IsScalar()) {
          out += ":" + e.Find("file")->scalar;
        }
        break;
      }
    }
  }
  if (!t.strategy.empty()) out += ", strategy: " + t.strategy;
  return out;
}

std::optional<Trigger> ReadTrigger(const Job& job) {
  if (!job.trigger) return std::nullopt;
  Diagnostics ignored;  // `slipway lint` reports them.
  return ParseTrigger(*job.trigger, job.name, &ignored);
}

nlohmann::json JobJson(const Job& job) {
  nlohmann::json j;
  j["name"] = job.name;
  j["stage"] = job.stage;
  j["when"] = WhenName(job.when);
  j["allow_failure"] = job.allow_failure.value;
  if (job.needs) {
    nlohmann::json needs = nlohmann::json::array();
    for (const Need& n : *job.needs) {
      needs.push_back({{"job", n.job}, {"artifacts", n.artifacts}, {"optional", n.optional}});
    }
    j["needs"] = needs;
  } else {
    j["needs"] = nullptr;
  }
  if (job.when == When::kDelayed) j["start_in"] = job.start_in;
  if (std::optional<Trigger> t = ReadTrigger(job)) j["trigger"] = TriggerText(*t);
  return j;
}

void PrintTable(const Pipeline& pipeline) {
  size_t name_width = 4, stage_width = 5;
  for (const Job& job : pipeline.jobs) {
    name_width = std::max(name_width, DisplayWidth(job.name));
    stage_width = std::max(stage_width, DisplayWidth(job.stage));
  }
  auto row = [&](const std::string& name, const std::string& stage, const std::string& when,
                 const std::string& allow, const std::string& needs) {
    std::string line = name + std::string(name_width - DisplayWidth(name) + 2, ' ') + stage +
                       std::string(stage_width - DisplayWidth(stage) + 2, ' ') + when +
                       std::string(when.size() < 12 ? 12 - when.size() : 1, ' ') + allow;
    if (!needs.empty()) line += std::string(allow.size() < 15 ? 15 - allow.size() : 1, ' ') + needs;
    std::printf("%s\n", line.c_str());
  };
  row("name", "stage", "when", "allow_failure", "needs");
  for (const Job& job : pipeline.jobs) {
    row(job.name, job.stage, WhenName(job.when), job.allow_failure.value ? "true" : "false",
        NeedsText(job));
  }
  for (const Job& job : pipeline.jobs) {
    if (std::optional<Trigger> t = ReadTrigger(job)) {
      std::printf("trigger: '%s' starts a %s\n", job.name.c_str(), TriggerText(*t).c_str());
    }
  }
}

}  // namespace

void AddListCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<PipelineOptions>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app->add_subcommand("list", "List the jobs the pipeline creates");
  AddPipelineOptions(cmd, options.get());
  cmd->add_flag("--json", *json, "Print JSON instead of a table");
  cmd->callback([options, json, exit_code] {
    Diagnostics diags;
    std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(*options, &diags);
    std::optional<Pipeline> pipeline;
    if (loaded) pipeline = InstantiatePipeline(loaded->config, loaded->context, &diags);
    PrintDiagnostics(diags);
    if (!pipeline) {
      *exit_code = 1;
      return;
    }
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const Job& job : pipeline->jobs) out.push_back(JobJson(job));
      std::printf("%s\n", out.dump(2).c_str());
    } else if (!pipeline->created) {
      std::printf("no pipeline: %s\n", pipeline->not_created_reason.c_str());
    } else {
      PrintTable(*pipeline);
    }
    *exit_code = 0;
  });
}

}  // namespace slipway
