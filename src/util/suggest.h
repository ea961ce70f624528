// "did you mean …?": the known word nearest to a misspelled one.
#ifndef SLIPWAY_UTIL_SUGGEST_H_
#define SLIPWAY_UTIL_SUGGEST_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace slipway {

// Edit distance between a and b, ignoring ASCII case: insertions,
// deletions, substitutions and transpositions of two adjacent characters
// (optimal string alignment, so "scirpt" is 1 from "script").
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate nearest to word, if it is near enough to be what was meant:
// at most 1 edit for words of up to 5 characters, 2 up to 10, 3 beyond, and
// at most one edit per two characters after the first (so none for words
// of 1 or 2 characters). The first of equally near ones.
std::optional<std::string_view> NearestWord(std::string_view word,
                                            std::span<const std::string_view> candidates);

// "; did you mean `x`?" for NearestWord's answer, or "" when there is none.
std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SUGGEST_H_
