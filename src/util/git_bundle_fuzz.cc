// libFuzzer target: any bytes as the start of a git bundle; parsing must
// terminate, never crash, and point inside the input when it succeeds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/git_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  slipway::StatusOr<size_t> pack =
      slipway::ParseBundleHeader(input, "0123456789abcdef0123456789abcdef01234567");
  if (pack.ok() && *pack > size) std::abort();
  return 0;
}
