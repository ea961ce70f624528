#include <cstring>

#include "cli/cli.h"
#include "util/containment.h"
#include "util/reaper.h"

int main(int argc, char** argv) {
  // A job's reaper (util/reaper.h): before anything else runs.
  if (argc >= 2 && std::strcmp(argv[1], slipway::kReaperMode) == 0) {
    return slipway::ReaperMain(argc, argv);
  }
  // Where jobs need a reaper, it is this binary; orphans of a reaper that
  // was killed come to this process, which kills them.
  slipway::SetReaperBinary("/proc/self/exe", /*adopt_orphans=*/true);
  return slipway::RunCli(argc, argv);
}
