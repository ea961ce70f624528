#include "pipeline/job_parser.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "config/keyword_reader.h"
#include "pipeline/job_fields.h"
#include "pipeline/rules_parser.h"
#include "pipeline/variables_parser.h"
#include "util/suggest.h"

namespace slipway {
namespace {

constexpr size_t kMaxJobNameLength = 255;
constexpr size_t kMaxTags = 50;
// GitLab caps job timeouts at one month (ActiveSupport's 30.436875 days) and
// delays at one week.
constexpr int64_t kMaxTimeoutSeconds = 2629746;
constexpr int64_t kMaxStartInSeconds = 7 * 24 * 3600;

// Keywords of every job, trigger jobs included (GitLab's Processable).
#define SLIPWAY_PROCESSABLE_KEYS                                                                  \
  "extends", "stage", "only", "except", "rules", "variables", "inherit", "allow_failure", "when", \
      "needs", "resource_group", "environment", "interruptible"

constexpr std::string_view kJobKeys[] = {SLIPWAY_PROCESSABLE_KEYS,
                                         "tags",
                                         "script",
                                         "image",
                                         "services",
                                         "start_in",
                                         "artifacts",
                                         "cache",
                                         "dependencies",
                                         "before_script",
                                         "after_script",
                                         "hooks",
                                         "coverage",
                                         "retry",
                                         "parallel",
                                         "timeout",
                                         "release",
                                         "id_tokens",
                                         "publish",
                                         "pages",
                                         "manual_confirmation",
                                         "run",
                                         "secrets",
                                         "identity",
                                         "dast_configuration"};

constexpr std::string_view kBridgeKeys[] = {SLIPWAY_PROCESSABLE_KEYS, "trigger", "parallel",
                                            "inputs"};
#undef SLIPWAY_PROCESSABLE_KEYS

// What `default:` may set (GitLab's Entry::Default).
constexpr std::string_view kDefaultKeys[] = {
    "after_script",  "artifacts", "before_script", "cache", "hooks",   "id_tokens", "image",
    "interruptible", "retry",     "services",      "tags",  "timeout", "identity"};

bool Contains(std::span<const std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Reads the keywords that need nothing but their own value. Returns false
// when key is not one of them.
bool ReadSimpleKeyword(const std::string& key, const Node& value, Job* job, KeywordReader* r) {
  if (key == "script" && value.IsPlainNullScalar()) {
    // Reported as blank by the caller.
  } else if (key == "stage") {
    if (auto s = r->String(value, key)) job->stage = *s;
  } else if (key == "script") {
    if (auto v = r->Script(value, key)) job->script = *v;
  } else if (key == "before_script") {
    if (auto v = r->Script(value, key)) job->before_script = *v;
  } else if (key == "after_script") {
    if (auto v = r->Script(value, key)) job->after_script = *v;
  } else if (key == "allow_failure") {
    if (auto af = ParseAllowFailure(value, r)) {
      job->allow_failure = *af;
      job->allow_failure_set = true;
    }
  } else if (key == "retry") {
    if (auto retry = ParseRetry(value, r)) job->retry = *retry;
  } else if (key == "timeout") {
    if (auto seconds = r->Duration(value, key, kMaxTimeoutSeconds)) job->timeout_seconds = seconds;
  } else if (key == "needs") {
    if (auto needs = ParseNeeds(value, key, r)) job->needs = *needs;
  } else if (key == "dependencies") {
    if (auto deps = r->StringArray(value, key)) job->dependencies = *deps;
  } else if (key == "rules") {
    if (auto rules = ParseRules(value, RulesScope::kJob, key, r)) job->rules = *rules;
  } else if (key == "only") {
    if (auto only = ParseOnlyExcept(value, key, r)) job->only = *only;
  } else if (key == "except") {
    if (auto except = ParseOnlyExcept(value, key, r)) job->except = *except;
  } else if (key == "artifacts") {
    if (auto a = ParseArtifacts(value, r)) job->artifacts = *a;
  } else if (key == "cache") {
    if (auto c = ParseCaches(value, r)) job->caches = *c;
  } else if (key == "resource_group") {
    if (auto s = r->String(value, key)) job->resource_group = *s;
  } else if (key == "environment") {
    if (auto env = ParseEnvironment(value, r)) job->environment = *env;
  } else if (key == "interruptible") {
    if (auto b = r->Bool(value, key)) job->interruptible = *b;
  } else if (key == "tags") {
    if (auto tags = r->StringArray(value, key)) {
      if (tags->size() > kMaxTags) {
        r->Error(value.mark, key,
                 "must be less than the limit of " + std::to_string(kMaxTags) + " tags");
      }
      job->tags = *tags;
    }
  } else if (key == "coverage") {
    auto s = r->String(value, key);
    if (s && (s->size() < 2 || s->front() != '/' || s->back() != '/')) {
      r->Error(value.mark, key, "must be a regular expression");
    } else if (s) {
      job->coverage = s->substr(1, s->size() - 2);
    }
  } else if (key == "image") {
    job->image = value;
  } else if (key == "services") {
    job->services = value;
  } else if (key == "trigger") {
    job->trigger = value;
  } else if (key == "release") {
    job->release = value;
  } else if (key == "pages") {
    job->pages = value;
  } else if (key == "hooks") {
    job->hooks = value;
  } else if (key == "id_tokens") {
    job->id_tokens = value;
  } else if (key == "secrets") {
    job->secrets = value;
  } else if (key == "identity") {
    job->identity = value;
  } else if (key == "manual_confirmation") {
    job->manual_confirmation = value;
  } else if (key == "dast_configuration") {
    job->dast_configuration = value;
  } else if (key == "run") {
    job->run = value;
  } else {
    return false;
  }
  return true;
}

// inherit:default / inherit:variables: true, false or a list of names.
struct Inherit {
  bool all_default = true;
  std::vector<std::string> default_keys;
  bool all_variables = true;
  std::vector<std::string> variable_names;
  bool Default(std::string_view key) const {
    return all_default ||
           std::find(default_keys.begin(), default_keys.end(), key) != default_keys.end();
  }
};

void ReadInheritPart(const Node& n, const std::string& key, bool* all,
                     std::vector<std::string>* names, KeywordReader* r) {
  if (auto b = n.AsBool()) {
    *all = *b;
    return;
  }
  auto list = n.IsSequence() ? r->StringArray(n, key) : std::nullopt;
  if (!list) {
    if (!n.IsSequence()) r->Error(n.mark, key, "should be a boolean value or an array of strings");
    return;
  }
  *all = false;
  *names = *list;
}

Inherit ReadInherit(const Node* node, KeywordReader* r) {
  Inherit inherit;
  if (node == nullptr || !r->ExpectMap(*node, "inherit")) return inherit;
  if (!r->CheckKeys(*node, {"default", "variables"}, "inherit")) return inherit;
  if (const Node* d = node->Find("default")) {
    ReadInheritPart(*d, "inherit:default", &inherit.all_default, &inherit.default_keys, r);
    for (const std::string& k : inherit.default_keys) {
      if (!Contains(kDefaultKeys, k)) {
        r->Error(d->mark, "inherit:default", "contains unknown values: " + k);
      }
    }
  }
  if (const Node* v = node->Find("variables")) {
    ReadInheritPart(*v, "inherit:variables", &inherit.all_variables, &inherit.variable_names, r);
  }
  return inherit;
}

void ReadWhenAndStart(const Node& config, Job* job, KeywordReader* r) {
  if (const Node* n = config.Find("when")) {
    auto s = r->String(*n, "when");
    std::optional<When> when = s ? ParseWhen(*s) : std::nullopt;
    if (s && (!when || *when == When::kNever)) {
      r->Error(n->mark, "when",
               "should be one of: on_success, on_failure, always, manual, delayed");
    } else if (when) {
      job->when = *when;
    }
  }
  const Node* start_in = config.Find("start_in");
  bool has_rules = config.Find("rules") != nullptr;
  if (job->when == When::kDelayed && !has_rules) {
    if (start_in == nullptr) {
      r->Error(config.mark, "start_in", "should be a duration");
    } else if (r->Duration(*start_in, "start_in", kMaxStartInSeconds)) {
      job->start_in = start_in->scalar;
    }
  } else if (start_in != nullptr && !has_rules) {
    r->Error(start_in->mark, "start_in", "must be blank");
  }
  // A manual job may fail without failing the pipeline unless it says
  // otherwise; rules can still change `when` later.
  if (!job->allow_failure_set && job->when == When::kManual) job->allow_failure.value = true;
}

void CheckWithRules(const Node& config, KeywordReader* r) {
  if (config.Find("rules") == nullptr) return;
  for (const char* key : {"only", "except", "start_in"}) {
    const MapEntry* e = config.FindEntry(key);
    if (e != nullptr) {
      r->Error(e->key_mark, key, "key may not be used with `rules`");
    }
  }
}

void CheckDependenciesInNeeds(const Node& config, const Job& job, KeywordReader* r) {
  if (!job.dependencies || !job.needs || job.needs->empty()) return;
  std::vector<std::string> missing;
  for (const std::string& dep : *job.dependencies) {
    bool found = std::any_of(job.needs->begin(), job.needs->end(), [&](const Need& n) {
      return n.project.empty() && n.pipeline.empty() &&
             (n.job == dep || n.job.starts_with(dep + ": ["));
    });
    if (!found) missing.push_back(dep);
  }
  if (missing.empty()) return;
  std::string names;
  for (const std::string& m : missing) names += (names.empty() ? "" : ", ") + m;
  r->Error(config.Find("dependencies")->mark, "dependencies",
           "the " + names + " should be part of needs");
}

}  // namespace

Node ValidateDefaults(const Node& defaults, Diagnostics* diags) {
  Node valid = Node::Map(defaults.mark);
  KeywordReader r(diags, "", "default");
  if (defaults.IsPlainNullScalar()) return valid;
  if (!r.ExpectMap(defaults, "")) return valid;
  for (const MapEntry& e : defaults.entries) {
    if (!Contains(kDefaultKeys, e.key)) {
      r.Error(e.key_mark, e.key, "unknown key" + DidYouMean(e.key, kDefaultKeys));
      continue;
    }
    Job scratch;
    int before = r.errors();
    ReadSimpleKeyword(e.key, e.value, &scratch, &r);
    if (r.errors() == before) valid.Set(e.key, e.value, e.key_mark);
  }
  return valid;
}

void ReportNotAJob(const MapEntry& entry, Diagnostics* diags) {
  // What a top-level key that is not a job may have been meant to be.
  static constexpr std::string_view kTopLevelKeys[] = {
      "include",   "before_script", "image", "services", "after_script",
      "variables", "stages",        "cache", "default",  "workflow"};
  diags->Error(entry.key_mark.line > 0 ? entry.key_mark : entry.value.mark,
               "config should implement the script:, run:, or trigger: keyword" +
                   DidYouMean(entry.key, kTopLevelKeys),
               entry.key);
  // GitLab checks such a job's keys too: a misspelt `script` shows here.
  if (entry.value.IsMap()) {
    KeywordReader r(diags, entry.key);
    r.CheckKeys(entry.value, kJobKeys, "");
  }
}

std::optional<ParsedJob> ParseJob(const std::string& name, const Mark& mark, const Node& config,
                                  const JobContextDefaults& context, Diagnostics* diags) {
  KeywordReader r(diags, name);
  ParsedJob parsed;
  Job& job = parsed.job;
  job.name = name;
  job.base_name = name;
  job.mark = mark;
  if (name.size() > kMaxJobNameLength) {
    r.Error(mark, "",
            "name is too long (maximum is " + std::to_string(kMaxJobNameLength) + " characters)");
  }
  const bool is_bridge = config.Find("trigger") != nullptr;
  if (is_bridge && (config.Find("script") != nullptr || config.Find("run") != nullptr)) {
    r.Error(config.Find("trigger")->mark, "trigger",
            std::string("these keys cannot be used together: ") +
                (config.Find("script") ? "script" : "run") + ", trigger");
    return std::nullopt;
  }
  r.CheckKeys(config,
              is_bridge ? std::span<const std::string_view>(kBridgeKeys)
                        : std::span<const std::string_view>(kJobKeys),
              "");
  // A keyword set to null counts as not given (so default: applies), except
  // script, which is then blank.
  Node spec = Node::Map(config.mark);
  for (const MapEntry& e : config.entries) {
    if (e.key == "script" || !e.value.IsPlainNullScalar()) spec.entries.push_back(e);
  }
  Inherit inherit = ReadInherit(spec.Find("inherit"), &r);

  // default: fills what the job leaves unset. Trigger jobs only take the
  // keywords they have.
  Node effective = spec;
  for (const MapEntry& d : context.defaults.entries) {
    if (!inherit.Default(d.key) || effective.Find(d.key) != nullptr) continue;
    if (is_bridge && d.key != "interruptible") continue;
    effective.Set(d.key, d.value, d.key_mark);
  }

  for (const MapEntry& e : effective.entries) {
    const Node& value = e.value;
    if (e.key == "parallel") {
      parsed.parallel = value;
    } else if (e.key == "variables") {
      // Handled below with the global variables.
    } else if (!ReadSimpleKeyword(e.key, value, &job, &r)) {
      // extends, inherit, when, start_in, publish, inputs: handled elsewhere
      // or carried by GitLab for features slipway does not run.
    }
  }
  if (const Node* script = spec.Find("script");
      script != nullptr &&
      (script->IsPlainNullScalar() || (script->IsSequence() && script->items.empty()))) {
    r.Error(script->mark, "script", "can't be blank");
  }
  ReadWhenAndStart(spec, &job, &r);
  CheckWithRules(spec, &r);
  CheckDependenciesInNeeds(spec, job, &r);

  for (const Variable& v : context.global_variables.items()) {
    if (inherit.all_variables ||
        std::find(inherit.variable_names.begin(), inherit.variable_names.end(), v.name) !=
            inherit.variable_names.end()) {
      job.variables.Set(v);
    }
  }
  if (const Node* vars = spec.Find("variables")) {
    if (auto own = ParseVariables(*vars, VariablesScope::kJob, "variables", &r)) {
      job.variables.Merge(*own);
    }
  }
  if (r.errors() > 0) return std::nullopt;
  return parsed;
}

}  // namespace slipway
