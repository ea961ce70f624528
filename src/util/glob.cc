#include "util/glob.h"

#include <dirent.h>
#include <fcntl.h>
#include <re2/re2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <utility>

#include "util/beneath.h"

namespace slipway {
namespace {

constexpr size_t kMaxBraceExpansions = 4096;
// Groups expanded one inside (or after) another: each is one level of
// ExpandBraces's recursion, with a copy of the pattern.
constexpr int kMaxBraceGroups = 64;

// Length of the UTF-8 sequence starting at s[i] (1 for invalid bytes, so
// that every byte is consumed exactly once).
size_t CharLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

uint32_t CodePoint(std::string_view s, size_t i) {
  size_t n = CharLength(s, i);
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (n == 1) return c;
  uint32_t cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Ruby's File.fnmatch? with FNM_PATHNAME | FNM_DOTMATCH on one brace-free
// pattern. Positions index into pattern_ and path_; "at end" for a segment
// means the end of the string or a '/'.
class Fnmatcher {
 public:
  Fnmatcher(std::string_view pattern, std::string_view path) : p_(pattern), s_(path) {}

  bool Match() {
    size_t p = 0;
    size_t s = 0;
    // The most recent "**/" in the pattern: where the rest of the pattern
    // starts and where in the path it was last tried. Only the latest one is
    // retried, which keeps matching linear in practice (as Ruby does).
    size_t star_p = std::string_view::npos;
    size_t star_s = std::string_view::npos;
    while (true) {
      if (IsGlobstar(p)) {
        do {
          p += 3;
        } while (IsGlobstar(p));
        star_p = p;
        star_s = s;
      }
      size_t seg_p = p;
      size_t seg_s = s;
      if (MatchSegment(&seg_p, &seg_s)) {
        while (seg_s < s_.size() && s_[seg_s] != '/') ++seg_s;
        bool p_more = seg_p < p_.size();
        bool s_more = seg_s < s_.size();
        if (p_more && s_more) {
          p = seg_p + 1;
          s = seg_s + 1;
          continue;
        }
        if (!p_more && !s_more) return true;
      }
      // Let the last "**/" swallow one more directory of the path.
      if (star_p != std::string_view::npos) {
        size_t next = s_.find('/', star_s);
        if (next != std::string_view::npos) {
          p = star_p;
          star_s = next + 1;
          s = star_s;
          continue;
        }
      }
      return false;
    }
  }

 private:
  bool IsGlobstar(size_t p) const { return p_.substr(p, 3) == "**/"; }
  bool PatternEnd(size_t p) const { return p >= p_.size() || p_[p] == '/'; }
  bool PathEnd(size_t s) const { return s >= s_.size() || s_[s] == '/'; }
  size_t Unescape(size_t p) const {
    return (p < p_.size() && p_[p] == '\\' && p + 1 < p_.size()) ? p + 1 : p;
  }

  // Matches one path segment against the pattern from *p; on success *p is
  // at the pattern's segment end and *s somewhere in the path's segment (the
  // caller skips the rest when a trailing '*' matched it).
  bool MatchSegment(size_t* pcur, size_t* scur) const {
    size_t p = *pcur;
    size_t s = *scur;
    size_t star_p = std::string_view::npos;
    size_t star_s = std::string_view::npos;
    while (true) {
      bool failed = false;
      if (p < p_.size() && p_[p] == '*') {
        while (p < p_.size() && p_[p] == '*') ++p;
        if (PatternEnd(Unescape(p))) {
          *pcur = Unescape(p);
          *scur = s;
          return true;
        }
        if (PathEnd(s)) return false;
        star_p = p;
        star_s = s;
        continue;
      }
      if (p < p_.size() && p_[p] == '?') {
        if (PathEnd(s)) return false;
        ++p;
        s += CharLength(s_, s);
        continue;
      }
      if (p < p_.size() && p_[p] == '[') {
        if (PathEnd(s)) return false;
        size_t after = Bracket(p + 1, s);
        if (after != std::string_view::npos) {
          p = after;
          s += CharLength(s_, s);
          continue;
        }
        failed = true;
      }
      if (!failed) {
        p = Unescape(p);
        if (PathEnd(s)) {
          *pcur = p;
          *scur = s;
          return PatternEnd(p);
        }
        if (PatternEnd(p)) {
          failed = true;
        } else {
          size_t n = CharLength(p_, p);
          if (s_.substr(s, n) == p_.substr(p, n)) {
            p += n;
            s += n;
            continue;
          }
          failed = true;
        }
      }
      // Let the last '*' take one more character.
      if (star_p == std::string_view::npos) return false;
      p = star_p;
      star_s += CharLength(s_, star_s);
      s = star_s;
    }
  }

  // Matches the path character at s against the class whose body starts at
  // p (just after '['). Returns the pattern position after ']' on a match,
  // npos on no match or an unterminated class.
  size_t Bracket(size_t p, size_t s) const {
    const size_t npos = std::string_view::npos;
    if (p >= p_.size()) return npos;
    bool negated = false;
    if (p_[p] == '!' || p_[p] == '^') {
      negated = true;
      ++p;
    }
    const size_t s_len = CharLength(s_, s);
    const uint32_t c = CodePoint(s_, s);
    bool ok = false;
    while (p < p_.size() && p_[p] != ']') {
      size_t t1 = Unescape(p);
      size_t r1 = CharLength(p_, t1);
      p = t1 + r1;
      if (p >= p_.size()) return npos;
      if (p_[p] == '-' && p + 1 < p_.size() && p_[p + 1] != ']') {
        size_t t2 = Unescape(p + 1);
        p = t2 + CharLength(p_, t2);
        if (p > p_.size()) return npos;
        if (!ok && c >= CodePoint(p_, t1) && c <= CodePoint(p_, t2)) ok = true;
      } else if (!ok && s_.substr(s, s_len) == p_.substr(t1, r1)) {
        ok = true;
      }
    }
    if (p >= p_.size()) return npos;
    return ok == negated ? npos : p + 1;
  }

  std::string_view p_;
  std::string_view s_;
};

// Ruby's brace expansion for FNM_EXTGLOB: the first top-level {...} is
// replaced by each of its comma-separated alternatives, recursively.
// Backslash escapes are kept for the matcher. Returns false when the
// expansion would exceed kMaxBraceExpansions, or when more than
// kMaxBraceGroups groups are expanded along one path (`{a}{a}…`, `{{{…}}}`:
// one alternative each, so the count alone would not stop them).
bool ExpandBraces(const std::string& pattern, std::vector<std::string>* out, int groups = 0) {
  size_t lbrace = std::string::npos;
  size_t rbrace = std::string::npos;
  int nest = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '{' && nest++ == 0) lbrace = i;
    if (c == '}' && lbrace != std::string::npos && --nest == 0) {
      rbrace = i;
      break;
    }
    if (c == '\\' && ++i >= pattern.size()) break;
  }
  if (lbrace == std::string::npos || rbrace == std::string::npos) {
    if (out->size() >= kMaxBraceExpansions) return false;
    out->push_back(pattern);
    return true;
  }
  if (groups >= kMaxBraceGroups) return false;
  std::string prefix = pattern.substr(0, lbrace);
  std::string suffix = pattern.substr(rbrace + 1);
  size_t p = lbrace;
  while (p < rbrace) {
    size_t start = ++p;
    nest = 0;
    while (p < rbrace && !(pattern[p] == ',' && nest == 0)) {
      if (pattern[p] == '{') ++nest;
      if (pattern[p] == '}') --nest;
      if (pattern[p] == '\\' && ++p == rbrace) break;
      ++p;
    }
    if (!ExpandBraces(prefix + pattern.substr(start, p - start) + suffix, out, groups + 1)) {
      return false;
    }
  }
  return true;
}

// GitLab's include wildcard as a regexp: the pattern is regex-quoted, then
// `**` becomes a lazy "anything" and `*` a lazy "anything but '/'", anchored
// at both ends.
std::string IncludeWildcardRegex(std::string_view pattern) {
  std::string regex = "^";
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i, 2) == "**") {
      regex += ".*?";
      i += 2;
    } else if (pattern[i] == '*') {
      regex += "[^/]*?";
      ++i;
    } else {
      size_t n = CharLength(pattern, i);
      regex += RE2::QuoteMeta(re2::StringPiece(pattern.data() + i, n));
      i += n;
    }
  }
  return regex + "$";
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// Appends the files in the directory open at dir_fd (relative_dir below the
// root) and below it to out. Names come from readdir and each directory is
// opened from its parent's descriptor with O_NOFOLLOW (util/beneath.h), so
// a symbolic link is listed as a file and never entered, even if a
// directory is swapped for one mid-walk. Errors name the directory (shown
// as root/relative_dir).
Status Walk(const std::filesystem::path& root, int dir_fd, const std::string& relative_dir,
            std::vector<std::string>* out) {
  std::filesystem::path shown = relative_dir.empty() ? root : root / relative_dir;
  auto fail = [&](int err) {
    return Status::Error(shown.string() + ": cannot list directory: " + std::strerror(err));
  };
  // fdopendir owns the descriptor it is given: hand it a duplicate.
  int listed_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (listed_fd < 0) return fail(errno);
  DIR* dir = fdopendir(listed_fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(listed_fd);
    return fail(err);
  }
  std::vector<std::string> subdirs;
  errno = 0;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISLNK(st.st_mode)   ? DT_LNK
             : S_ISDIR(st.st_mode) ? DT_DIR
             : S_ISREG(st.st_mode) ? DT_REG
                                   : DT_UNKNOWN;
    }
    std::string relative = relative_dir.empty() ? name : relative_dir + "/" + name;
    if (type == DT_LNK || type == DT_REG) {
      out->push_back(std::move(relative));
    } else if (type == DT_DIR && name != ".git") {
      subdirs.push_back(std::move(name));
    }
    errno = 0;
  }
  int read_error = errno;
  closedir(dir);
  if (read_error != 0) return fail(read_error);
  for (const std::string& name : subdirs) {
    std::string relative = relative_dir.empty() ? name : relative_dir + "/" + name;
    BeneathOpen sub = WalkBeneath(dir_fd, name, BeneathKind::kDirectory);
    if (sub.result == BeneathOpen::Result::kSymlink) {
      out->push_back(std::move(relative));  // Became a link since readdir.
      continue;
    }
    if (sub.result != BeneathOpen::Result::kOk) {
      if (sub.result == BeneathOpen::Result::kError) {
        return Status::Error((root / relative).string() +
                             ": cannot list directory: " + std::strerror(sub.error));
      }
      continue;  // Gone or replaced since readdir.
    }
    Status status = Walk(root, sub.fd.get(), relative, out);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

// The leading directories of pattern that contain no wildcard, e.g. "a/b"
// for "a/b/*.yml"; walking can start there.
std::string LiteralDirectoryPrefix(std::string_view pattern, GlobSyntax syntax) {
  std::string_view meta = syntax == GlobSyntax::kFnmatch ? "*?[{\\" : "*";
  size_t first_meta = pattern.find_first_of(meta);
  std::string_view literal = pattern.substr(0, first_meta);
  size_t slash = literal.rfind('/');
  if (slash == std::string_view::npos) return "";
  return std::string(literal.substr(0, slash));
}

}  // namespace

