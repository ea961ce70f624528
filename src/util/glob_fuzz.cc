// libFuzzer target: the input is "pattern\npath"; matching in both syntaxes
// must terminate quickly and never crash, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/glob.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view pattern = input.substr(0, newline);
  std::string_view path = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  (void)slipway::GlobMatch(pattern, path, slipway::GlobSyntax::kFnmatch);
  (void)slipway::GlobMatch(pattern, path, slipway::GlobSyntax::kIncludeWildcard);
  (void)slipway::IsLiteralGlob(pattern);
  return 0;
}
