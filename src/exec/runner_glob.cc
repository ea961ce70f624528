#include "exec/runner_glob.h"

#include <vector>

namespace slipway {
namespace {

std::vector<std::string_view> SplitSlash(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

// Index of the ']' closing the class that starts at open, or npos.
size_t ClassEnd(std::string_view p, size_t open) {
  size_t i = open + 1;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) ++i;
  if (i < p.size() && p[i] == ']') ++i;  // A leading ']' is literal.
  for (; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
    } else if (p[i] == ']') {
      return i;
    }
  }
  return std::string_view::npos;
}

bool ClassMatches(std::string_view cls, char c) {
  size_t i = 0;
  bool negate = false;
  if (i < cls.size() && (cls[i] == '!' || cls[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  for (; i < cls.size(); ++i) {
    char lo = cls[i];
    if (lo == '\\' && i + 1 < cls.size()) lo = cls[++i];
    char hi = lo;
    if (i + 2 < cls.size() && cls[i + 1] == '-') {
      hi = cls[i + 2];
      if (hi == '\\' && i + 3 < cls.size()) hi = cls[++i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
  }
  return matched != negate;
}

// One path segment against one pattern segment (no '/' in either).
bool SegmentMatch(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char pc = p[pi];
      if (pc == '*') {
        star_p = ++pi;
        star_s = si;
        continue;
      }
      if (pc == '?') {
        ++pi;
        ++si;
        continue;
      }
      if (pc == '[') {
        size_t end = ClassEnd(p, pi);
        if (end != std::string_view::npos) {
          if (ClassMatches(p.substr(pi + 1, end - pi - 1), s[si])) {
            pi = end + 1;
            ++si;
            continue;
          }
          pc = 0;  // Mismatch: fall through to backtracking.
        }
      } else if (pc == '\\' && pi + 1 < p.size()) {
        if (p[pi + 1] == s[si]) {
          pi += 2;
          ++si;
          continue;
        }
        pc = 0;
      }
      if (pc != 0 && pc == s[si]) {
        ++pi;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// Pattern segments against path segments, `**` standing for any number of
// whole segments. Dynamic programming over the pattern, one row of path
// positions at a time: O(|p|·|s|) whatever the stars (backtracking recursion
// was exponential in the number of `**` and deep for long patterns).
bool SegmentsMatch(const std::vector<std::string_view>& p, const std::vector<std::string_view>& s) {
  // reach[k]: the pattern so far matches the first k path segments.
  std::vector<char> reach(s.size() + 1, 0);
  reach[0] = 1;
  for (std::string_view segment : p) {
    std::vector<char> next(s.size() + 1, 0);
    if (segment == "**") {
      char any = 0;
      for (size_t k = 0; k <= s.size(); ++k) next[k] = any = any | reach[k];
    } else {
      for (size_t k = 0; k < s.size(); ++k) {
        if (reach[k] && SegmentMatch(segment, s[k])) next[k + 1] = 1;
      }
    }
    reach.swap(next);
  }
  return reach[s.size()] != 0;
}

// Bounds of the expansion: a pattern past them matches nothing.
constexpr size_t kMaxBraceExpansions = 4096;
constexpr int kMaxBraceGroups = 64;

// Expands the first top-level {a,b} group, recursively; a pattern without a
// complete group is returned as is. False when the expansion passes the
// bounds: more than kMaxBraceExpansions patterns, or kMaxBraceGroups groups
// expanded one within or after another (each a level of this recursion).
bool ExpandBraces(std::string_view pattern, std::vector<std::string>* out, int groups = 0) {
  size_t open = std::string_view::npos;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '{') {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos) {
    if (out->size() >= kMaxBraceExpansions) return false;
    out->emplace_back(pattern);
    return true;
  }
  if (groups >= kMaxBraceGroups) return false;
  std::vector<std::string_view> alternatives;
  int depth = 0;
  size_t start = open + 1;
  for (size_t i = open + 1; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      alternatives.push_back(pattern.substr(start, i - start));
      start = i + 1;
    } else if (c == '}') {
      alternatives.push_back(pattern.substr(start, i - start));
      std::string_view prefix = pattern.substr(0, open);
      std::string_view suffix = pattern.substr(i + 1);
      for (std::string_view alt : alternatives) {
        std::string joined(prefix);
        joined.append(alt);
        joined.append(suffix);
        if (!ExpandBraces(joined, out, groups + 1)) return false;
      }
      return true;
    }
  }
  if (out->size() >= kMaxBraceExpansions) return false;
  out->emplace_back(pattern);  // Unclosed '{': literal.
  return true;
}

}  // namespace

bool RunnerGlobMatch(std::string_view pattern, std::string_view path) {
  std::vector<std::string> expanded;
  if (!ExpandBraces(pattern, &expanded)) return false;
  std::vector<std::string_view> path_parts = SplitSlash(path);
  for (const std::string& p : expanded) {
    if (SegmentsMatch(SplitSlash(p), path_parts)) return true;
  }
  return false;
}

std::string CleanRelativePath(std::string_view path) {
  std::vector<std::string_view> kept;
  for (std::string_view part : SplitSlash(path)) {
    if (part.empty() || part == ".") continue;
    if (part == ".." && !kept.empty() && kept.back() != "..") {
      kept.pop_back();
      continue;
    }
    kept.push_back(part);
  }
  std::string out = path.starts_with('/') ? "/" : "";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out += '/';
    out.append(kept[i]);
  }
  return out;
}

bool EscapesRoot(std::string_view cleaned) {
  return cleaned.starts_with('/') || cleaned == ".." || cleaned.starts_with("../");
}

}  // namespace slipway
