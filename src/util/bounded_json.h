// JSON from untrusted bytes with a bound on nesting. nlohmann's parser is
// iterative, but copying, comparing, dumping or walking a value recurses
// once per level: a 200 KB body nested 100,000 deep overflows the stack of
// whoever touches it. A value nested deeper than the bound is never built.
#ifndef SLIPWAY_UTIL_BOUNDED_JSON_H_
#define SLIPWAY_UTIL_BOUNDED_JSON_H_

#include <nlohmann/json.hpp>
#include <string_view>

namespace slipway {

// GitLab's default for JSON request bodies (Gitlab::Middleware::JsonValidation,
// max_depth: "Rack::Utils uses a depth of 32 by default"): at most 32
// arrays and objects inside one another.
inline constexpr int kMaxJsonDepth = 32;

enum class JsonParseError { kNone, kInvalid, kTooDeep };

struct BoundedJson {
  nlohmann::json value;  // Discarded unless error is kNone.
  JsonParseError error = JsonParseError::kNone;
};

// Parses text (RFC 8259, no comments). kTooDeep when an array or object
// would open at a depth greater than max_depth (the outermost counts 1):
// reported even if the text is also malformed further on, and nothing of
// the too-deep part is built. kInvalid for any other malformed text.
BoundedJson ParseBoundedJson(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_BOUNDED_JSON_H_
