// SCHEDULER_PARAMETERS: a job's own options for the batch scheduler that runs
// it (the Slurm executor, exec/slurm.h), as Jacamar CI takes them: one CI/CD
// variable whose value is split into words and added to the submission
// (`sbatch`), e.g.
//   variables:
//     SCHEDULER_PARAMETERS: "--partition=debug --ntasks 2 --comment 'nightly build'"
// Words are separated by blanks; single quotes keep everything literally,
// double quotes keep blanks and let a backslash escape `"` and `\`, a
// backslash outside quotes escapes the next character. Nothing is expanded
// (variables in the value were expanded as any job variable is).
//
// As Jacamar does since it made "illegal arguments" fail the job, an option
// that would take over what the executor itself decides is refused, naming
// the option: where output goes (--output, --error, --input, --open-mode),
// how the executor waits for and follows the job (--wait, --parsable,
// --wrap, --array), the environment (--export, --export-file, which carries
// the job's variables), the directory (--chdir) and the user (--uid, --gid),
// and the time limit (--time: the job's `timeout:` sets it).
#ifndef SLIPWAY_EXEC_SCHEDULER_PARAMETERS_H_
#define SLIPWAY_EXEC_SCHEDULER_PARAMETERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace slipway {

// The variable's name, as Jacamar CI calls it.
inline constexpr std::string_view kSchedulerParametersVariable = "SCHEDULER_PARAMETERS";

// The words of value, each a separate argument of sbatch; an error for an
// unterminated quote, a trailing backslash or a refused option, in the form
// "SCHEDULER_PARAMETERS: column N: message".
StatusOr<std::vector<std::string>> ParseSchedulerParameters(std::string_view value);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SCHEDULER_PARAMETERS_H_