Glob::Glob(std::string_view pattern, GlobSyntax syntax) : syntax_(syntax) {
  if (syntax == GlobSyntax::kIncludeWildcard) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);
    regex_ = std::make_unique<RE2>(IncludeWildcardRegex(pattern), options);
  } else if (!ExpandBraces(std::string(pattern), &alternatives_)) {
    alternatives_.clear();
  }
}

Glob::Glob(Glob&&) noexcept = default;
Glob& Glob::operator=(Glob&&) noexcept = default;
Glob::~Glob() = default;

bool Glob::Match(std::string_view path) const {
  if (syntax_ == GlobSyntax::kIncludeWildcard) {
    return regex_->ok() && RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *regex_);
  }
  for (const std::string& alternative : alternatives_) {
    if (Fnmatcher(alternative, path).Match()) return true;
  }
  return false;
}

bool GlobMatch(std::string_view pattern, std::string_view path, GlobSyntax syntax) {
  return Glob(pattern, syntax).Match(path);
}

Status CheckGlob(std::string_view pattern, GlobSyntax syntax) {
  std::vector<std::string> alternatives;
  if (syntax != GlobSyntax::kFnmatch || ExpandBraces(std::string(pattern), &alternatives)) {
    return Status::Ok();
  }
  return Status::Error("the braces of '" + std::string(pattern.substr(0, 100)) +
                       (pattern.size() > 100 ? "…" : "") + "' expand to more than " +
                       std::to_string(kMaxBraceExpansions) + " patterns or " +
                       std::to_string(kMaxBraceGroups) + " nested groups");
}

