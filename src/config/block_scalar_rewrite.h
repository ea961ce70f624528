// A work-around for a yaml-cpp 0.7 scanner bug, kept apart from the parser so
// that it can be deleted once the distribution ships a fixed yaml-cpp.
//
// yaml-cpp 0.7 mis-reads a literal block scalar that follows an anchor or a
// tag on a sequence entry:
//
//   script:
//     - &functions |
//       build() {
//
// It takes the anchor's column as the scalar's indentation, ends the scalar
// early and then fails on its content (fixed upstream after 0.7, yaml-cpp
// pull request 1468). Real pipelines use this form (corpus 07).
#ifndef SLIPWAY_CONFIG_BLOCK_SCALAR_REWRITE_H_
#define SLIPWAY_CONFIG_BLOCK_SCALAR_REWRITE_H_

#include <optional>
#include <string>
#include <string_view>

namespace slipway {

// Rewrites every literal block scalar (`|`, `|-`, `|+`) written after
// properties on a sequence entry into the double-quoted scalar with the same
// value, laid out on exactly the same lines, with the opening quote where the
// `|` was, so that every mark in the document stays the same. Folded (`>`)
// scalars and explicit indentation indicators are left alone. Returns nullopt
// when the text holds no such scalar.
std::optional<std::string> RewriteBlockScalarsAfterProperties(std::string_view text);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_BLOCK_SCALAR_REWRITE_H_
