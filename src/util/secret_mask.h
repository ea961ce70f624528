// Hiding the values of masked variables in what a job prints, as GitLab
// Runner does ("[MASKED]"), and in the forms a job may print them in:
// base64 (standard and URL-safe alphabets, at any byte alignment), hex
// (either case), percent-encoded (either case), and each line of a
// multi-line value. docs/variables.md lists what is and is not caught.
#ifndef SLIPWAY_UTIL_SECRET_MASK_H_
#define SLIPWAY_UTIL_SECRET_MASK_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

inline constexpr std::string_view kMaskedText = "[MASKED]";

// GitLab's rule for masked variables: shorter values would mask ordinary
// words. Lines of a multi-line value shorter than this are not masked on
// their own (the whole value still is).
inline constexpr size_t kMinMaskedLength = 8;

// The byte strings that stand for a set of secret values. Immutable once
// made, so one set may serve every job of a pipeline at once.
class MaskPatterns {
 public:
  // Values shorter than kMinMaskedLength are ignored (callers refuse them
  // with a message first: see ValidateMaskedValue).
  explicit MaskPatterns(const std::vector<std::string>& secrets);

  bool empty() const { return patterns_.empty(); }
  // Longest first, no duplicates.
  const std::vector<std::string>& patterns() const { return patterns_; }
  size_t longest() const { return patterns_.empty() ? 0 : patterns_.front().size(); }

  // text with every occurrence of a pattern replaced by kMaskedText; at a
  // position where several match, the longest wins.
  std::string Mask(std::string_view text) const;

 private:
  std::vector<std::string> patterns_;
};

// "" when value may be masked, else why not (GitLab's wording).
std::string ValidateMaskedValue(std::string_view value);

// Masks a stream that arrives in chunks of any size: a secret split across
// two writes is still masked. The bytes at the end of a chunk that could be
// the start of a secret are held back until the next write shows whether
// they are; Flush releases them at the end of the stream. Not thread-safe.
class StreamMasker {
 public:
  // patterns must outlive the masker.
  explicit StreamMasker(const MaskPatterns* patterns) : patterns_(patterns) {}

  // Appends to *out what can be decided of pending bytes plus bytes, masked.
  void Write(std::string_view bytes, std::string* out);
  // Appends the held-back bytes (they are not a secret: the stream ended).
  void Flush(std::string* out);

 private:
  const MaskPatterns* patterns_;
  std::string pending_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SECRET_MASK_H_
