#include "pipeline/builder.h"

#include <algorithm>
#include <array>
#include <map>
#include <string_view>
#include <unordered_map>

#include "config/extends.h"
#include "config/keyword_reader.h"
#include "pipeline/job_parser.h"
#include "pipeline/parallel.h"
#include "pipeline/rules_parser.h"
#include "pipeline/validate.h"
#include "pipeline/variables_parser.h"

namespace slipway {
namespace {

// The only top-level keys that can never name a job.
constexpr std::array<std::string_view, 8> kReserved = {"include",  "before_script", "image",
                                                       "services", "after_script",  "variables",
                                                       "stages",   "cache"};
// Deprecated top-level keywords that act as default: values.
constexpr std::array<std::string_view, 5> kDeprecatedDefaults = {"before_script", "after_script",
                                                                 "image", "services", "cache"};

bool IsReserved(std::string_view key) {
  return std::find(kReserved.begin(), kReserved.end(), key) != kReserved.end();
}

bool IsHidden(std::string_view name) { return !name.empty() && name.front() == '.'; }

// What GitLab recognises as a job (or trigger job) definition.
bool IsJobShaped(const Node& n) {
  return n.IsMap() &&
         (n.Find("script") != nullptr || n.Find("run") != nullptr || n.Find("trigger") != nullptr);
}

std::vector<std::string> ParseStages(const Node* node, Diagnostics* diags) {
  std::vector<std::string> user = {"build", "test", "deploy"};
  if (node != nullptr && !node->IsPlainNullScalar()) {
    KeywordReader r(diags, "");
    if (auto list = r.StringArray(*node, "stages")) user = *list;
  }
  std::vector<std::string> stages = {".pre"};
  for (const std::string& s : user) {
    if (s != ".pre" && s != ".post") stages.push_back(s);
  }
  stages.push_back(".post");
  return stages;
}

Workflow ParseWorkflow(const Node* node, Diagnostics* diags) {
  Workflow workflow;
  if (node == nullptr || node->IsPlainNullScalar()) return workflow;
  KeywordReader r(diags, "", "workflow");
  if (!r.ExpectMap(*node, "")) return workflow;
  r.CheckKeys(*node, {"rules", "name", "auto_cancel"}, "");
  if (const Node* rules = node->Find("rules")) {
    workflow.rules = ParseRules(*rules, RulesScope::kWorkflow, "rules", &r);
  }
  if (const Node* name = node->Find("name")) {
    if (auto s = r.String(*name, "name")) {
      workflow.name = *s;
      workflow.name_mark = name->mark;
      if (CharacterCount(*s) > kMaxPipelineNameLength) {
        r.Error(
            name->mark, "name",
            "is too long (maximum is " + std::to_string(kMaxPipelineNameLength) + " characters)");
      }
    }
  }
  if (const Node* ac = node->Find("auto_cancel")) {
    if (r.ExpectMap(*ac, "auto_cancel") &&
        r.CheckKeys(*ac, {"on_new_commit", "on_job_failure"}, "auto_cancel")) {
      if (const Node* n = ac->Find("on_new_commit")) {
        if (auto s = r.String(*n, "auto_cancel:on_new_commit")) {
          workflow.auto_cancel_on_new_commit = *s;
        }
      }
      if (const Node* n = ac->Find("on_job_failure")) {
        if (auto s = r.String(*n, "auto_cancel:on_job_failure")) {
          workflow.auto_cancel_on_job_failure = *s;
        }
      }
    }
  }
  return workflow;
}

// default: on top of the deprecated top-level keywords.
Node CollectDefaults(const Node& root, const Node* default_node, Diagnostics* diags) {
  Node merged = Node::Map(default_node ? default_node->mark : root.mark);
  for (std::string_view key : kDeprecatedDefaults) {
    if (const MapEntry* e = root.FindEntry(key)) merged.Set(e->key, e->value, e->key_mark);
  }
  if (default_node != nullptr && default_node->IsMap()) {
    for (const MapEntry& e : default_node->entries) merged.Set(e.key, e.value, e.key_mark);
  } else if (default_node != nullptr && !default_node->IsPlainNullScalar()) {
    return ValidateDefaults(*default_node, diags);  // Reports the type error.
  }
  return ValidateDefaults(merged, diags);
}

// Resolves matrix expressions in the needs of one matrix instance.
bool InterpolateNeeds(const ParallelInstance& inst, Job* job, KeywordReader* r) {
  auto interpolate = [&](std::vector<Need>* needs, const std::string& key) {
    for (Need& need : *needs) {
      std::string unknown;
      auto name = InterpolateMatrix(need.job, inst.variables, &unknown);
      if (!name) {
        r->Error(need.mark, key, "'" + unknown + "' is not a matrix identifier of this job");
        return false;
      }
      need.job = std::move(*name);
    }
    return true;
  };
  if (job->needs && !interpolate(&*job->needs, "needs")) return false;
  if (job->rules) {
    for (Rule& rule : *job->rules) {
      if (rule.needs && !interpolate(&*rule.needs, "rules:needs")) return false;
    }
  }
  return true;
}

// GitLab's warning for a job whose last rule is a bare `when:` (other than
// never) while workflow:rules is absent: such a job runs in both branch and
// merge request pipelines.
void WarnAboutDuplicatePipelines(const ParsedJob& parsed, Diagnostics* diags) {
  if (!parsed.job.rules || parsed.job.rules->empty()) return;
  const Rule& last = parsed.job.rules->back();
  bool bare_when = last.when && *last.when != When::kNever && !last.if_expr && !last.changes &&
                   !last.exists && last.start_in.empty() && !last.allow_failure &&
                   last.variables.empty() && !last.needs && !last.interruptible;
  if (!bare_when) return;
  diags->Warning(last.mark,
                 "may allow multiple pipelines to run for a single action due to `rules:when` "
                 "clause with no `workflow:rules` - read more: "
                 "https://docs.gitlab.com/ee/ci/jobs/job_troubleshooting.html"
                 "#job-may-allow-multiple-pipelines-to-run-for-a-single-action-warning",
                 parsed.job.name, "rules");
}

// Adds job; a job whose name is already taken (a key "test 1/2" beside a
// `test` with parallel: 2) replaces the earlier one in its place, as the
// later entry of a Ruby hash does in GitLab's normalizer.
void AddJob(Job job, PipelineConfig* config, std::unordered_map<std::string, size_t>* index) {
  auto [it, inserted] = index->emplace(job.name, config->jobs.size());
  if (inserted) {
    config->jobs.push_back(std::move(job));
  } else {
    config->jobs[it->second] = std::move(job);
  }
}

void AddJobInstances(ParsedJob parsed, PipelineConfig* config,
                     std::unordered_map<std::string, size_t>* index,
                     std::map<std::string, std::vector<std::string>>* instances,
                     Diagnostics* diags) {
  if (!parsed.parallel) {
    AddJob(std::move(parsed.job), config, index);
    return;
  }
  KeywordReader r(diags, parsed.job.name);
  auto expanded = ExpandParallel(parsed.job.base_name, *parsed.parallel, &r);
  if (!expanded) return;
  std::vector<std::string>& names = (*instances)[parsed.job.base_name];
  for (ParallelInstance& inst : *expanded) {
    Job job = parsed.job;
    if (!inst.variables.empty() && !InterpolateNeeds(inst, &job, &r)) return;
    job.name = inst.name;
    job.parallel_index = inst.index;
    job.parallel_total = inst.total;
    job.variables.Merge(inst.variables);
    names.push_back(job.name);
    AddJob(std::move(job), config, index);
  }
}

}  // namespace

std::optional<PipelineConfig> BuildPipelineConfig(const Node& root, Diagnostics* diags) {
  const int errors_before = diags->ErrorCount();
  if (!root.IsMap()) {
    diags->Error(root.mark, root.IsPlainNullScalar() ? "Please provide content of .gitlab-ci.yml"
                                                     : "config should be a hash");
    return std::nullopt;
  }

  // extends: is resolved over every key that could be a job or template
  // before anything is interpreted, as GitLab does. LoadConfig has already
  // done so and dropped the `extends` keys; only a root that still has some
  // (one built by hand) pays for copying the entries to resolve them.
  std::vector<const MapEntry*> candidates;
  bool any_extends = false;
  for (const MapEntry& e : root.entries) {
    if (IsReserved(e.key) || e.key == "spec") continue;
    candidates.push_back(&e);
    any_extends = any_extends || (e.value.IsMap() && e.value.Find("extends") != nullptr);
  }
  std::vector<MapEntry> resolved;
  if (any_extends) {
    resolved.reserve(candidates.size());
    for (const MapEntry* e : candidates) resolved.push_back(*e);
    ResolveExtends(&resolved, diags);
    for (size_t i = 0; i < resolved.size(); ++i) candidates[i] = &resolved[i];
  }

  const Node* default_node = nullptr;
  const Node* workflow_node = nullptr;
  std::vector<const MapEntry*> job_entries;
  for (const MapEntry* entry : candidates) {
    const MapEntry& e = *entry;
    if ((e.key == "default" || e.key == "workflow") && !IsJobShaped(e.value)) {
      (e.key == "default" ? default_node : workflow_node) = &e.value;
    } else if (!IsHidden(e.key)) {
      job_entries.push_back(&e);
    }
  }

  PipelineConfig config;
  config.stages = ParseStages(root.Find("stages"), diags);
  if (const Node* vars = root.Find("variables")) {
    KeywordReader r(diags, "");
    if (auto list = ParseVariables(*vars, VariablesScope::kTopLevel, "variables", &r)) {
      config.variables = std::move(*list);
    }
  }
  config.workflow = ParseWorkflow(workflow_node, diags);
  config.slipway = ParseSlipwaySettings(root.Find(".slipway"), diags);

  JobContextDefaults context;
  context.defaults = CollectDefaults(root, default_node, diags);
  context.global_variables = config.variables;

  std::map<std::string, std::vector<std::string>> instances;
  std::unordered_map<std::string, size_t> job_index;
  for (const MapEntry* e : job_entries) {
    if (!IsJobShaped(e->value)) {
      ReportNotAJob(*e, diags);
      continue;
    }
    if (auto parsed = ParseJob(e->key, e->key_mark, e->value, context, diags)) {
      if (!config.workflow.rules) WarnAboutDuplicatePipelines(*parsed, diags);
      AddJobInstances(std::move(*parsed), &config, &job_index, &instances, diags);
    }
  }
  if (job_entries.empty()) {
    diags->Error(root.mark, "jobs config should contain at least one visible job");
  }
  if (diags->ErrorCount() != errors_before) return std::nullopt;
  if (!ResolveAndValidateJobs(&config, instances, diags)) return std::nullopt;
  return config;
}

}  // namespace slipway
