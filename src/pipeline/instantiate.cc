#include "pipeline/instantiate.h"

#include <algorithm>
#include <set>

#include "pipeline/pipeline_context.h"
#include "pipeline/rules.h"

namespace slipway {
namespace {

constexpr char kNoJobsReason[] =
    "Pipeline will not run for the selected trigger. The rules configuration prevented any "
    "jobs from being added to the pipeline.";
constexpr char kWorkflowReason[] = "Pipeline filtered out by workflow rules.";

// Ruby's String#strip: leading and trailing whitespace and NULs removed.
std::string StripSpaces(std::string s) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r') || c == '\0'; };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  return s.substr(start);
}

struct Facts {
  std::string ref;
  bool is_tag = false;
  std::string source;
  std::string project_path;
};

Facts FactsFrom(const VariableList& vars) {
  auto get = [&](std::string_view name) {
    const std::string* v = vars.Get(name);
    return v ? *v : std::string();
  };
  Facts f;
  f.ref = get("CI_COMMIT_REF_NAME");
  f.is_tag = vars.Get("CI_COMMIT_TAG") != nullptr;
  f.source = get("CI_PIPELINE_SOURCE");
  if (f.source.empty()) f.source = "push";
  f.project_path = get("CI_PROJECT_PATH");
  return f;
}

RuleContext MakeRuleContext(const PipelineContext& context, const Facts& facts,
                            const VariableList* vars, RuleCache* cache) {
  RuleContext rc;
  rc.cache = cache;
  rc.project_dir = context.project_dir;
  rc.commit = context.commit;
  rc.variables = vars;
  rc.changed_files = &context.changed_files;
  rc.ref = facts.ref;
  rc.is_tag = facts.is_tag;
  rc.source = facts.source;
  rc.project_path = facts.project_path;
  return rc;
}

// workflow:rules:variables replace global variables of the same name, and
// are added for jobs that inherit global variables; a job's own variable of
// that name still wins (GitLab merges them into the root variables before
// each job's inheritance is applied). A job's copy of a global variable is
// recognised by its unchanged value and mark.
void ApplyWorkflowVariables(const VariableList& workflow_vars, const VariableList& globals,
                            Job* job) {
  bool inherits_all = std::all_of(globals.items().begin(), globals.items().end(),
                                  [&](const Variable& g) { return job->variables.Find(g.name); });
  for (const Variable& w : workflow_vars.items()) {
    const Variable* mine = job->variables.Find(w.name);
    const Variable* global = globals.Find(w.name);
    if (mine == nullptr) {
      if (global == nullptr && inherits_all) job->variables.Set(w);
      continue;
    }
    bool inherited = global != nullptr && mine->value == global->value &&
                     mine->mark.file == global->mark.file && mine->mark.line == global->mark.line &&
                     mine->mark.column == global->mark.column;
    if (inherited) job->variables.Set(w);
  }
}

// GitLab's allow_failure when neither the job nor a rule sets it: true only
// for a job whose job-level `when` is manual.
bool DefaultAllowFailure(const Job& job, When job_level_when) {
  if (job.allow_failure_set) return job.allow_failure.value && job.allow_failure.exit_codes.empty();
  return job_level_when == When::kManual;
}

// Applies the job's rules or only/except. Returns false when the job is not
// created; reports evaluation errors to diags.
bool DecideJob(const PipelineContext& context, const Facts& facts, bool has_workflow_rules,
               const VariableList& rule_vars, RuleCache* cache, Job* job, Diagnostics* diags) {
  RuleContext rc = MakeRuleContext(context, facts, &rule_vars, cache);
  const When job_level_when = job->when;
  bool allow_failure = DefaultAllowFailure(*job, job_level_when);
  if (job->rules) {
    StatusOr<std::optional<size_t>> match = FirstMatchingRule(*job->rules, rc);
    if (!match.ok()) {
      diags->Error(job->mark, match.status().message(), job->name, "rules");
      return false;
    }
    if (!match->has_value()) return false;
    const Rule& rule = (*job->rules)[**match];
    if (rule.when) job->when = *rule.when;
    if (job->when == When::kNever) return false;
    if (!rule.start_in.empty()) job->start_in = rule.start_in;
    if (rule.allow_failure) {
      allow_failure = *rule.allow_failure;
      job->allow_failure.exit_codes.clear();
    }
    job->variables.Merge(rule.variables);
    if (rule.needs) job->needs = rule.needs;
    if (rule.interruptible) job->interruptible = *rule.interruptible;
  } else {
    StatusOr<bool> included =
        OnlyExceptIncludes(job->only, job->except, /*default_only=*/!has_workflow_rules, rc);
    if (!included.ok()) {
      diags->Error(job->only.present ? job->only.mark : job->except.mark,
                   included.status().message(), job->name, job->only.present ? "only" : "except");
      return false;
    }
    if (!*included) return false;
    if (job->when == When::kNever) return false;
  }
  job->allow_failure.value = allow_failure;
  return true;
}

// Drops optional needs and dependencies on jobs that were not created;
// reports a needed job that is missing and not optional.
void PruneNeeds(std::vector<Job>* jobs, Diagnostics* diags) {
  std::set<std::string> created;
  for (const Job& j : *jobs) created.insert(j.name);
  for (Job& job : *jobs) {
    if (job.needs) {
      std::vector<Need> kept;
      for (Need& need : *job.needs) {
        bool local = need.project.empty() && need.pipeline.empty();
        if (!local || created.count(need.job)) {
          kept.push_back(std::move(need));
        } else if (!need.optional) {
          diags->Error(need.mark,
                       "'" + job.name + "' job needs '" + need.job + "' job, but '" + need.job +
                           "' does not exist in the pipeline. This might be because of the "
                           "only, except, or rules keywords. To need a job that sometimes does "
                           "not exist in the pipeline, use needs:optional.",
                       job.name, "needs");
        }
      }
      job.needs = std::move(kept);
    }
    // GitLab looks dependencies up by name among the pipeline's jobs, so one
    // that rules removed simply contributes no artifacts.
    if (job.dependencies) {
      std::erase_if(*job.dependencies, [&](const std::string& d) { return !created.count(d); });
    }
  }
}

}  // namespace

