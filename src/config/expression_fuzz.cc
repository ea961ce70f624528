// libFuzzer target: any input must either parse or fail with a message, and a
// parsed expression must evaluate without crashing, hanging or leaking.
// Build with -DSLIPWAY_FUZZ=ON (clang), run build-fuzz/expression_fuzz.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/expression.h"
#include "config/variables.h"

namespace {

const slipway::VariableList& FuzzVariables() {
  static const slipway::VariableList* const vars = [] {
    auto* v = new slipway::VariableList();
    v->Set("A", "main");
    v->Set("B", "");
    v->Set("C", "/^ma(in)?$/i");
    v->Set("D", "/(/");
    v->Set("E", "feature/x\nline");
    v->Set("F", "null");
    return v;
  }();
  return *vars;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  slipway::StatusOr<slipway::Expression> e = slipway::Expression::Parse(text);
  if (!e.ok()) {
    // Every rejection explains itself.
    if (e.status().message().empty()) __builtin_trap();
    return 0;
  }
  (void)e->Evaluate(FuzzVariables());
  (void)e->Evaluate(slipway::VariableList());
  return 0;
}
