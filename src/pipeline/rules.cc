#include "pipeline/rules.h"

#include <algorithm>

#include "config/expression.h"
#include "config/ruby_regexp.h"
#include "util/git.h"
#include "util/glob.h"

namespace slipway {
namespace {

// ---- Conditions

StatusOr<bool> EvaluateIf(const std::string& text, const VariableList& vars) {
  StatusOr<Expression> expr = Expression::Parse(text);
  if (!expr.ok())
    return Status::Error("invalid expression '" + text + "': " + expr.status().message());
  return expr->Evaluate(vars);
}

bool AnyPathMatches(const std::vector<std::string>& patterns, const std::vector<std::string>& paths,
                    const VariableList& vars) {
  for (const std::string& raw : patterns) {
    std::string pattern = ExpandExistingVariables(raw, vars);
    if (pattern.empty()) continue;
    Glob glob(pattern);
    for (const std::string& path : paths) {
      if (glob.Match(path)) return true;
    }
  }
  return false;
}

RuleCache& CacheOf(const RuleContext& context) {
  return context.cache != nullptr ? *context.cache : context.own_cache;
}

// GitLab knows a pipeline's changed paths only for pushes to an existing
// branch and for merge requests; for anything else `changes` is true.
const std::vector<std::string>* KnownChangedFiles(const RuleContext& context) {
  if (context.changed_files == nullptr || !context.changed_files->has_value()) return nullptr;
  if (context.is_tag) return nullptr;
  if (context.source != "push" && context.source != "merge_request_event" &&
      context.source != "external_pull_request_event") {
    return nullptr;
  }
  return &**context.changed_files;
}

StatusOr<bool> ChangesMatch(const Changes& changes, const RuleContext& context) {
  const VariableList& vars = *context.variables;
  if (!changes.compare_to.empty()) {
    std::string ref = ExpandExistingVariables(changes.compare_to, vars);
    RuleCache& cache = CacheOf(context);
    auto it = cache.changed_since.find(ref);
    if (it == cache.changed_since.end()) {
      StatusOr<std::vector<std::string>> files =
          ChangedFilesSince(context.project_dir, ref, context.commit);
      std::optional<std::vector<std::string>> entry;
      if (files.ok()) entry = *std::move(files);
      it = cache.changed_since.emplace(ref, std::move(entry)).first;
    }
    if (!it->second) return Status::Error("rules:changes:compare_to is not a valid ref");
    return AnyPathMatches(changes.paths, *it->second, vars);
  }
  const std::vector<std::string>* files = KnownChangedFiles(context);
  if (files == nullptr) return true;
  return AnyPathMatches(changes.paths, *files, vars);
}

// The files `exists` looks at: a given commit's. In a git work tree:
// tracked and untracked files that are not ignored (GitLab looks at the
// commit's files; ignored build output is not part of it). Elsewhere: every
// file below the project.
const std::vector<std::string>& ProjectFiles(const RuleContext& context) {
  RuleCache& cache = CacheOf(context);
  if (cache.project_files) return *cache.project_files;
  StatusOr<std::vector<std::string>> files =
      context.commit.empty() ? ListWorkTreeFiles(context.project_dir)
                             : ListCommitFiles(context.project_dir, context.commit);
  if (!files.ok() && context.commit.empty()) files = ListFiles(context.project_dir);
  // An unreadable project leaves the list empty: nothing exists.
  cache.project_files = files.ok() ? *std::move(files) : std::vector<std::string>{};
  return *cache.project_files;
}

bool ExistsMatch(const std::vector<std::string>& patterns, const RuleContext& context) {
  return AnyPathMatches(patterns, ProjectFiles(context), *context.variables);
}

std::string Pluralize(const std::string& word) {
  auto ends_with = [&](std::string_view tail) {
    return word.size() >= tail.size() &&
           word.compare(word.size() - tail.size(), tail.size(), tail) == 0;
  };
  if (ends_with("s") || ends_with("sh") || ends_with("ch") || ends_with("x")) return word + "es";
  return word + "s";
}

// One entry of only/except refs: a keyword, a /regex/, or a ref name, each
// optionally followed by @group/project.
bool RefPatternMatches(const std::string& entry, const RuleContext& context) {
  std::string pattern = entry;
  size_t at = entry.find('@');
  if (at != std::string::npos) {
    if (entry.substr(at + 1) != context.project_path) return false;
    pattern = entry.substr(0, at);
  }
  bool is_branch = !context.is_tag && context.source != "merge_request_event";
  if (pattern == "tags" && context.is_tag) return true;
  if (pattern == "branches" && is_branch) return true;
  if (pattern == context.source || pattern == Pluralize(context.source)) return true;
  if (pattern == "merge_requests" && context.source == "merge_request_event") return true;
  if (pattern == "external_pull_requests" && context.source == "external_pull_request_event") {
    return true;
  }
  // As GitLab: a /regex/flags pattern (flags such as `i` included) matches the
  // ref by regex; text that does not parse as one is compared literally.
  if (pattern.size() >= 2 && pattern.front() == '/') {
    std::string error;
    std::shared_ptr<const RubyRegexp> re = RubyRegexp::Parse(pattern, &error);
    if (re != nullptr) return re->PartialMatch(context.ref);
  }
  return pattern == context.ref;
}

// Each key given in an only/except block, evaluated. Keys not given are
// absent from the result (GitLab builds one policy per given key).
StatusOr<std::vector<bool>> PolicyResults(const OnlyExcept& policy,
                                          const std::vector<std::string>* default_refs,
                                          const RuleContext& context) {
  std::vector<bool> results;
  const std::vector<std::string>* refs = policy.present ? &policy.refs : default_refs;
  if (refs != nullptr && !refs->empty()) {
    results.push_back(std::any_of(refs->begin(), refs->end(), [&](const std::string& r) {
      return RefPatternMatches(r, context);
    }));
  }
  if (!policy.present) return results;
  if (!policy.variables.empty()) {
    bool any = false;
    for (const std::string& text : policy.variables) {
      StatusOr<bool> r = EvaluateIf(text, *context.variables);
      if (!r.ok()) return r.status();
      any = any || *r;
    }
    results.push_back(any);
  }
  if (!policy.changes.empty()) {
    const std::vector<std::string>* files = KnownChangedFiles(context);
    results.push_back(files == nullptr ||
                      AnyPathMatches(policy.changes, *files, *context.variables));
  }
  if (!policy.kubernetes.empty()) {
    // `kubernetes: active` needs a cluster integration; a local run has none.
    results.push_back(false);
  }
  return results;
}

}  // namespace

StatusOr<bool> RuleMatches(const Rule& rule, const RuleContext& context) {
  if (rule.if_expr) {
    StatusOr<bool> r = EvaluateIf(*rule.if_expr, *context.variables);
    if (!r.ok() || !*r) return r;
  }
  if (rule.changes) {
    StatusOr<bool> r = ChangesMatch(*rule.changes, context);
    if (!r.ok() || !*r) return r;
  }
  if (rule.exists && !ExistsMatch(*rule.exists, context)) return false;
  return true;
}

StatusOr<std::optional<size_t>> FirstMatchingRule(const std::vector<Rule>& rules,
                                                  const RuleContext& context) {
  for (size_t i = 0; i < rules.size(); ++i) {
    StatusOr<bool> r = RuleMatches(rules[i], context);
    if (!r.ok()) return r.status();
    if (*r) return std::optional<size_t>(i);
  }
  return std::optional<size_t>();
}

StatusOr<bool> OnlyExceptIncludes(const OnlyExcept& only, const OnlyExcept& except,
                                  bool default_only, const RuleContext& context) {
  static const std::vector<std::string> kDefaultRefs = {"branches", "tags"};
  StatusOr<std::vector<bool>> only_results =
      PolicyResults(only, default_only ? &kDefaultRefs : nullptr, context);
  if (!only_results.ok()) return only_results.status();
  for (bool r : *only_results) {
    if (!r) return false;
  }
  if (!except.present) return true;
  StatusOr<std::vector<bool>> except_results = PolicyResults(except, nullptr, context);
  if (!except_results.ok()) return except_results.status();
  for (bool r : *except_results) {
    if (r) return false;
  }
  return true;
}

}  // namespace slipway