const Job* Pipeline::FindJob(std::string_view name) const {
  for (const Job& j : jobs) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

std::optional<Pipeline> InstantiatePipeline(const PipelineConfig& config,
                                            const PipelineContext& context, Diagnostics* diags) {
  const int errors_before = diags->ErrorCount();
  Pipeline pipeline;
  VariableList fact_vars = context.predefined;
  fact_vars.Merge(context.cli_variables);
  const Facts facts = FactsFrom(fact_vars);
  RuleCache cache;  // One git diff / file listing for all jobs.

  VariableList globals = config.variables;
  VariableList workflow_vars;
  const bool has_workflow_rules = config.workflow.rules.has_value();
  if (has_workflow_rules) {
    VariableList scope = context.predefined;
    scope.Merge(config.variables);
    scope.Merge(context.cli_variables);
    RuleContext rc = MakeRuleContext(context, facts, &scope, &cache);
    StatusOr<std::optional<size_t>> match = FirstMatchingRule(*config.workflow.rules, rc);
    if (!match.ok()) {
      Mark mark = config.workflow.rules->empty() ? Mark{} : config.workflow.rules->front().mark;
      diags->Error(mark, match.status().message(), "", "workflow:rules");
      return std::nullopt;
    }
    const Rule* rule = match->has_value() ? &(*config.workflow.rules)[**match] : nullptr;
    if (rule == nullptr || rule->when == When::kNever) {
      pipeline.created = false;
      pipeline.not_created_reason = kWorkflowReason;
      return pipeline;
    }
    workflow_vars = rule->variables;
    globals.Merge(workflow_vars);
  }

  pipeline.variables = context.predefined;
  pipeline.variables.Merge(globals);
  pipeline.variables.Merge(context.cli_variables);
  // GitLab's PopulateMetadata: expanded with the pipeline's variables
  // (workflow:rules:variables included), then stripped; a name that is
  // empty then is no name.
  pipeline.name = StripSpaces(ExpandVariables(config.workflow.name, pipeline.variables));
  if (CharacterCount(pipeline.name) > kMaxPipelineNameLength) {
    diags->Error(config.workflow.name_mark,
                 "Failed to build pipeline metadata! Name is too long (maximum is " +
                     std::to_string(kMaxPipelineNameLength) + " characters)",
                 "", "workflow:name");
    return std::nullopt;
  }

  int64_t job_id = 0;
  for (const Job& original : config.jobs) {
    Job job = original;
    ++job_id;
    if (!workflow_vars.empty()) ApplyWorkflowVariables(workflow_vars, config.variables, &job);
    VariableList rule_vars = FinalJobVariables(job, job_id, context);
    if (DecideJob(context, facts, has_workflow_rules, rule_vars, &cache, &job, diags)) {
      pipeline.jobs.push_back(std::move(job));
    }
  }

  auto stage_index = [&](const std::string& stage) {
    auto it = std::find(config.stages.begin(), config.stages.end(), stage);
    return static_cast<size_t>(it - config.stages.begin());
  };
  std::stable_sort(pipeline.jobs.begin(), pipeline.jobs.end(), [&](const Job& a, const Job& b) {
    return stage_index(a.stage) < stage_index(b.stage);
  });
  PruneNeeds(&pipeline.jobs, diags);
  if (diags->ErrorCount() > errors_before) return std::nullopt;
  pipeline.slipway = config.slipway;

  for (const std::string& stage : config.stages) {
    if (std::any_of(pipeline.jobs.begin(), pipeline.jobs.end(),
                    [&](const Job& j) { return j.stage == stage; })) {
      pipeline.stages.push_back(stage);
    }
  }
  bool only_pre_post = std::all_of(pipeline.jobs.begin(), pipeline.jobs.end(), [](const Job& j) {
    return j.stage == ".pre" || j.stage == ".post";
  });
  if (only_pre_post) {
    pipeline.created = false;
    pipeline.not_created_reason = kNoJobsReason;
  }
  return pipeline;
}

}  // namespace slipway
