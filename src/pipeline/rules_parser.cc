#include "pipeline/rules_parser.h"

#include "config/expression.h"
#include "pipeline/parallel.h"
#include "pipeline/variables_parser.h"
#include "util/glob.h"

namespace slipway {
namespace {

constexpr int kMaxRulesNesting = 10;
constexpr int64_t kMaxStartInSeconds = 7 * 24 * 3600;  // GitLab's one-week limit.

std::string Index(const std::string& key, size_t i) { return key + ":" + std::to_string(i); }

// Rules from !reference arrive as nested arrays; GitLab flattens them.
bool FlattenMaps(const Node& n, int depth, std::vector<const Node*>* out) {
  for (const Node& item : n.items) {
    if (item.IsSequence()) {
      if (depth >= kMaxRulesNesting || !FlattenMaps(item, depth + 1, out)) return false;
    } else {
      out->push_back(&item);
    }
  }
  return true;
}

void FlattenNeeds(const Node& n, std::vector<const Node*>* out) {
  for (const Node& item : n.items) {
    if (item.IsSequence()) {
      FlattenNeeds(item, out);
    } else if (!item.IsPlainNullScalar()) {
      out->push_back(&item);
    }
  }
}

// Reports, at the item, each path pattern of list (read already as strings)
// whose braces go past the glob bounds: it would silently match nothing.
bool CheckPatterns(const Node& list, const std::string& key, KeywordReader* reader) {
  bool ok = true;
  for (const Node& item : list.items) {
    if (Status s = CheckGlob(item.scalar); !s.ok()) {
      reader->Error(item.mark, key, s.message());
      ok = false;
    }
  }
  return ok;
}

std::optional<Changes> ParseChanges(const Node& node, const std::string& key,
                                    KeywordReader* reader) {
  Changes changes;
  if (node.IsMap()) {
    if (!reader->CheckKeys(node, {"paths", "compare_to"}, key)) return std::nullopt;
    const Node* paths = FindValue(node, "paths");
    if (paths == nullptr) {
      reader->Error(node.mark, key, "config missing required keys: paths");
      return std::nullopt;
    }
    auto list = reader->StringArray(*paths, key + ":paths");
    if (!list || !CheckPatterns(*paths, key + ":paths", reader)) return std::nullopt;
    changes.paths = *list;
    if (const Node* compare_to = FindValue(node, "compare_to")) {
      auto s = reader->String(*compare_to, key + ":compare_to");
      if (!s) return std::nullopt;
      changes.compare_to = *s;
    }
    return changes;
  }
  auto list = reader->StringArray(node, key);
  if (!list || !CheckPatterns(node, key, reader)) return std::nullopt;
  changes.paths = *list;
  return changes;
}

std::optional<std::vector<std::string>> ParseExists(const Node& node, const std::string& key,
                                                    KeywordReader* reader) {
  if (node.IsMap()) {
    if (!reader->CheckKeys(node, {"paths", "project", "ref"}, key)) return std::nullopt;
    const Node* paths = FindValue(node, "paths");
    if (paths == nullptr) {
      reader->Error(node.mark, key, "config missing required keys: paths");
      return std::nullopt;
    }
    auto list = reader->StringArray(*paths, key + ":paths");
    if (!list || !CheckPatterns(*paths, key + ":paths", reader)) return std::nullopt;
    return list;
  }
  auto list = reader->StringArray(node, key);
  if (!list || !CheckPatterns(node, key, reader)) return std::nullopt;
  return list;
}

std::optional<Rule> ParseRule(const Node& node, RulesScope scope, const std::string& key,
                              KeywordReader* reader) {
  if (!node.IsMap() || node.entries.empty()) {
    reader->Error(node.mark, key, "should be a hash");
    return std::nullopt;
  }
  int errors_before = reader->errors();
  bool keys_ok =
      scope == RulesScope::kJob
          ? reader->CheckKeys(node,
                              {"if", "changes", "exists", "when", "start_in", "allow_failure",
                               "variables", "needs", "interruptible"},
                              key)
          : reader->CheckKeys(node, {"if", "changes", "exists", "when", "variables", "auto_cancel"},
                              key);
  if (!keys_ok) return std::nullopt;
  Rule rule;
  rule.mark = node.mark;
  if (const Node* n = FindValue(node, "if")) {
    if (auto s = reader->String(*n, key + ":if")) {
      if (ValidateIfExpression(*n, key + ":if", reader)) rule.if_expr = *s;
      rule.if_mark = n->mark;
    }
  }
  if (const Node* n = FindValue(node, "changes"))
    rule.changes = ParseChanges(*n, key + ":changes", reader);
  if (const Node* n = FindValue(node, "exists"))
    rule.exists = ParseExists(*n, key + ":exists", reader);
  if (const Node* n = FindValue(node, "when")) {
    auto s = reader->String(*n, key + ":when");
    std::optional<When> when = s ? ParseWhen(*s) : std::nullopt;
    bool allowed = when.has_value() &&
                   (scope == RulesScope::kJob || *when == When::kAlways || *when == When::kNever);
    if (s && !allowed) reader->Error(n->mark, key + ":when", "unknown value: " + *s);
    if (allowed) rule.when = when;
  }
  const Node* start_in = FindValue(node, "start_in");
  if (rule.when == When::kDelayed) {
    if (start_in == nullptr) {
      reader->Error(node.mark, key + ":start_in", "can't be blank");
    } else if (reader->Duration(*start_in, key + ":start_in", kMaxStartInSeconds)) {
      rule.start_in = start_in->scalar;
    }
  } else if (start_in != nullptr) {
    reader->Error(start_in->mark, key, "config contains disallowed keys: start_in");
  }
  if (const Node* n = FindValue(node, "allow_failure")) {
    rule.allow_failure = reader->Bool(*n, key + ":allow_failure");
  }
  if (const Node* n = FindValue(node, "interruptible")) {
    rule.interruptible = reader->Bool(*n, key + ":interruptible");
  }
  if (const Node* n = FindValue(node, "variables")) {
    if (auto vars = ParseVariables(*n, VariablesScope::kRule, key + ":variables", reader)) {
      rule.variables = std::move(*vars);
    }
  }
  if (const Node* n = FindValue(node, "needs")) rule.needs = ParseNeeds(*n, key + ":needs", reader);
  if (reader->errors() != errors_before) return std::nullopt;
  return rule;
}

std::optional<std::vector<Need>> ParseNeed(const Node& node, const std::string& key,
                                           KeywordReader* reader) {
  Need need;
  need.mark = node.mark;
  if (node.IsScalar()) {
    auto s = reader->String(node, key);
    if (!s) return std::nullopt;
    if (s->empty()) {
      reader->Error(node.mark, key, "can't be blank");
      return std::nullopt;
    }
    need.job = *s;
    return std::vector<Need>{need};
  }
  if (!node.IsMap()) {
    reader->Error(node.mark, key, "has an unsupported type");
    return std::nullopt;
  }
  int errors_before = reader->errors();
  const Node* parallel = nullptr;
  if (FindValue(node, "pipeline") != nullptr) {
    if (!reader->CheckKeys(node, {"pipeline", "job", "artifacts"}, key)) return std::nullopt;
    if (auto s = reader->String(*FindValue(node, "pipeline"), key + ":pipeline"))
      need.pipeline = *s;
  } else if (FindValue(node, "project") != nullptr) {
    if (!reader->CheckKeys(node, {"project", "job", "ref", "artifacts"}, key)) {
      return std::nullopt;
    }
    if (auto s = reader->String(*FindValue(node, "project"), key + ":project")) need.project = *s;
    if (const Node* ref = FindValue(node, "ref")) {
      if (auto s = reader->String(*ref, key + ":ref")) need.ref = *s;
    }
  } else {
    if (!reader->CheckKeys(node, {"job", "artifacts", "optional", "parallel"}, key)) {
      return std::nullopt;
    }
    parallel = FindValue(node, "parallel");
  }
  const Node* job = FindValue(node, "job");
  if (job == nullptr) {
    if (need.pipeline.empty()) reader->Error(node.mark, key, "has an unsupported type");
  } else if (auto s = reader->String(*job, key + ":job")) {
    need.job = *s;
  }
  if (const Node* n = FindValue(node, "artifacts")) {
    if (auto b = reader->Bool(*n, key + ":artifacts")) need.artifacts = *b;
  }
  if (const Node* n = FindValue(node, "optional")) {
    if (auto b = reader->Bool(*n, key + ":optional")) need.optional = *b;
  }
  if (reader->errors() != errors_before) return std::nullopt;
  if (parallel == nullptr) return std::vector<Need>{need};
  if (!parallel->IsMap() || parallel->Find("matrix") == nullptr) {
    reader->Error(parallel->mark, key + ":parallel", "should be a hash with a matrix");
    return std::nullopt;
  }
  if (!reader->CheckKeys(*parallel, {"matrix"}, key + ":parallel")) return std::nullopt;
  auto instances =
      ExpandMatrix(need.job, *parallel->Find("matrix"), key + ":parallel:matrix", reader);
  if (!instances) return std::nullopt;
  std::vector<Need> out;
  for (const ParallelInstance& inst : *instances) {
    Need n = need;
    n.job = inst.name;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

bool ValidateIfExpression(const Node& node, const std::string& key, KeywordReader* reader) {
  if (!IsStringScalar(node)) return false;
  StatusOr<Expression> parsed = Expression::Parse(node.scalar);
  if (parsed.ok()) return true;
  reader->Error(node.mark, key, "invalid expression syntax: " + parsed.status().message());
  return false;
}

std::optional<std::vector<Rule>> ParseRules(const Node& node, RulesScope scope,
                                            const std::string& key, KeywordReader* reader) {
  std::vector<const Node*> items;
  if (!node.IsSequence() || !FlattenMaps(node, 1, &items)) {
    reader->Error(node.mark, key, "should be an array of hashes");
    return std::nullopt;
  }
  std::vector<Rule> rules;
  bool ok = true;
  for (size_t i = 0; i < items.size(); ++i) {
    auto rule = ParseRule(*items[i], scope, Index(key, i), reader);
    if (rule) {
      rules.push_back(std::move(*rule));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return rules;
}

std::optional<std::vector<Need>> ParseNeeds(const Node& node, const std::string& key,
                                            KeywordReader* reader) {
  std::vector<const Node*> items;
  if (node.IsSequence()) {
    FlattenNeeds(node, &items);
  } else if (node.IsMap() || node.IsScalar()) {
    items.push_back(&node);
  } else {
    reader->Error(node.mark, key, "can only be a Hash or an Array");
    return std::nullopt;
  }
  std::vector<Need> needs;
  bool ok = true;
  for (size_t i = 0; i < items.size(); ++i) {
    auto parsed = ParseNeed(*items[i], Index(key, i), reader);
    if (!parsed) {
      ok = false;
      continue;
    }
    for (Need& n : *parsed) needs.push_back(std::move(n));
  }
  if (!ok) return std::nullopt;
  return needs;
}

std::optional<OnlyExcept> ParseOnlyExcept(const Node& node, const std::string& key,
                                          KeywordReader* reader) {
  OnlyExcept out;
  out.present = true;
  out.mark = node.mark;
  if (node.IsSequence()) {
    auto refs = reader->StringArray(node, key);
    if (!refs) return std::nullopt;
    out.refs = *refs;
    return out;
  }
  if (!node.IsMap()) {
    reader->Error(node.mark, key, "has to be either an array of conditions or a hash");
    return std::nullopt;
  }
  if (!reader->CheckKeys(node, {"refs", "variables", "changes", "kubernetes"}, key)) {
    return std::nullopt;
  }
  int errors_before = reader->errors();
  if (const Node* n = FindValue(node, "refs")) {
    if (auto v = reader->StringArray(*n, key + ":refs")) out.refs = *v;
  }
  if (const Node* n = FindValue(node, "variables")) {
    if (auto v = reader->StringArray(*n, key + ":variables")) {
      for (size_t i = 0; i < n->items.size(); ++i) {
        ValidateIfExpression(n->items[i], Index(key + ":variables", i), reader);
      }
      out.variables = *v;
    }
  }
  if (const Node* n = FindValue(node, "changes")) {
    auto v = reader->StringArray(*n, key + ":changes");
    if (v && CheckPatterns(*n, key + ":changes", reader)) out.changes = *v;
  }
  if (const Node* n = FindValue(node, "kubernetes")) {
    auto s = reader->String(*n, key + ":kubernetes");
    if (s && *s != "active") {
      reader->Error(n->mark, key + ":kubernetes", "unknown value: " + *s);
    } else if (s) {
      out.kubernetes = *s;
    }
  }
  if (reader->errors() != errors_before) return std::nullopt;
  return out;
}

}  // namespace slipway
