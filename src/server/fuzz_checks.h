// Fuzz targets only: invariants of what the request parsers return, checked
// without recursion (a too-deep value is the bug these checks look for).
#ifndef SLIPWAY_SERVER_FUZZ_CHECKS_H_
#define SLIPWAY_SERVER_FUZZ_CHECKS_H_

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "server/request_params.h"
#include "util/bounded_json.h"

namespace slipway::fuzz {

// Traps when value nests more than max_depth arrays and objects.
inline void CheckDepth(const nlohmann::json& value, int max_depth) {
  std::vector<std::pair<const nlohmann::json*, int>> stack = {{&value, 0}};
  while (!stack.empty()) {
    auto [at, depth] = stack.back();
    stack.pop_back();
    if (!at->is_structured()) continue;
    if (depth + 1 > max_depth) __builtin_trap();
    for (const nlohmann::json& child : *at) stack.emplace_back(&child, depth + 1);
  }
}

// Request parameters: an object within the bounds of JSON bodies and form
// keys, which the API may then copy and dump as it likes.
inline void CheckParams(const nlohmann::json& params) {
  if (!params.is_object()) __builtin_trap();
  static_assert(kMaxFormParamsDepth >= kMaxJsonDepth);
  CheckDepth(params, kMaxFormParamsDepth);
  nlohmann::json copy = params;
  (void)copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace slipway::fuzz

#endif  // SLIPWAY_SERVER_FUZZ_CHECKS_H_
