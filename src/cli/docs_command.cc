// The hidden `slipway __man` and `slipway __completions SHELL`: the build
// runs them to make the man page and the completion scripts it installs
// (CMakeLists.txt), from the very definitions the program parses with.
#include <cstdio>
#include <memory>
#include <string>

#include "exec/file_tree.h"

#include "cli/command_tree.h"
#include "cli/commands.h"
#include "cli/completions.h"
#include "cli/man_page.h"

namespace slipway {
namespace {

// Writes text to path, or to stdout when path is empty.
int Emit(const std::string& text, const std::string& path) {
  if (path.empty()) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  if (Status written = WriteFile(path, text); !written.ok()) {
    std::fprintf(stderr, "error: %s\n", written.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void AddDocsCommands(CLI::App* app, int* exit_code) {
  // No group: hidden from the usage, from `help` and from the docs themselves.
  auto output = std::make_shared<std::string>();
  CLI::App* man = app->add_subcommand("__man", "Print the man page (roff)")->group("");
  man->add_option("-o,--output", *output, "Write to FILE instead of stdout");
  man->callback([app, output, exit_code] {
    *exit_code = Emit(ManPage(DescribeCommands(*app), SLIPWAY_VERSION), *output);
  });
  auto shell = std::make_shared<std::string>();
  CLI::App* completions =
      app->add_subcommand("__completions", "Print a completion script")->group("");
  completions->add_option("shell", *shell, "bash, zsh or fish")->required();
  completions->add_option("-o,--output", *output, "Write to FILE instead of stdout");
  completions->callback([app, shell, output, exit_code] {
    StatusOr<std::string> script = CompletionScript(*shell, DescribeCommands(*app));
    if (!script.ok()) {
      std::fprintf(stderr, "error: %s\n", script.status().message().c_str());
      *exit_code = 2;
      return;
    }
    *exit_code = Emit(*script, *output);
  });
}

}  // namespace slipway
