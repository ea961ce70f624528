// artifacts:reports:dotenv, parsed as GitLab parses it
// (app/services/ci/parse_dotenv_artifact_service.rb): every line must be
// `KEY=VALUE`, split at the first '=', both sides stripped of surrounding
// whitespace, nothing else unquoted or expanded (quotes stay part of the
// value); an empty line or a comment is invalid; keys are ASCII letters,
// digits and '_'; a later line wins over an earlier one with the same key.
// Limits are GitLab's defaults: files under 5 KB, at most 20 variables.
#ifndef SLIPWAY_EXEC_DOTENV_H_
#define SLIPWAY_EXEC_DOTENV_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "config/variables.h"
#include "util/status.h"

namespace slipway {

inline constexpr size_t kDotenvSizeLimit = 5 * 1024;
inline constexpr size_t kDotenvVariableLimit = 20;

// Adds the variables of one dotenv file to vars (later files and lines win).
// Errors carry GitLab's messages: "Invalid Format",
// "Dotenv Artifact Too Big. Maximum Allowable Size: 5120",
// "Dotenv files cannot have more than 20 variables",
// "Key can contain only letters, digits and '_'.".
Status ParseDotenv(std::string_view content, VariableList* vars);

// Checks the variable limit once all of a job's dotenv files are parsed.
Status CheckDotenvLimit(const VariableList& vars);

// The dotenv variables a finished job left in <job_dir>/reports/dotenv/.
// Unreadable reports give none: the job was accepted with them before.
VariableList ReadDotenvReports(const std::string& job_dir);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_DOTENV_H_
