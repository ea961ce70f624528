#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/help.h"
#include "util/suggest.h"

namespace slipway {
namespace {

// The subcommands a user can name (hidden ones, with no group, left out).
std::vector<const CLI::App*> VisibleSubcommands(const CLI::App* command) {
  return command->get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
}

// The subcommand of command named name, or null.
const CLI::App* FindSubcommand(const CLI::App* command, const std::string& name) {
  for (const CLI::App* sub : VisibleSubcommands(command)) {
    if (sub->check_name(name)) return sub;
  }
  return nullptr;
}

// "; did you mean `lint`?" for a misspelt subcommand of command.
std::string SuggestSubcommand(const CLI::App* command, const std::string& word) {
  std::vector<std::string> names;
  for (const CLI::App* sub : VisibleSubcommands(command)) names.push_back(sub->get_name());
  std::vector<std::string_view> views(names.begin(), names.end());
  return DidYouMean(word, views);
}

// "; did you mean `--color`?" for a misspelt long option of command.
std::string SuggestOption(const CLI::App* command, const std::string& word) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : command->get_options()) {
    for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  return DidYouMean(word, views);
}

// Usage of command as `slipway help` prints it: with its full path, ending
// in one newline. (App::help would show a parsed subcommand's instead.)
std::string Usage(const CLI::App* command) {
  std::string text = command->get_formatter()->make_help(command, CommandPath(command),
                                                         CLI::AppFormatMode::Normal);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text + "\n";
}

// "slipway help project": where command's usage is.
std::string HelpCommandFor(const CLI::App* app, const CLI::App* command) {
  return app->get_name() + " help" + CommandPath(command).substr(app->get_name().size());
}

void PrintUnknownSubcommand(const CLI::App* app, const CLI::App* command, const std::string& word) {
  std::fprintf(stderr, "error: `%s` has no subcommand `%s`%s\nRun `%s` for the list.\n",
               CommandPath(command).c_str(), word.c_str(), SuggestSubcommand(command, word).c_str(),
               HelpCommandFor(app, command).c_str());
}

// The deepest subcommand the command line reached.
CLI::App* DeepestParsed(CLI::App* app) {
  for (std::vector<CLI::App*> subs = app->get_subcommands(); !subs.empty();
       subs = app->get_subcommands()) {
    app = subs.front();
  }
  return app;
}

bool NeedsSubcommand(const CLI::App* command) {
  return command->get_require_subcommand_min() > 0 && command->get_subcommands().empty();
}

}  // namespace

std::string CommandPath(const CLI::App* command) {
  std::string path = command->get_name();
  for (const CLI::App* p = command->get_parent(); p != nullptr; p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

void AddHelpCommand(CLI::App* app, int* exit_code) {
  auto words = std::make_shared<std::vector<std::string>>();
  CLI::App* help = app->add_subcommand("help", "Print the usage of a command and its subcommands");
  help->add_option("command", *words, "The command, e.g. `run` or `project add`");
  help->callback([app, words, exit_code] {
    const CLI::App* command = app;
    for (const std::string& word : *words) {
      const CLI::App* sub = FindSubcommand(command, word);
      if (sub == nullptr) {
        PrintUnknownSubcommand(app, command, word);
        *exit_code = 2;
        return;
      }
      command = sub;
    }
    std::fputs(Usage(command).c_str(), stdout);
    *exit_code = 0;
  });
}

int ReportParseError(CLI::App* app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app->exit(e);  // --help, --version: stdout, 0.
  CLI::App* command = DeepestParsed(app);
  std::vector<std::string> extras = command->remaining();
  bool has_subcommands = !VisibleSubcommands(command).empty();
  if (has_subcommands && !extras.empty() && !extras.front().starts_with("-")) {
    PrintUnknownSubcommand(app, command, extras.front());
    return 2;
  }
  if (NeedsSubcommand(command)) {
    std::fprintf(stderr, "%s\nerror: `%s` needs a subcommand\n", Usage(command).c_str(),
                 CommandPath(command).c_str());
    return 2;
  }
  std::string hint;
  if (!extras.empty() && extras.front().starts_with("--")) {
    hint = SuggestOption(command, extras.front().substr(0, extras.front().find('=')));
  }
  std::fprintf(stderr, "error: %s%s\nRun `%s` for usage.\n", e.what(), hint.c_str(),
               HelpCommandFor(app, command).c_str());
  return 2;
}

}  // namespace slipway
