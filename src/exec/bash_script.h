// The bash script a job's commands run as, following GitLab Runner's bash
// shell: errexit and pipefail on (so `false | true` fails the job and
// `false && true` does not), noclobber off, every command echoed into the
// log as "$ command" just before it runs, all commands in one shell (so `cd`
// and `export` carry over), stopping at the first command that fails.
#ifndef SLIPWAY_EXEC_BASH_SCRIPT_H_
#define SLIPWAY_EXEC_BASH_SCRIPT_H_

#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// The line echoed for a command: "$ " + the command with surrounding
// whitespace trimmed; a multi-line command shows its first line followed by
// " # collapsed multi-line command", as GitLab Runner shows it.
std::string EchoLine(std::string_view command);

// A bash single-quoted word for s ('it'\''s').
std::string ShellQuote(std::string_view s);

// The script for commands (e.g. before_script followed by script).
std::string BuildBashScript(const std::vector<std::string>& commands);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_BASH_SCRIPT_H_
