// Path globs as GitLab Runner matches artifacts:paths, artifacts:exclude,
// cache:paths and cache:key:files (the doublestar library's syntax):
//   *       any run of characters except '/'
//   ?       one character except '/'
//   [abc] [a-z] [!a] [^a]   one character from (or not from) a class
//   {a,b}   either alternative (may nest, may contain '/')
//   **      as a whole path segment: zero or more directories
//   \x      the character x literally
// Patterns and paths are relative, '/'-separated, without "./" prefixes.
// Not the syntax of rules:changes and include wildcards, which GitLab's Rails
// side matches (util/glob.h's GlobMatch): `**` differs, for one.
#ifndef SLIPWAY_EXEC_RUNNER_GLOB_H_
#define SLIPWAY_EXEC_RUNNER_GLOB_H_

#include <string>
#include <string_view>

namespace slipway {

// True when path matches the whole of pattern. A malformed pattern (an
// unclosed '[' or '{') matches only paths equal to it; one whose braces
// expand to more than 4096 patterns, or through more than 64 groups, matches
// nothing. Time is O(pattern segments × path segments) per expansion.
bool RunnerGlobMatch(std::string_view pattern, std::string_view path);

// A user-written path or pattern in the form RunnerGlobMatch expects: "./"
// prefixes, repeated and trailing slashes removed ("./build//" -> "build";
// "." and "./" -> ""). The result is "" for the project root itself.
std::string CleanRelativePath(std::string_view path);

// True when a cleaned path leaves the directory it is relative to ("..",
// "../x", "a/../../x") or is absolute.
bool EscapesRoot(std::string_view cleaned);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_RUNNER_GLOB_H_
