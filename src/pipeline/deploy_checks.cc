#include "pipeline/deploy_checks.h"

#include <re2/re2.h>

#include <cmath>
#include <cstdlib>

#include "config/keyword_reader.h"
#include "util/duration.h"
#include "util/http_get.h"

namespace slipway {
namespace {

bool HasVariable(std::string_view text) { return text.find('$') != std::string_view::npos; }

// "1s", "500ms" or anything ParseDuration reads; "0" where zero is allowed.
std::optional<std::chrono::milliseconds> ReadDuration(const Node& n, const std::string& key,
                                                      bool zero_ok, KeywordReader* r) {
  if (n.IsScalar()) {
    const std::string& s = n.scalar;
    if (zero_ok && (s == "0" || s == "0s")) return std::chrono::milliseconds(0);
    if (s.size() > 2 && s.compare(s.size() - 2, 2, "ms") == 0) {
      char* end = nullptr;
      long long ms = std::strtoll(s.c_str(), &end, 10);
      if (end == s.c_str() + s.size() - 2 && ms > 0) return std::chrono::milliseconds(ms);
    } else if (!s.empty() && s.front() != '-') {
      StatusOr<int64_t> seconds = ParseDuration(s);
      if (seconds.ok() && *seconds > 0) return std::chrono::seconds(*seconds);
    }
  }
  r->Error(n.mark, key,
           std::string("should be a positive duration such as 500ms, 1s or 2m") +
               (zero_ok ? " (or 0)" : ""));
  return std::nullopt;
}

std::optional<int> ReadCount(const Node& n, const std::string& key, int min, KeywordReader* r) {
  std::optional<int64_t> v = n.AsInt();
  if (!v || *v < min || *v > 100000) {
    r->Error(n.mark, key, "should be an integer of at least " + std::to_string(min));
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

void CheckUrl(const Node& n, const std::string& url, const std::string& key, KeywordReader* r) {
  HttpUrl parsed;
  if (!HasVariable(url) && !ParseHttpUrl(url, &parsed)) {
    r->Error(n.mark, key, "should be an http:// or https:// URL");
  }
}

void ParseHttp(const Node& n, const std::string& key, HttpCheck* http, KeywordReader* r) {
  if (!r->ExpectMap(n, key)) return;
  r->CheckKeys(n, {"url", "status", "body", "json"}, key);
  if (const Node* url = FindValue(n, "url")) {
    if (auto s = r->String(*url, key + ":url")) {
      http->url = *s;
      CheckUrl(*url, *s, key + ":url", r);
    }
  } else {
    r->Error(n.mark, key, "needs a url");
  }
  if (const Node* status = FindValue(n, "status")) {
    std::optional<int64_t> v = status->AsInt();
    if (!v || *v < 100 || *v > 599) {
      r->Error(status->mark, key + ":status", "should be an HTTP status from 100 to 599");
    } else {
      http->status = static_cast<int>(*v);
    }
  }
  if (const Node* body = FindValue(n, "body")) {
    if (auto s = r->String(*body, key + ":body")) {
      RE2 re(*s, RE2::Quiet);
      if (!re.ok()) {
        r->Error(body->mark, key + ":body", "is not a valid RE2 regular expression: " + re.error());
      } else {
        http->body = *s;
      }
    }
  }
  if (const Node* json = FindValue(n, "json")) {
    const std::string jkey = key + ":json";
    if (!r->ExpectMap(*json, jkey)) return;
    r->CheckKeys(*json, {"path", "equals"}, jkey);
    const Node* path = FindValue(*json, "path");
    const Node* equals = FindValue(*json, "equals");
    if (path == nullptr || equals == nullptr) {
      r->Error(json->mark, jkey, "needs a path and a value it equals");
      return;
    }
    if (auto s = r->String(*path, jkey + ":path")) {
      if (!ParseJsonPath(*s)) {
        r->Error(path->mark, jkey + ":path",
                 "should be a JSON path such as $.version or $.items[0].state");
      } else {
        http->json_path = *s;
      }
    }
    if (!equals->IsScalar()) {
      r->Error(equals->mark, jkey + ":equals", "should be a string, number or boolean");
    } else {
      http->json_equals = equals->scalar;
    }
  }
}

void ParseTcp(const Node& n, const std::string& key, TcpCheck* tcp, KeywordReader* r) {
  if (!r->ExpectMap(n, key)) return;
  r->CheckKeys(n, {"address"}, key);
  const Node* address = FindValue(n, "address");
  if (address == nullptr) {
    r->Error(n.mark, key, "needs an address (host:port)");
    return;
  }
  auto s = r->String(*address, key + ":address");
  if (!s) return;
  tcp->address = *s;
  if (HasVariable(*s)) return;
  size_t colon = s->rfind(':');
  long port = colon == std::string::npos ? 0 : std::strtol(s->c_str() + colon + 1, nullptr, 10);
  if (colon == std::string::npos || colon == 0 || port < 1 || port > 65535 ||
      s->find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    r->Error(address->mark, key + ":address", "should be host:port with a port from 1 to 65535");
  }
}

void ParseCommand(const Node& n, const std::string& key, CommandCheck* command, KeywordReader* r) {
  if (auto script = r->Script(n, key)) {
    if (script->empty()) {
      r->Error(n.mark, key, "should not be empty");
    } else {
      command->script = std::move(*script);
    }
  }
}

void ParsePrometheus(const Node& n, const std::string& key, PrometheusCheck* prometheus,
                     KeywordReader* r) {
  if (!r->ExpectMap(n, key)) return;
  r->CheckKeys(n, {"url", "query", "condition"}, key);
  for (const char* required : {"url", "query", "condition"}) {
    if (FindValue(n, required) == nullptr) {
      r->Error(n.mark, key, std::string("needs a ") + required);
    }
  }
  if (const Node* url = FindValue(n, "url")) {
    if (auto s = r->String(*url, key + ":url")) {
      prometheus->url = *s;
      CheckUrl(*url, *s, key + ":url", r);
    }
  }
  if (const Node* query = FindValue(n, "query")) {
    if (auto s = r->String(*query, key + ":query")) prometheus->query = *s;
  }
  if (const Node* condition = FindValue(n, "condition")) {
    if (auto s = r->String(*condition, key + ":condition")) {
      auto parsed = ParseNumericCondition(*s);
      if (!parsed) {
        r->Error(condition->mark, key + ":condition",
                 "should be a comparison with a number, such as '< 0.05' (operators <, <=, >, "
                 ">=, ==, !=)");
      } else {
        prometheus->condition = *parsed;
      }
    }
  }
}

constexpr std::string_view kKinds[] = {"http", "tcp", "command", "prometheus"};

std::optional<CheckDefinition> ParseCheck(const Node& n, const std::string& key, KeywordReader* r) {
  if (!r->ExpectMap(n, key)) return std::nullopt;
  const int errors = r->errors();
  r->CheckKeys(
      n,
      {"name", "http", "tcp", "command", "prometheus", "interval", "count", "initial_delay",
       "failure_limit", "inconclusive_limit", "timeout", "on_inconclusive"},
      key);
  CheckDefinition check;
  check.mark = n.mark;
  int kinds = 0;
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    const Node* spec = FindValue(n, kKinds[i]);
    if (spec == nullptr) continue;
    ++kinds;
    check.kind = static_cast<CheckKind>(i);
    const std::string k = key + ":" + std::string(kKinds[i]);
    switch (check.kind) {
      case CheckKind::kHttp:
        ParseHttp(*spec, k, &check.http, r);
        break;
      case CheckKind::kTcp:
        ParseTcp(*spec, k, &check.tcp, r);
        break;
      case CheckKind::kCommand:
        ParseCommand(*spec, k, &check.command, r);
        break;
      case CheckKind::kPrometheus:
        ParsePrometheus(*spec, k, &check.prometheus, r);
        break;
    }
  }
  if (kinds != 1) {
    r->Error(n.mark, key, "should have exactly one kind: http, tcp, command or prometheus");
  }
  check.name = CheckKindName(check.kind);
  if (const Node* name = FindValue(n, "name")) {
    if (auto s = r->String(*name, key + ":name")) check.name = *s;
  }
  if (const Node* v = FindValue(n, "interval")) {
    if (auto d = ReadDuration(*v, key + ":interval", false, r)) check.interval = *d;
  }
  if (const Node* v = FindValue(n, "initial_delay")) {
    if (auto d = ReadDuration(*v, key + ":initial_delay", true, r)) check.initial_delay = *d;
  }
  if (const Node* v = FindValue(n, "timeout")) {
    if (auto d = ReadDuration(*v, key + ":timeout", false, r)) check.timeout = *d;
  }
  if (const Node* v = FindValue(n, "count")) {
    if (auto c = ReadCount(*v, key + ":count", 1, r)) check.count = *c;
  }
  if (const Node* v = FindValue(n, "failure_limit")) {
    if (auto c = ReadCount(*v, key + ":failure_limit", 0, r)) check.failure_limit = *c;
  }
  if (const Node* v = FindValue(n, "inconclusive_limit")) {
    if (auto c = ReadCount(*v, key + ":inconclusive_limit", 0, r)) check.inconclusive_limit = *c;
  }
  if (const Node* v = FindValue(n, "on_inconclusive")) {
    std::optional<std::string> s = r->String(*v, key + ":on_inconclusive");
    if (s && *s != "fail" && *s != "pass") {
      r->Error(v->mark, key + ":on_inconclusive", "should be fail or pass");
    } else if (s) {
      check.inconclusive_fails = *s == "fail";
    }
  }
  if (r->errors() != errors) return std::nullopt;
  return check;
}

void ParseRollback(const Node& n, const std::string& key, RollbackSettings* rollback,
                   KeywordReader* r) {
  if (!r->ExpectMap(n, key)) return;
  r->CheckKeys(n, {"automatic", "when"}, key);
  if (const Node* v = FindValue(n, "automatic")) {
    if (auto b = r->Bool(*v, key + ":automatic")) rollback->automatic = *b;
  }
  if (const Node* v = FindValue(n, "when")) {
    std::optional<std::string> s = r->String(*v, key + ":when");
    if (s && *s != "checks_failed" && *s != "failed") {
      r->Error(v->mark, key + ":when", "should be checks_failed or failed");
    } else if (s) {
      rollback->on_any_failure = *s == "failed";
    }
  }
}

}  // namespace

const char* CheckKindName(CheckKind kind) { return kKinds[static_cast<int>(kind)].data(); }

bool NumericCondition::Holds(double x) const {
  if (std::isnan(x)) return false;
  if (op == "<") return x < value;
  if (op == "<=") return x <= value;
  if (op == ">") return x > value;
  if (op == ">=") return x >= value;
  if (op == "==") return x == value;
  return x != value;
}

std::optional<NumericCondition> ParseNumericCondition(std::string_view text) {
  size_t i = text.find_first_not_of(' ');
  if (i == std::string_view::npos) return std::nullopt;
  NumericCondition c;
  c.text = std::string(text);
  for (std::string_view op : {"<=", ">=", "==", "!=", "<", ">"}) {
    if (text.substr(i, op.size()) == op) {
      c.op = std::string(op);
      break;
    }
  }
  if (c.op.empty()) return std::nullopt;
  std::string number(text.substr(i + c.op.size()));
  size_t start = number.find_first_not_of(' ');
  size_t end = number.find_last_not_of(' ');
  if (start == std::string::npos) return std::nullopt;
  number = number.substr(start, end - start + 1);
  char* stop = nullptr;
  c.value = std::strtod(number.c_str(), &stop);
  if (stop != number.c_str() + number.size() || !std::isfinite(c.value)) return std::nullopt;
  return c;
}

std::optional<std::vector<JsonPathStep>> ParseJsonPath(std::string_view path) {
  if (path.empty() || path.front() != '$') return std::nullopt;
  std::vector<JsonPathStep> steps;
  size_t i = 1;
  while (i < path.size()) {
    JsonPathStep step;
    if (path[i] == '.') {
      size_t end = path.find_first_of(".[", i + 1);
      if (end == std::string_view::npos) end = path.size();
      step.key = std::string(path.substr(i + 1, end - i - 1));
      if (step.key.empty()) return std::nullopt;
      i = end;
    } else if (path[i] == '[') {
      size_t end = path.find(']', i);
      if (end == std::string_view::npos || end == i + 1) return std::nullopt;
      std::string digits(path.substr(i + 1, end - i - 1));
      if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6) {
        return std::nullopt;
      }
      step.index = std::stoi(digits);
      i = end + 1;
    } else {
      return std::nullopt;
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

bool EnvironmentPatternMatches(std::string_view pattern, std::string_view name) {
  // Iterative `*` matching with backtracking to the last star: linear-ish,
  // no recursion on user input.
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const EnvironmentSettings* SlipwaySettings::ForEnvironment(std::string_view name) const {
  for (const EnvironmentSettings& e : environments) {
    if (e.pattern == name) return &e;
  }
  for (const EnvironmentSettings& e : environments) {
    if (e.pattern.find('*') != std::string::npos && EnvironmentPatternMatches(e.pattern, name)) {
      return &e;
    }
  }
  return nullptr;
}

SlipwaySettings ParseSlipwaySettings(const Node* node, Diagnostics* diags) {
  SlipwaySettings settings;
  if (node == nullptr || node->IsPlainNullScalar()) return settings;
  KeywordReader r(diags, "", ".slipway");
  if (!r.ExpectMap(*node, "")) return settings;
  r.CheckKeys(*node, {"environments"}, "");
  const Node* environments = FindValue(*node, "environments");
  if (environments == nullptr || !r.ExpectMap(*environments, "environments")) return settings;
  for (const MapEntry& e : environments->entries) {
    const std::string key = "environments:" + e.key;
    if (e.key.empty()) {
      r.Error(e.key_mark, "environments", "an environment name can't be blank");
      continue;
    }
    EnvironmentSettings env;
    env.pattern = e.key;
    env.mark = e.key_mark;
    if (e.value.IsPlainNullScalar() || !r.ExpectMap(e.value, key)) continue;
    r.CheckKeys(e.value, {"checks", "rollback"}, key);
    if (const Node* checks = FindValue(e.value, "checks")) {
      if (!checks->IsSequence()) {
        r.Error(checks->mark, key + ":checks", "should be an array of checks");
      } else {
        for (size_t i = 0; i < checks->items.size(); ++i) {
          auto check = ParseCheck(checks->items[i], key + ":checks:" + std::to_string(i), &r);
          if (check) env.checks.push_back(std::move(*check));
        }
      }
    }
    if (const Node* rollback = FindValue(e.value, "rollback")) {
      ParseRollback(*rollback, key + ":rollback", &env.rollback, &r);
    }
    settings.environments.push_back(std::move(env));
  }
  return settings;
}

}  // namespace slipway
