// What every pipeline command shares: where the pipeline is, --variable
// values, and loading it through config → pipeline with diagnostics printed.
#ifndef SLIPWAY_CLI_COMMON_H_
#define SLIPWAY_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/include_fetcher.h"
#include "config/node.h"
#include "config/variables.h"
#include "pipeline/instantiate.h"
#include "pipeline/job.h"
#include "pipeline/pipeline_context.h"
#include "util/diagnostic.h"

namespace slipway {

struct PipelineOptions {
  std::string project_dir = ".";
  std::string file = ".gitlab-ci.yml";
  std::vector<std::string> variables;  // KEY=VALUE
  // --secret KEY[=VALUE]: a variable whose value is masked in job logs;
  // without =VALUE it comes from slipway's own environment, so that it
  // need not appear in a command line that `ps` shows.
  std::vector<std::string> secrets;
  // --ref REV: load and describe that commit instead of the working tree.
  // Empty: the working tree and HEAD.
  std::string ref;
  // --merge-request TARGET: run as the merge-request pipeline of the current
  // branch (or --ref) into TARGET would (pipeline/merge_request.h). Empty:
  // a push pipeline.
  std::string merge_request;
  // How includes that are not local are read (docs/includes.md).
  bool allow_http_includes = false;  // --allow-http-includes
  bool offline = false;              // --offline: the include cache only.
  bool refresh_includes = false;     // --refresh-includes: ignore cached copies.
  std::string include_server;        // --include-server URL: where include:project reads.
};

// Adds -C DIR, -f FILE, --variable KEY=VALUE, --ref REV, --merge-request TARGET and the include
// fetching flags (--offline, --allow-http-includes, --refresh-includes) to cmd.
void AddPipelineOptions(CLI::App* cmd, PipelineOptions* options);

// The --secret variables (values checked with ValidateMaskedValue); errors
// in diags name the option.
VariableList SecretVariables(const PipelineOptions& options, Diagnostics* diags);

// Reads the repository for the pipeline's context (predefined variables,
// --variable values), then loads and builds the pipeline with them.
// Diagnostics (warnings too) are collected in diags; returns nullopt when
// there were errors. Bad --variable syntax is an error too. sources: see
// LoadOptions::sources.
std::optional<LoadedPipeline> LoadPipelineFromOptions(
    const PipelineOptions& options, Diagnostics* diags,
    std::vector<IncludeSource>* sources = nullptr);

// The fetcher of template, remote and project includes the options ask for
// (--offline, --include-server ...).
std::unique_ptr<IncludeFetcher> MakeIncludeFetcher(const PipelineOptions& options);

// Prints diagnostics to stderr, one per line.
void PrintDiagnostics(const Diagnostics& diags);

}  // namespace slipway

#endif  // SLIPWAY_CLI_COMMON_H_
