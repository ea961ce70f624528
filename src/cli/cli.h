// The command line: `slipway lint | list | config | run ...`.
#ifndef SLIPWAY_CLI_CLI_H_
#define SLIPWAY_CLI_CLI_H_

namespace slipway {

// Parses argv and runs the chosen command; returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace slipway

#endif  // SLIPWAY_CLI_CLI_H_
