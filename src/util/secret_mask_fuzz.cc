// libFuzzer target: the input is "secret\nsecret\ntext". Masking the text
// in chunks (sizes taken from the text's bytes) must give what one pass
// gives, and no secret may survive one pass (unless it could be formed
// from the "[MASKED]" replacement text itself).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "util/secret_mask.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> secrets;
  for (int i = 0; i < 2; ++i) {
    size_t newline = input.find('\n');
    if (newline == std::string_view::npos) return 0;
    secrets.emplace_back(input.substr(0, newline));
    input.remove_prefix(newline + 1);
  }
  slipway::MaskPatterns patterns(secrets);
  std::string once = patterns.Mask(input);
  slipway::StreamMasker masker(&patterns);
  std::string streamed;
  for (size_t pos = 0, i = 0; pos < input.size(); ++i) {
    size_t n = 1 + static_cast<unsigned char>(input[i % input.size()]) % 13;
    masker.Write(input.substr(pos, n), &streamed);
    pos += n;
  }
  masker.Flush(&streamed);
  if (streamed != once) std::abort();
  for (const std::string& s : secrets) {
    if (s.size() < slipway::kMinMaskedLength) continue;
    if (s.find_first_of("[MASKED]") != std::string::npos) continue;
    if (once.find(s) != std::string::npos) std::abort();
  }
  return 0;
}
