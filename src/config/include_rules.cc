#include "config/include_rules.h"

#include <string_view>

#include "config/expression.h"
#include "util/glob.h"

namespace slipway {
namespace {

// Patterns of an `exists:` clause: a list, or a map with `paths:`.
const Node* ExistsPatterns(const Node& exists) {
  return exists.IsMap() ? exists.Find("paths") : &exists;
}

std::optional<bool> AnyFileExists(const Node& exists, const SourceTree& tree,
                                  const VariableList& variables, Diagnostics* diags) {
  const Node* patterns = ExistsPatterns(exists);
  if (patterns == nullptr || !patterns->IsSequence()) {
    diags->Error(exists.mark, "include:rules:exists should be an array of strings");
    return std::nullopt;
  }
  for (const Node& pattern : patterns->items) {
    if (!pattern.IsScalar()) {
      diags->Error(pattern.mark, "include:rules:exists should be an array of strings");
      return std::nullopt;
    }
    // GitLab expands `exists` paths with expand_existing: unknown variables
    // stay as written.
    std::string expanded = ExpandExistingVariables(pattern.scalar, variables);
    while (!expanded.empty() && expanded.front() == '/') expanded.erase(expanded.begin());
    StatusOr<std::vector<std::string>> found = tree.Find(expanded, GlobSyntax::kFnmatch);
    if (found.ok() && !found->empty()) return true;
  }
  return false;
}

// Whether every clause of rule holds; nullopt after an error.
std::optional<bool> RuleMatches(const Node& rule, const SourceTree& tree,
                                const VariableList& variables, Diagnostics* diags) {
  for (const MapEntry& clause : rule.entries) {
    if (clause.key == "if") {
      if (!clause.value.IsScalar()) {
        diags->Error(clause.value.mark, "include:rules:if should be a string");
        return std::nullopt;
      }
      StatusOr<Expression> expression = Expression::Parse(clause.value.scalar);
      if (!expression.ok()) {
        diags->Error(clause.value.mark, "include:rules:if: invalid expression syntax: " +
                                            expression.status().message());
        return std::nullopt;
      }
      if (!expression->Evaluate(variables)) return false;
    } else if (clause.key == "exists") {
      std::optional<bool> exists = AnyFileExists(clause.value, tree, variables, diags);
      if (!exists || !*exists) return exists;
    } else if (clause.key != "changes" && clause.key != "when") {
      diags->Error(clause.key_mark,
                   "include:rules:rule config contains unknown keys: " + clause.key);
      return std::nullopt;
    }
  }
  return true;
}

}  // namespace

std::optional<bool> EvaluateIncludeRules(const Node* rules, const SourceTree& tree,
                                         const VariableList& variables, Diagnostics* diags) {
  if (rules == nullptr || rules->IsNull()) return true;
  if (!rules->IsSequence()) {
    diags->Error(rules->mark, "include:rules config should be an array of hashes");
    return std::nullopt;
  }
  for (const Node& rule : rules->items) {
    if (!rule.IsMap()) {
      diags->Error(rule.mark, "include:rules:rule config should be a hash");
      return std::nullopt;
    }
    const Node* when = rule.Find("when");
    if (when != nullptr &&
        !(when->IsScalar() && (when->scalar == "never" || when->scalar == "always"))) {
      diags->Error(when->mark, "include:rules:rule when unknown value: " +
                                   (when->IsScalar() ? when->scalar : when->TypeName()));
      return std::nullopt;
    }
    std::optional<bool> matches = RuleMatches(rule, tree, variables, diags);
    if (!matches) return std::nullopt;
    if (*matches) return when == nullptr || when->scalar != "never";
  }
  return false;
}

}  // namespace slipway
