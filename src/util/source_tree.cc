#include "util/source_tree.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/beneath.h"
#include "util/git.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLinkMode = "120000";
constexpr std::string_view kSubmoduleMode = "160000";

StatusOr<std::string> Fail(ReadError* error, ReadError::Kind kind, std::string message,
                           std::string link = {}, std::string target = {}) {
  if (error != nullptr) *error = ReadError{kind, std::move(link), std::move(target)};
  return Status::Error(std::move(message));
}

StatusOr<std::string> FailLink(ReadError* error, ReadError::Kind kind, const std::string& link,
                               const std::string& target) {
  return Fail(error, kind, "`" + link + "` is a symbolic link to `" + target + "`", link, target);
}

// path made relative and normal; nullopt when it is absolute or leaves
// its directory.
std::optional<std::string> Normalise(const std::string& path) {
  fs::path p(path);
  if (p.is_absolute()) return std::nullopt;
  fs::path normal = p.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") return std::nullopt;
  std::string text = normal.generic_string();
  if (text == ".") text.clear();
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

StatusOr<std::string> ReadAll(int fd) {
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return text;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(std::strerror(errno));
    }
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

SourceTree SourceTree::WorkTree(std::string dir) { return SourceTree(std::move(dir), "", ""); }

SourceTree SourceTree::AtCommit(std::string dir, std::string commit, std::string label) {
  return SourceTree(std::move(dir), std::move(commit), std::move(label));
}

std::string SourceTree::Name(const std::string& path) const {
  return at_commit() && !label_.empty() ? label_ + ":" + path : path;
}

StatusOr<std::string> SourceTree::Locate(const std::string& file) const {
  fs::path given(file);
  if (at_commit() && !given.is_absolute()) {
    std::optional<std::string> normal = Normalise(file);
    if (normal) return *normal;
    return Status::Error("the pipeline file must be inside the project directory " + dir_);
  }
  std::error_code ec;
  fs::path root = fs::canonical(dir_, ec);
  if (ec)
    return Status::Error("cannot resolve the project directory " + dir_ + ": " + ec.message());
  fs::path full = fs::absolute(given.is_absolute() ? given : fs::path(dir_) / given, ec);
  // Every link resolved, also below root: where reading would really lead.
  fs::path resolved = fs::weakly_canonical(full, ec);
  if (ec) return Status::Error("cannot resolve it: " + ec.message());
  fs::path inside = resolved.lexically_relative(root);
  if (inside.empty() || *inside.begin() == "..") {
    return Status::Error("the pipeline file must be inside the project directory " + root.string() +
                         ", and this one leads to " + resolved.string());
  }
  if (!given.is_absolute()) {
    if (std::optional<std::string> normal = Normalise(file)) return *normal;
  }
  // An absolute (or roundabout) path: the part below the ancestor that is
  // the project directory, keeping the user's names there so that a link
  // below it is still refused when the file is read.
  fs::path normal = full.lexically_normal();
  for (fs::path ancestor = normal.parent_path(); !ancestor.empty();
       ancestor = ancestor.parent_path()) {
    if (fs::equivalent(ancestor, root, ec)) {
      if (std::optional<std::string> below = Normalise(normal.lexically_relative(ancestor))) {
        return *below;
      }
      break;
    }
    if (ancestor == ancestor.parent_path()) break;
  }
  return inside.generic_string();
}

StatusOr<std::string> SourceTree::Read(const std::string& path, ReadError* error) const {
  return at_commit() ? ReadCommit(path, error) : ReadDisk(path, error);
}

StatusOr<std::string> SourceTree::ReadDisk(const std::string& path, ReadError* error) const {
  using Kind = ReadError::Kind;
  std::optional<std::string> normal = Normalise(path);
  if (!normal) return Fail(error, Kind::kOutside, "outside the project directory");
  UniqueFd root = OpenDirectory(dir_);
  if (!root.valid()) return Fail(error, Kind::kOther, dir_ + ": " + std::strerror(errno));
  BeneathOpen opened = WalkBeneath(root.get(), *normal, BeneathKind::kFile);
  switch (opened.result) {
    case BeneathOpen::Result::kOk: {
      StatusOr<std::string> text = ReadAll(opened.fd.get());
      if (!text.ok()) return Fail(error, Kind::kOther, text.status().message());
      return text;
    }
    case BeneathOpen::Result::kNoSuchFile:
    case BeneathOpen::Result::kNotDirectory:
      return Fail(error, Kind::kNoSuchFile, "no such file");
    case BeneathOpen::Result::kNotRegular:
      return Fail(error, Kind::kNotRegularFile, "not a regular file");
    case BeneathOpen::Result::kSymlink:
      return FailLink(error, opened.stopped_at == *normal ? Kind::kSymlink : Kind::kSymlinkInPath,
                      opened.stopped_at, opened.link_target);
    case BeneathOpen::Result::kError:
      break;
  }
  return Fail(error, Kind::kOther, std::strerror(opened.error));
}

StatusOr<std::string> SourceTree::ReadCommit(const std::string& path, ReadError* error) const {
  using Kind = ReadError::Kind;
  std::optional<std::string> normal = Normalise(path);
  if (!normal) return Fail(error, Kind::kOutside, "outside the project directory");
  StatusOr<const std::vector<Entry>*> listed = CommitEntries();
  if (!listed.ok()) return Fail(error, Kind::kOther, listed.status().message());
  const std::vector<Entry>& entries = **listed;
  // A link on the way: git's tree lookup, like Gitaly's, does not go
  // through it.
  for (size_t slash = normal->find('/'); slash != std::string::npos;
       slash = normal->find('/', slash + 1)) {
    const Entry* dir = FindEntry(entries, normal->substr(0, slash));
    if (dir == nullptr) continue;
    if (dir->mode != kLinkMode) return Fail(error, Kind::kNoSuchFile, "no such file");
    StatusOr<std::string> target = ReadCommitFile(dir_, commit_, dir->path);
    return FailLink(error, Kind::kSymlinkInPath, dir->path, target.ok() ? *target : "?");
  }
  const Entry* entry = FindEntry(entries, *normal);
  if (entry == nullptr) {
    // Paths sort right after their directory's name plus '/'.
    auto below = std::lower_bound(entries.begin(), entries.end(), *normal + "/",
                                  [](const Entry& e, const std::string& p) { return e.path < p; });
    bool is_dir = below != entries.end() && below->path.starts_with(*normal + "/");
    if (is_dir) return Fail(error, Kind::kNotRegularFile, "not a regular file");
    return Fail(error, Kind::kNoSuchFile, "no such file");
  }
  if (entry->mode == kSubmoduleMode) {
    return Fail(error, Kind::kNotRegularFile, "not a regular file");
  }
  StatusOr<std::string> content = ReadCommitFile(dir_, commit_, *normal);
  if (!content.ok()) return Fail(error, Kind::kOther, content.status().message());
  if (entry->mode == kLinkMode) return FailLink(error, Kind::kSymlink, *normal, *content);
  return content;
}

StatusOr<std::vector<std::string>> SourceTree::Find(std::string_view pattern,
                                                    GlobSyntax syntax) const {
  if (!at_commit()) return FindFiles(dir_, pattern, syntax);
  StatusOr<const std::vector<Entry>*> entries = CommitEntries();
  if (!entries.ok()) return entries.status();
  Glob glob(pattern, syntax);
  std::vector<std::string> matches;
  for (const Entry& entry : **entries) {
    if (glob.Match(entry.path)) matches.push_back(entry.path);
  }
  return matches;
}

const SourceTree::Entry* SourceTree::FindEntry(const std::vector<Entry>& entries,
                                               const std::string& path) {
  auto it = std::lower_bound(entries.begin(), entries.end(), path,
                             [](const Entry& e, const std::string& p) { return e.path < p; });
  return it != entries.end() && it->path == path ? &*it : nullptr;
}

StatusOr<const std::vector<SourceTree::Entry>*> SourceTree::CommitEntries() const {
  if (!entries_) {
    // Run in dir, ls-tree lists only dir's part of the tree, relative to it:
    // "<mode> <type> <object>\t<path>\0" per entry.
    StatusOr<GitResult> listed = RunGit(dir_, {"ls-tree", "-r", "-z", commit_});
    if (!listed.ok()) {
      entries_ = listed.status();
    } else if (listed->exit_code != 0) {
      entries_ = Status::Error("git ls-tree failed in " + dir_ + ": " +
                               listed->err.substr(0, listed->err.find('\n')));
    } else {
      std::vector<Entry> entries;
      const std::string& out = listed->out;
      for (size_t start = 0; start < out.size();) {
        size_t end = out.find('\0', start);
        if (end == std::string::npos) end = out.size();
        std::string_view line(out.data() + start, end - start);
        size_t tab = line.find('\t');
        if (tab != std::string_view::npos) {
          entries.push_back(
              {std::string(line.substr(tab + 1)), std::string(line.substr(0, line.find(' ')))});
        }
        start = end + 1;
      }
      std::sort(entries.begin(), entries.end(),
                [](const Entry& a, const Entry& b) { return a.path < b.path; });
      entries_ = std::move(entries);
    }
  }
  if (!entries_->ok()) return entries_->status();
  return &**entries_;
}

}  // namespace slipway
