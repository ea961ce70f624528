// Verifies a deployment: runs the checks `.slipway:environments` declares for
// its environment (pipeline/deploy_checks.h) once the deploy job's script
// succeeded, as part of that job. The same code serves `slipway run` and
// `slipway serve` (JobLifecycle calls it).
//
// Each check is an Argo Rollouts metric: after initial_delay it takes a
// measurement, then one every interval, count in all. A measurement passes,
// fails or is inconclusive. The check fails as soon as more than
// failure_limit measurements failed, is inconclusive as soon as more than
// inconclusive_limit were, and passes once count were taken without either.
// A target that cannot be reached, or does not answer within the check's
// timeout, is a failed measurement whose reason is logged. Checks run one
// after another, in file order; the first that fails (or is inconclusive
// with on_inconclusive: fail) ends verification: the rest are not run.
//
// Progress goes to the job log inside a collapsible section, with GitLab
// Runner's markers (section_start:TIME:NAME[collapsed=true]\r\e[0K ...
// section_end:TIME:NAME\r\e[0K), which GitLab and slipway's dashboard fold.
#ifndef SLIPWAY_EXEC_DEPLOY_VERIFIER_H_
#define SLIPWAY_EXEC_DEPLOY_VERIFIER_H_

#include <functional>
#include <string>
#include <vector>

#include "config/variables.h"
#include "pipeline/deploy_checks.h"
#include "util/cancel_token.h"
#include "util/status.h"
#include "util/subprocess.h"

namespace slipway {

enum class CheckOutcome { kPass, kFail, kInconclusive };
// "pass", "fail", "inconclusive".
const char* CheckOutcomeName(CheckOutcome outcome);

// One check's result, stored on the deployment (docs/deployments.md).
struct CheckResult {
  std::string name;
  std::string kind;  // CheckKindName.
  CheckOutcome outcome = CheckOutcome::kFail;
  int measurements = 0;  // Taken.
  int passed = 0;
  int failed = 0;
  int inconclusive = 0;
  std::string message;  // Why the last measurement that did not pass did not.
};

// results as the JSON array stored on a deployment and shown by the API:
// [{"name", "kind", "outcome", "measurements", "passed", "failed",
// "inconclusive", "message"}] (docs/database.md).
std::string CheckResultsJson(const std::vector<CheckResult>& results);

// What the verification concluded for the job.
struct Verification {
  std::vector<CheckResult> checks;
  // A check failed, or was inconclusive with on_inconclusive: fail.
  bool failed = false;
  std::string failed_check;  // Its name.
  bool canceled = false;
};

// One measurement.
struct Measurement {
  CheckOutcome outcome = CheckOutcome::kFail;
  std::string detail;  // What was seen: "HTTP 200", "connection refused" ...
};

// The checks a job with these variables runs: those of the settings for its
// environment (CI_ENVIRONMENT_NAME) when it deploys to it
// (CI_ENVIRONMENT_ACTION start); none otherwise.
std::vector<CheckDefinition> DeploymentChecks(const SlipwaySettings& settings,
                                              const VariableList& variables);

class DeployVerifier {
 public:
  // Runs a command check's script (like a job's script, in its workspace,
  // with its variables) under timeout; the lifecycle gives its session's.
  using CommandRunner = std::function<StatusOr<ProcessResult>(
      const std::vector<std::string>& script, std::chrono::milliseconds timeout,
      const CancelToken* cancel)>;

  struct Options {
    // Writes a line of the job's log (without its newline).
    std::function<void(const std::string&)> log;
    CommandRunner run_command;  // Null: command checks fail, saying so.
    // Wall time in seconds for the section markers; default: the clock's.
    std::function<int64_t()> unix_now;
  };

  explicit DeployVerifier(Options options);

  // Runs checks for environment with variables (the job's, for expanding
  // $VARS in urls, addresses and queries); returns promptly, canceled,
  // once cancel is set.
  Verification Verify(const std::string& environment, const std::vector<CheckDefinition>& checks,
                      const VariableList& variables, const CancelToken& cancel);

  // One measurement of check (its strings already expanded). Public for tests.
  Measurement Measure(const CheckDefinition& check, const CancelToken& cancel);

 private:
  CheckResult RunCheck(const CheckDefinition& check, const CancelToken& cancel);

  Options options_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_DEPLOY_VERIFIER_H_
