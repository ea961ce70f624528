// libFuzzer target: JUnit reports are written by jobs, so any bytes must
// parse or fail with an error, within the parser's bounds, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exec/junit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto cases = slipway::ParseJunitCases(xml);
  if (cases.ok()) {
    if (cases->size() > slipway::kMaxJunitCases) std::abort();
    for (const slipway::JunitCase& c : *cases) {
      if (c.system_output && c.system_output->size() > slipway::kMaxJunitOutputBytes) std::abort();
    }
  }
  return 0;
}
