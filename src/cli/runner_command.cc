// `slipway runner --url URL... --token TOKEN`: a remote runner for a
// `slipway serve`, or for several replicas of one (docs/runners.md,
// docs/cli.md).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/runner_client.h"
#include "exec/slurm.h"
#include "util/http_get.h"

namespace slipway {

namespace {

int RunRunner(RunnerOptions options) {
  for (std::string& server : options.urls) {
    HttpUrl url;
    if (!ParseHttpUrl(server, &url)) {
      std::fprintf(stderr, "slipway: --url must be an http(s):// URL, not '%s'\n", server.c_str());
      return 2;
    }
    while (!server.empty() && server.back() == '/') server.pop_back();
  }
  if (options.token.empty()) {
    const char* env = std::getenv("SLIPWAY_RUNNER_TOKEN");
    if (env != nullptr) options.token = env;
  }
  if (options.token.empty()) {
    std::fprintf(stderr, "slipway: a runner token is needed: --token or SLIPWAY_RUNNER_TOKEN\n");
    return 2;
  }
  if (options.dir.empty()) options.dir = "slipway-runner";
  // Absolute: a Slurm job's directory and output file are named to sbatch.
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(options.dir, ec);
  if (!ec) options.dir = absolute.lexically_normal().string();
  if (options.executor == "slurm") {
    PosixProcessRunner runner;
    if (Status usable = SlurmScriptRunner::Check(SlurmScriptRunner::Options(), &runner);
        !usable.ok()) {
      std::fprintf(stderr, "slipway: %s\n", usable.message().c_str());
      return 2;
    }
  }
  RunnerClient client(options);
  CancelToken stop;
  InterruptHandler interrupt([&stop] { stop.Cancel(); });
  return client.Run(stop);
}

}  // namespace

void AddRunnerCommand(CLI::App* app, int* exit_code) {
  auto options = std::make_shared<RunnerOptions>();
  CLI::App* cmd = app->add_subcommand(
      "runner", "Run jobs a `slipway serve` pushes to this machine (a remote runner)");
  cmd->add_option("--url", options->urls,
                  "The server, e.g. https://ci.example:8443; repeated: the replicas of one "
                  "installation, which share --concurrency")
      ->type_name("URL")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--token", options->token,
                  "A token of the role runner (slipway token create --role runner); default: "
                  "$SLIPWAY_RUNNER_TOKEN")
      ->type_name("TOKEN");
  cmd->add_option("--tags", options->tags,
                  "Tags of this runner: it takes jobs whose tags: it "
                  "has all of")
      ->type_name("TAG,...")
      ->delimiter(',');
  cmd->add_option("--concurrency", options->concurrency, "Jobs run at once (default 1)")
      ->type_name("N")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--executor", options->executor,
                  "What runs the jobs here: shell (default) or slurm (each script a Slurm batch "
                  "job of this machine's cluster; docs/slurm.md)")
      ->type_name("EXECUTOR")
      ->check(CLI::IsMember({"shell", "slurm"}));
  cmd->add_option("--dir", options->dir,
                  "Where jobs' workspaces and repositories go (default: ./slipway-runner)")
      ->type_name("DIR");
  cmd->add_option("--ca-file", options->ca_file,
                  "PEM file of the CAs that sign an https:// server's certificate (default: "
                  "$SSL_CERT_FILE, else the system's)")
      ->type_name("FILE");
  cmd->callback([options, exit_code] { *exit_code = RunRunner(*options); });
}

}  // namespace slipway
