// slipway's own settings for deployments, read from the hidden top-level key
// `.slipway:` (GitLab ignores keys that start with a dot, so the file stays
// valid for GitLab):
//
//   .slipway:
//     environments:
//       production:            # an environment name, or a pattern with `*`
//         checks:
//           - name: health
//             http: {url: "$CI_ENVIRONMENT_URL/healthz", status: 200}
//             interval: 1s
//             count: 3
//             failure_limit: 1
//         rollback:
//           automatic: true
//
// Checks verify a deployment after its job's script succeeded; each repeats a
// measurement and ends pass, fail or inconclusive as an Argo Rollouts metric
// does (docs/deployments.md). Everything here is validated when the file is
// loaded, each problem reported at its file:line:col.
#ifndef SLIPWAY_PIPELINE_DEPLOY_CHECKS_H_
#define SLIPWAY_PIPELINE_DEPLOY_CHECKS_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "util/diagnostic.h"

namespace slipway {

enum class CheckKind { kHttp, kTcp, kCommand, kPrometheus };
// "http", "tcp", "command", "prometheus".
const char* CheckKindName(CheckKind kind);

// A numeric comparison such as `< 0.05` (operators <, <=, >, >=, ==, !=).
struct NumericCondition {
  std::string op;
  double value = 0;
  std::string text;  // As written, for messages.
  bool Holds(double x) const;
};
// Reads `<op> <number>`; nullopt when text is not one.
std::optional<NumericCondition> ParseNumericCondition(std::string_view text);

// A JSON path in the small dialect checks accept: `$`, then `.name` or
// `[index]` steps, e.g. `$.build.version` or `$.items[0].state`.
struct JsonPathStep {
  std::string key;  // Empty for an index step.
  int index = -1;
};
// nullopt when path is not in that dialect.
std::optional<std::vector<JsonPathStep>> ParseJsonPath(std::string_view path);

// Strings may hold variables ($CI_ENVIRONMENT_URL ...): they are expanded
// with the job's variables when the check runs.
struct HttpCheck {
  std::string url;
  std::optional<int> status;  // Unset: any 2xx passes.
  std::string body;           // RE2 regex the body must contain; empty: any.
  std::string json_path;      // Empty: no JSON comparison.
  std::string json_equals;    // The value at json_path, as text.
};

struct TcpCheck {
  std::string address;  // host:port
};

struct CommandCheck {
  std::vector<std::string> script;  // Run like a job's script, in its workspace.
};

struct PrometheusCheck {
  std::string url;  // The server, e.g. http://127.0.0.1:9090.
  std::string query;
  NumericCondition condition;  // Every sample of the result must meet it.
};

struct CheckDefinition {
  std::string name;
  Mark mark;
  CheckKind kind = CheckKind::kHttp;
  HttpCheck http;
  TcpCheck tcp;
  CommandCheck command;
  PrometheusCheck prometheus;
  // Argo Rollouts' metric fields: the first measurement after
  // initial_delay, then one every interval, count in all; more than
  // failure_limit failed ones fail the check, more than inconclusive_limit
  // inconclusive ones make it inconclusive.
  std::chrono::milliseconds initial_delay{0};
  std::chrono::milliseconds interval{std::chrono::seconds(5)};
  int count = 1;
  int failure_limit = 0;
  int inconclusive_limit = 0;
  // Bounds each measurement (a request, a connect, a command).
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // What an inconclusive check does to the job: fail it (the default) or
  // let it pass with a warning (`on_inconclusive: pass`).
  bool inconclusive_fails = true;
};

struct RollbackSettings {
  // Opt-in: redeploy the last successful deployment when one fails.
  bool automatic = false;
  // `when: checks_failed` (default): only a deployment whose checks failed;
  // `when: failed`: any failed deployment (its script too).
  bool on_any_failure = false;
};

struct EnvironmentSettings {
  std::string pattern;  // The key: a name, or a pattern where `*` is any text.
  Mark mark;
  std::vector<CheckDefinition> checks;
  RollbackSettings rollback;
};

struct SlipwaySettings {
  std::vector<EnvironmentSettings> environments;  // In file order.

  // The settings for an environment as its job expanded the name: the key
  // equal to it, else the first pattern (in file order) matching it; null
  // when none does.
  const EnvironmentSettings* ForEnvironment(std::string_view name) const;
};

// True when name matches pattern, where `*` stands for any text (slashes
// included, as in GitLab's environment scopes) and nothing else is special.
bool EnvironmentPatternMatches(std::string_view pattern, std::string_view name);

// Reads the `.slipway:` node (null: no settings). Problems are errors at
// their file:line:col, keys reported as `.slipway:environments:<name>:...`.
SlipwaySettings ParseSlipwaySettings(const Node* node, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_DEPLOY_CHECKS_H_
