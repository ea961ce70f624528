// libFuzzer target for the YAML front end: any input must either parse or be
// rejected with an error diagnostic, never crash, hang or exhaust memory.
// Parsed documents are also emitted and parsed again, which must succeed:
// EmitYaml's output is always readable YAML.
// Build with -DSLIPWAY_FUZZ=ON (clang); scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/emit.h"
#include "config/yaml_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  slipway::Diagnostics diags;
  std::optional<std::vector<slipway::Node>> docs = slipway::ParseYaml(text, "fuzz.yml", &diags);
  if (!docs) {
    if (!diags.HasErrors()) {
      std::fprintf(stderr, "ParseYaml failed without an error diagnostic\n");
      std::abort();
    }
    return 0;
  }
  for (const slipway::Node& doc : *docs) {
    std::string emitted = slipway::EmitYaml(doc);
    slipway::Diagnostics again;
    if (!slipway::ParseYaml(emitted, "emitted.yml", &again)) {
      std::fprintf(stderr, "EmitYaml output does not parse:\n%s\n%s", emitted.c_str(),
                   again.FormatAll().c_str());
      std::abort();
    }
  }
  return 0;
}
