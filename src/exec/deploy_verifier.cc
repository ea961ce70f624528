#include "exec/deploy_verifier.h"

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "exec/check_probes.h"

namespace slipway {
namespace {

// GitLab Runner's section names: letters, digits, '_', '.', '-'.
std::string SectionName(const std::string& environment) {
  std::string name = "deployment_checks";
  if (!environment.empty()) name += "_";
  for (char c : environment) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    name.push_back(ok ? c : '_');
  }
  return name;
}

// Waits for d, in short steps so that a cancel ends it promptly. False once
// canceled.
bool Wait(std::chrono::milliseconds d, const CancelToken& cancel) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!cancel.canceled()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(20)));
  }
  return false;
}

CheckDefinition Expanded(const CheckDefinition& check, const VariableList& vars) {
  CheckDefinition out = check;
  out.http.url = ExpandVariables(check.http.url, vars);
  out.tcp.address = ExpandVariables(check.tcp.address, vars);
  out.prometheus.url = ExpandVariables(check.prometheus.url, vars);
  out.prometheus.query = ExpandVariables(check.prometheus.query, vars);
  return out;
}

std::string Target(const CheckDefinition& check) {
  switch (check.kind) {
    case CheckKind::kHttp:
      return "GET " + check.http.url;
    case CheckKind::kTcp:
      return "connect " + check.tcp.address;
    case CheckKind::kCommand:
      return "command";
    case CheckKind::kPrometheus:
      return "query " + check.prometheus.query + " " + check.prometheus.condition.text;
  }
  return "";
}

}  // namespace

std::vector<CheckDefinition> DeploymentChecks(const SlipwaySettings& settings,
                                              const VariableList& variables) {
  const std::string* name = variables.Get("CI_ENVIRONMENT_NAME");
  const std::string* action = variables.Get("CI_ENVIRONMENT_ACTION");
  if (name == nullptr || (action != nullptr && *action != "start" && !action->empty())) return {};
  const EnvironmentSettings* env = settings.ForEnvironment(*name);
  return env != nullptr ? env->checks : std::vector<CheckDefinition>();
}

std::string CheckResultsJson(const std::vector<CheckResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const CheckResult& r : results) {
    out.push_back({{"name", r.name},
                   {"kind", r.kind},
                   {"outcome", CheckOutcomeName(r.outcome)},
                   {"measurements", r.measurements},
                   {"passed", r.passed},
                   {"failed", r.failed},
                   {"inconclusive", r.inconclusive},
                   {"message", r.message}});
  }
  // Invalid UTF-8 (from a target's answer) is replaced, not thrown on.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const char* CheckOutcomeName(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::kPass:
      return "pass";
    case CheckOutcome::kFail:
      return "fail";
    case CheckOutcome::kInconclusive:
      return "inconclusive";
  }
  return "fail";
}

DeployVerifier::DeployVerifier(Options options) : options_(std::move(options)) {
  if (!options_.unix_now) {
    options_.unix_now = [] {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    };
  }
}

Measurement DeployVerifier::Measure(const CheckDefinition& check, const CancelToken& cancel) {
  switch (check.kind) {
    case CheckKind::kHttp:
      return MeasureHttp(check.http, check.timeout);
    case CheckKind::kTcp:
      return MeasureTcp(check.tcp, check.timeout);
    case CheckKind::kPrometheus:
      return MeasurePrometheus(check.prometheus, check.timeout);
    case CheckKind::kCommand:
      break;
  }
  if (!options_.run_command) return {CheckOutcome::kFail, "command checks cannot run here"};
  StatusOr<ProcessResult> ran = options_.run_command(check.command.script, check.timeout, &cancel);
  if (!ran.ok()) return {CheckOutcome::kFail, ran.status().message()};
  if (ran->timed_out) {
    return {CheckOutcome::kFail,
            "timed out after " + std::to_string(check.timeout.count()) + " ms"};
  }
  if (ran->exit_code != 0) {
    return {CheckOutcome::kFail, "exit code " + std::to_string(ran->exit_code)};
  }
  return {CheckOutcome::kPass, "exit code 0"};
}

CheckResult DeployVerifier::RunCheck(const CheckDefinition& check, const CancelToken& cancel) {
  CheckResult result;
  result.name = check.name;
  result.kind = CheckKindName(check.kind);
  auto& log = options_.log;
  log("Check '" + check.name + "': " + Target(check) + ", " + std::to_string(check.count) +
      " measurement(s) every " + std::to_string(check.interval.count()) + " ms, failure limit " +
      std::to_string(check.failure_limit));
  if (check.initial_delay.count() > 0 && !Wait(check.initial_delay, cancel)) return result;
  for (int i = 0; i < check.count; ++i) {
    if (i > 0 && !Wait(check.interval, cancel)) return result;
    if (cancel.canceled()) return result;
    Measurement m = Measure(check, cancel);
    ++result.measurements;
    std::string line = "  " + std::to_string(i + 1) + "/" + std::to_string(check.count) + " " +
                       CheckOutcomeName(m.outcome);
    if (!m.detail.empty()) line += ": " + m.detail;
    log(line);
    if (m.outcome == CheckOutcome::kPass) {
      ++result.passed;
      continue;
    }
    result.message = m.detail;
    if (m.outcome == CheckOutcome::kFail && ++result.failed > check.failure_limit) {
      result.outcome = CheckOutcome::kFail;
      return result;
    }
    if (m.outcome == CheckOutcome::kInconclusive &&
        ++result.inconclusive > check.inconclusive_limit) {
      result.outcome = CheckOutcome::kInconclusive;
      return result;
    }
  }
  result.outcome = CheckOutcome::kPass;
  return result;
}

Verification DeployVerifier::Verify(const std::string& environment,
                                    const std::vector<CheckDefinition>& checks,
                                    const VariableList& variables, const CancelToken& cancel) {
  Verification v;
  const std::string section = SectionName(environment);
  options_.log("\x1b[0Ksection_start:" + std::to_string(options_.unix_now()) + ":" + section +
               "[collapsed=true]\r\x1b[0KVerifying the deployment to " + environment + " (" +
               std::to_string(checks.size()) + " check(s))");
  for (const CheckDefinition& check : checks) {
    CheckResult result = RunCheck(Expanded(check, variables), cancel);
    if (cancel.canceled()) {
      v.canceled = true;
      break;
    }
    std::string line = "Check '" + check.name + "' " + CheckOutcomeName(result.outcome) + " (" +
                       std::to_string(result.passed) + " passed, " + std::to_string(result.failed) +
                       " failed, " + std::to_string(result.inconclusive) + " inconclusive)";
    bool fails = result.outcome == CheckOutcome::kFail ||
                 (result.outcome == CheckOutcome::kInconclusive && check.inconclusive_fails);
    if (result.outcome == CheckOutcome::kInconclusive && !check.inconclusive_fails) {
      line += "; on_inconclusive: pass lets the deployment go on";
    }
    v.checks.push_back(std::move(result));
    options_.log(line);
    if (fails) {
      v.failed = true;
      v.failed_check = check.name;
      break;
    }
  }
  options_.log("\x1b[0Ksection_end:" + std::to_string(options_.unix_now()) + ":" + section +
               "\r\x1b[0K");
  if (v.failed) {
    const CheckResult& last = v.checks.back();
    options_.log("ERROR: Deployment check '" + v.failed_check + "' " +
                 CheckOutcomeName(last.outcome) +
                 (last.message.empty() ? "" : ": " + last.message));
  } else if (!v.canceled) {
    options_.log("Deployment checks passed");
  }
  return v;
}

}  // namespace slipway
