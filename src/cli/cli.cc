#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>

namespace slipway {

int RunCli(int argc, char** argv) {
  CLI::App app{"slipway: run GitLab CI pipelines locally and as a server"};
  app.set_version_flag("--version", std::string("slipway ") + SLIPWAY_VERSION);
  app.require_subcommand(1);
  app.add_subcommand("lint", "Validate a pipeline file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::fprintf(stderr, "not implemented yet\n");
  return 2;
}

}  // namespace slipway
