#include "pipeline/job_fields.h"

#include <algorithm>
#include <initializer_list>
#include <iterator>

namespace slipway {
namespace {

bool OneOf(const std::string& value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

std::string JoinAllowed(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (std::string_view a : allowed) out += (out.empty() ? "" : ", ") + std::string(a);
  return out;
}

// Reads a string keyword restricted to allowed values; reports
// "should be one of: ..." otherwise.
std::optional<std::string> Choice(const Node& n, const std::string& key,
                                  std::initializer_list<std::string_view> allowed,
                                  KeywordReader* reader) {
  auto s = reader->String(n, key);
  if (!s) return std::nullopt;
  if (OneOf(*s, allowed)) return s;
  reader->Error(n.mark, key, "should be one of: " + JoinAllowed(allowed));
  return std::nullopt;
}

// The failure reasons `retry:when` accepts, as GitLab documents them.
constexpr std::string_view kRetryWhen[] = {
    "always",
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "runner_unsupported",
    "stale_schedule",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
};

std::optional<Cache> ParseCache(const Node& node, const std::string& key, KeywordReader* reader) {
  if (!reader->ExpectMap(node, key)) return std::nullopt;
  if (!reader->CheckKeys(
          node, {"key", "paths", "untracked", "policy", "when", "fallback_keys", "unprotect"},
          key)) {
    return std::nullopt;
  }
  int errors_before = reader->errors();
  Cache cache;
  if (const Node* k = FindValue(node, "key")) {
    const std::string kkey = key + ":key";
    if (k->IsMap()) {
      if (reader->CheckKeys(*k, {"files", "prefix"}, kkey)) {
        if (const Node* files = k->Find("files")) {
          if (auto list = reader->StringArray(*files, kkey + ":files")) {
            if (list->empty() || list->size() > 2) {
              reader->Error(files->mark, kkey + ":files",
                            list->empty() ? "can't be blank" : "has too many items (maximum is 2)");
            }
            cache.key_files = *list;
          }
        } else {
          reader->Error(k->mark, kkey, "config missing required keys: files");
        }
        if (const Node* prefix = k->Find("prefix")) {
          if (auto s = reader->String(*prefix, kkey + ":prefix")) cache.key_prefix = *s;
        }
      }
      cache.key.clear();
    } else if (k->IsScalar() && !k->IsPlainNullScalar()) {
      std::string value = ScalarToGitLabString(*k);
      if (value.find('/') != std::string::npos) {
        reader->Error(k->mark, kkey, "cannot contain the \"/\" character");
      } else if (value == "." || value == "..") {
        reader->Error(k->mark, kkey, "cannot be \".\" or \"..\"");
      }
      cache.key = value;
    } else {
      reader->Error(k->mark, kkey, "should be a hash, a string or a symbol");
    }
  }
  if (const Node* n = FindValue(node, "paths")) {
    if (auto v = reader->StringArray(*n, key + ":paths")) cache.paths = *v;
  }
  if (const Node* n = FindValue(node, "untracked")) {
    if (auto b = reader->Bool(*n, key + ":untracked")) cache.untracked = *b;
  }
  if (const Node* n = FindValue(node, "policy")) {
    auto s = reader->String(*n, key + ":policy");
    // A policy held in a variable is resolved when the job runs.
    if (s && (s->starts_with("$") || OneOf(*s, {"pull-push", "push", "pull"}))) {
      cache.policy = *s;
    } else if (s) {
      reader->Error(n->mark, key + ":policy", "should be one of: pull-push, push, pull");
    }
  }
  if (const Node* n = FindValue(node, "when")) {
    if (auto s = Choice(*n, key + ":when", {"on_success", "on_failure", "always"}, reader)) {
      cache.when = *s;
    }
  }
  if (const Node* n = FindValue(node, "fallback_keys")) {
    if (auto v = reader->StringArray(*n, key + ":fallback_keys")) cache.fallback_keys = *v;
  }
  if (const Node* n = FindValue(node, "unprotect")) {
    if (auto b = reader->Bool(*n, key + ":unprotect")) cache.unprotect = *b;
  }
  if (reader->errors() != errors_before) return std::nullopt;
  return cache;
}

}  // namespace

std::optional<Artifacts> ParseArtifacts(const Node& node, KeywordReader* reader) {
  Artifacts a;
  if (node.IsPlainNullScalar()) return a;
  if (!reader->ExpectMap(node, "artifacts")) return std::nullopt;
  if (!reader->CheckKeys(node,
                         {"name", "untracked", "paths", "exclude", "when", "expire_in", "expose_as",
                          "reports", "public", "access"},
                         "artifacts")) {
    return std::nullopt;
  }
  int errors_before = reader->errors();
  a.present = true;
  if (const Node* n = FindValue(node, "name")) {
    if (auto s = reader->String(*n, "artifacts:name")) a.name = *s;
  }
  if (const Node* n = FindValue(node, "untracked")) {
    if (auto b = reader->Bool(*n, "artifacts:untracked")) a.untracked = *b;
  }
  if (const Node* n = FindValue(node, "paths")) {
    if (auto v = reader->StringArray(*n, "artifacts:paths")) a.paths = *v;
  }
  if (const Node* n = FindValue(node, "exclude")) {
    if (auto v = reader->StringArray(*n, "artifacts:exclude")) a.exclude = *v;
  }
  if (const Node* n = FindValue(node, "when")) {
    if (auto s = Choice(*n, "artifacts:when", {"on_success", "on_failure", "always"}, reader)) {
      a.when = *s;
    }
  }
  if (const Node* n = FindValue(node, "expire_in")) {
    // Kept as written: GitLab also reads number words ("one week", corpus
    // 18) that util/duration does not, so a strict check here would reject
    // pipelines GitLab runs.
    if (auto s = reader->String(*n, "artifacts:expire_in")) a.expire_in = *s;
  }
  if (const Node* n = FindValue(node, "expose_as")) {
    if (auto s = reader->String(*n, "artifacts:expose_as")) a.expose_as = *s;
  }
  if (const Node* n = FindValue(node, "public")) {
    if (auto b = reader->Bool(*n, "artifacts:public")) a.is_public = *b;
  }
  if (const Node* n = FindValue(node, "access")) {
    if (auto s =
            Choice(*n, "artifacts:access", {"all", "developer", "maintainer", "none"}, reader)) {
      a.is_public = *s == "all";
    }
  }
  if (const Node* n = FindValue(node, "reports")) {
    if (reader->ExpectMap(*n, "artifacts:reports")) {
      for (const MapEntry& e : n->entries) {
        const std::string key = "artifacts:reports:" + e.key;
        if (e.value.IsMap()) {
          // coverage_report: {coverage_format, path}; annotations and the
          // like carry no file list slipway uses.
          if (const Node* path = FindValue(e.value, "path")) {
            if (auto s = reader->String(*path, key + ":path")) a.reports[e.key] = {*s};
          }
          continue;
        }
        if (auto v = reader->StringOrStringArray(e.value, key)) a.reports[e.key] = *v;
      }
    }
  }
  if (reader->errors() != errors_before) return std::nullopt;
  return a;
}

std::optional<std::vector<Cache>> ParseCaches(const Node& node, KeywordReader* reader) {
  std::vector<Cache> caches;
  if (node.IsPlainNullScalar()) return caches;
  if (node.IsMap()) {
    auto cache = ParseCache(node, "cache", reader);
    if (!cache) return std::nullopt;
    caches.push_back(std::move(*cache));
    return caches;
  }
  if (!node.IsSequence()) {
    reader->Error(node.mark, "cache", "should be a hash or an array of hashes");
    return std::nullopt;
  }
  if (node.items.size() > kMaxCaches) {
    reader->Error(node.mark, "cache",
                  "no more than " + std::to_string(kMaxCaches) + " caches can be created");
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < node.items.size(); ++i) {
    auto cache = ParseCache(node.items[i], "cache:" + std::to_string(i), reader);
    if (cache) {
      caches.push_back(std::move(*cache));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return caches;
}

std::optional<Environment> ParseEnvironment(const Node& node, KeywordReader* reader) {
  Environment env;
  if (IsStringScalar(node)) {
    env.name = node.scalar;
    return env;
  }
  if (!node.IsMap()) {
    reader->Error(node.mark, "environment", "should be a hash or a string");
    return std::nullopt;
  }
  if (!reader->CheckKeys(
          node,
          {"name", "url", "action", "on_stop", "auto_stop_in", "kubernetes", "deployment_tier"},
          "environment")) {
    return std::nullopt;
  }
  int errors_before = reader->errors();
  if (const Node* n = FindValue(node, "name")) {
    if (auto s = reader->String(*n, "environment:name")) env.name = *s;
  } else {
    reader->Error(node.mark, "environment:name", "can't be blank");
  }
  if (const Node* n = FindValue(node, "url")) {
    if (auto s = reader->String(*n, "environment:url")) env.url = *s;
  }
  if (const Node* n = FindValue(node, "action")) {
    if (auto s = Choice(*n, "environment:action", {"start", "stop", "prepare", "verify", "access"},
                        reader)) {
      env.action = *s;
    }
  }
  if (const Node* n = FindValue(node, "on_stop")) {
    if (auto s = reader->String(*n, "environment:on_stop")) env.on_stop = *s;
  }
  if (const Node* n = FindValue(node, "auto_stop_in")) {
    if (auto s = reader->String(*n, "environment:auto_stop_in")) env.auto_stop_in = *s;
  }
  if (const Node* n = FindValue(node, "deployment_tier")) {
    if (auto s = Choice(*n, "environment:deployment_tier",
                        {"production", "staging", "testing", "development", "other"}, reader)) {
      env.deployment_tier = *s;
    }
  }
  if (const Node* n = FindValue(node, "kubernetes")) env.kubernetes = *n;
  if (reader->errors() != errors_before) return std::nullopt;
  return env;
}

std::optional<Retry> ParseRetry(const Node& node, KeywordReader* reader) {
  Retry retry;
  auto read_max = [&](const Node& n, const std::string& key) {
    auto max = n.AsInt();
    if (!max) {
      reader->Error(n.mark, key, "should be an integer");
    } else if (*max < 0 || *max > 2) {
      reader->Error(
          n.mark, key,
          *max < 0 ? "must be greater than or equal to 0" : "must be less than or equal to 2");
    } else {
      retry.max = static_cast<int>(*max);
    }
  };
  if (node.AsInt()) {
    int errors_before = reader->errors();
    read_max(node, "retry");
    if (reader->errors() != errors_before) return std::nullopt;
    return retry;
  }
  if (!node.IsMap()) {
    reader->Error(node.mark, "retry", "has to be either an integer or a hash");
    return std::nullopt;
  }
  if (!reader->CheckKeys(node, {"max", "when", "exit_codes"}, "retry")) return std::nullopt;
  int errors_before = reader->errors();
  if (const Node* n = FindValue(node, "max")) read_max(*n, "retry:max");
  if (const Node* n = FindValue(node, "when")) {
    if (auto list = reader->StringOrStringArray(*n, "retry:when")) {
      for (const std::string& w : *list) {
        if (std::find(std::begin(kRetryWhen), std::end(kRetryWhen), w) == std::end(kRetryWhen)) {
          reader->Error(n->mark, "retry:when", "contains unknown values: " + w);
        }
      }
      retry.when = *list;
    }
  }
  if (const Node* n = FindValue(node, "exit_codes")) {
    if (auto codes = reader->IntOrIntArray(*n, "retry:exit_codes")) retry.exit_codes = *codes;
  }
  if (reader->errors() != errors_before) return std::nullopt;
  return retry;
}

std::optional<AllowFailure> ParseAllowFailure(const Node& node, KeywordReader* reader) {
  AllowFailure af;
  if (auto b = node.AsBool()) {
    af.value = *b;
    return af;
  }
  if (!node.IsMap()) {
    reader->Error(node.mark, "allow_failure", "should be a hash or a boolean value");
    return std::nullopt;
  }
  if (!reader->CheckKeys(node, {"exit_codes"}, "allow_failure")) return std::nullopt;
  const Node* codes = FindValue(node, "exit_codes");
  if (codes == nullptr) {
    reader->Error(node.mark, "allow_failure", "config missing required keys: exit_codes");
    return std::nullopt;
  }
  auto list = reader->IntOrIntArray(*codes, "allow_failure:exit_codes");
  if (!list) return std::nullopt;
  af.exit_codes = *list;
  return af;
}

}  // namespace slipway
