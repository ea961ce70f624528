#include "exec/glob.h"

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

bool SegmentsMatch(const std::vector<std::string_view>& p, size_t pi,
                   const std::vector<std::string_view>& s, size_t si) {
  if (pi == p.size()) return si == s.size();
  if (p[pi] == "**") {
    while (pi + 1 < p.size() && p[pi + 1] == "**") ++pi;
    for (size_t k = si; k <= s.size(); ++k) {
      if (SegmentsMatch(p, pi + 1, s, k)) return true;
    }
    return false;
  }
  if (si == s.size()) return false;
  return SegmentMatch(p[pi], s[si]) && SegmentsMatch(p, pi + 1, s, si + 1);
}

// Expands the first top-level {a,b} group, recursively; a pattern without a
// complete group is returned as is.
void ExpandBraces(std::string_view pattern, std::vector<std::string>* out) {
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
    out->emplace_back(pattern);
    return;
  }
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
        ExpandBraces(joined, out);
      }
      return;
    }
  }
  out->emplace_back(pattern);  // Unclosed '{': literal.
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  std::vector<std::string> expanded;
  ExpandBraces(pattern, &expanded);
  std::vector<std::string_view> path_parts = SplitSlash(path);
  for (const std::string& p : expanded) {
    if (SegmentsMatch(SplitSlash(p), 0, path_parts, 0)) return true;
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
