#include "cli/cli.h"

int main(int argc, char** argv) { return slipway::RunCli(argc, argv); }
