// Path patterns as GitLab matches them against repository files.
//
// Two syntaxes exist in GitLab:
//  - kFnmatch: rules:changes, rules:exists and only/except:changes call Ruby's
//    File.fnmatch?(pattern, path, FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB):
//    `*` and `?` never cross '/', `**/` is zero or more whole directories
//    (a `**` not followed by '/' is a plain `*`), `[a-z]`/`[!x]`/`[^x]`
//    classes, `{a,b}` alternatives (nestable), `\` escapes the next character,
//    and dot files are matched like any other.
//  - kIncludeWildcard: `include: local:` with wildcards, which GitLab turns into
//    an anchored regexp: `**` matches anything including '/', `*` anything but
//    '/', and every other character (also ? [ ] { }) is literal.
// Paths are repository-relative, '/'-separated, without a leading "./" or "/".
#ifndef SLIPWAY_UTIL_GLOB_H_
#define SLIPWAY_UTIL_GLOB_H_

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace re2 {
class RE2;
}

namespace slipway {

enum class GlobSyntax { kFnmatch, kIncludeWildcard };

// A pattern prepared once for matching many paths. Immutable after
// construction; safe to share between threads. Never fails: a malformed
// pattern (e.g. an unclosed '[') simply matches nothing, as in Ruby, and so
// does one whose braces expand to more than 4096 alternatives or through
// more than 64 groups (CheckGlob tells which patterns those are).
class Glob {
 public:
  explicit Glob(std::string_view pattern, GlobSyntax syntax = GlobSyntax::kFnmatch);
  Glob(Glob&&) noexcept;
  Glob& operator=(Glob&&) noexcept;
  ~Glob();

  bool Match(std::string_view path) const;

 private:
  GlobSyntax syntax_;
  std::vector<std::string> alternatives_;  // kFnmatch: the brace expansions.
  std::unique_ptr<re2::RE2> regex_;        // kIncludeWildcard.
};

// An error naming the pattern when its braces go past the bounds above (so
// that it would match nothing): for `slipway lint` to report at the key.
Status CheckGlob(std::string_view pattern, GlobSyntax syntax = GlobSyntax::kFnmatch);

// Glob(pattern, syntax).Match(path).
bool GlobMatch(std::string_view pattern, std::string_view path,
               GlobSyntax syntax = GlobSyntax::kFnmatch);

// True when pattern contains none of * ? [ { — GitLab then compares it to
// paths as an exact string.
bool IsLiteralGlob(std::string_view pattern);

// Every file under root (regular files and symbolic links, not directories),
// as sorted root-relative '/'-separated paths. `.git` directories are
// skipped. Symbolic links below root are listed, never followed: the walk
// opens each directory from its parent without following links
// (util/beneath.h), so it cannot be led outside root. Fails with a message
// naming the directory that could not be read.
StatusOr<std::vector<std::string>> ListFiles(const std::filesystem::path& root);

// The files under root whose relative path matches pattern, sorted. Walks
// only below the pattern's literal leading directories, which are opened
// like the rest: a leading directory that is a symbolic link or `..` holds
// no files.
StatusOr<std::vector<std::string>> FindFiles(const std::filesystem::path& root,
                                             std::string_view pattern,
                                             GlobSyntax syntax = GlobSyntax::kFnmatch);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_GLOB_H_
