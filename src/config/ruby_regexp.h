// Regular expressions written in Ruby's /pattern/flags syntax, as GitLab
// accepts them in `rules:if` (literals, and the values of variables used on
// the right of =~ and !~), evaluated with RE2 as GitLab does.
#ifndef SLIPWAY_CONFIG_RUBY_REGEXP_H_
#define SLIPWAY_CONFIG_RUBY_REGEXP_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace slipway {

// Immutable; safe to share between threads.
class RubyRegexp {
 public:
  // Parses "/pattern/flags": every "\/" becomes "/", the pattern is what lies
  // between the first and the last slash, and the flags after the last slash
  // must be from "ismU" (passed to RE2 as a "(?flags)" prefix, so they have
  // RE2's meaning: m makes ^ and $ match at line breaks, s lets . match a
  // newline, U swaps greedy and lazy). Returns nullptr and sets *error when
  // text is not in that form or RE2 rejects the pattern.
  static std::shared_ptr<const RubyRegexp> Parse(std::string_view text, std::string* error);

  ~RubyRegexp();

  // True when the regexp matches anywhere in text (an empty match counts).
  bool PartialMatch(std::string_view text) const;

  // What Ruby's text.scan(regexp).flatten.last gives: of the last of the
  // non-overlapping matches in text, its last capture group when the
  // regexp has groups (empty when that group took no part), else the whole
  // match; none without a match.
  std::optional<std::string> LastMatch(std::string_view text) const;

  // The RE2 pattern, including the "(?flags)" prefix. Two regexps are equal
  // in GitLab when their sources are.
  const std::string& source() const { return source_; }

 private:
  RubyRegexp(std::string source, std::unique_ptr<re2::RE2> re2);
  std::string source_;
  std::unique_ptr<re2::RE2> re2_;
};

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_RUBY_REGEXP_H_