bool IsLiteralGlob(std::string_view pattern) {
  return pattern.find_first_of("*?[{") == std::string_view::npos;
}

StatusOr<std::vector<std::string>> ListFiles(const std::filesystem::path& root) {
  std::vector<std::string> files;
  UniqueFd root_fd = OpenDirectory(root.string());
  if (!root_fd.valid()) {
    return Status::Error(root.string() + ": cannot list directory: " + std::strerror(errno));
  }
  Status status = Walk(root, root_fd.get(), "", &files);
  if (!status.ok()) return status;
  SortUnique(&files);
  return files;
}

StatusOr<std::vector<std::string>> FindFiles(const std::filesystem::path& root,
                                             std::string_view pattern, GlobSyntax syntax) {
  std::string start = LiteralDirectoryPrefix(pattern, syntax);
  std::vector<std::string> candidates;
  UniqueFd root_fd = OpenDirectory(root.string());
  if (!root_fd.valid()) {
    return Status::Error(root.string() + ": cannot list directory: " + std::strerror(errno));
  }
  // The literal directories are looked up like any path in the tree: one
  // that is missing, not a directory or a symbolic link holds no files.
  BeneathOpen start_dir = WalkBeneath(root_fd.get(), start, BeneathKind::kDirectory);
  if (start_dir.result == BeneathOpen::Result::kError) {
    return Status::Error((root / start).string() +
                         ": cannot list directory: " + std::strerror(start_dir.error));
  }
  if (start_dir.result != BeneathOpen::Result::kOk) return std::vector<std::string>();
  Status status = Walk(root, start_dir.fd.get(), start, &candidates);
  if (!status.ok()) return status;
  Glob glob(pattern, syntax);
  std::vector<std::string> matches;
  for (const std::string& file : candidates) {
    if (glob.Match(file)) matches.push_back(file);
  }
  SortUnique(&matches);
  return matches;
}

}  // namespace slipway
