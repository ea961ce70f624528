#include "util/source_tree.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "util/git.h"

namespace slipway {

namespace fs = std::filesystem;

SourceTree SourceTree::WorkTree(std::string dir) { return SourceTree(std::move(dir), "", ""); }

SourceTree SourceTree::AtCommit(std::string dir, std::string commit, std::string label) {
  return SourceTree(std::move(dir), std::move(commit), std::move(label));
}

std::string SourceTree::Name(const std::string& path) const {
  return at_commit() ? label_ + ":" + path : path;
}

StatusOr<std::string> SourceTree::Read(const std::string& path) const {
  if (!at_commit()) {
    fs::path full = fs::path(path).is_absolute() ? fs::path(path) : fs::path(dir_) / path;
    std::error_code ec;
    if (!fs::is_regular_file(full, ec)) {
      return Status::Error(fs::exists(full, ec) ? "not a regular file" : "no such file");
    }
    // "e": O_CLOEXEC (a filebuf opens without it).
    std::FILE* in = std::fopen(full.c_str(), "rbe");
    if (in == nullptr) return Status::Error(std::strerror(errno));
    std::string text;
    char buffer[65536];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, in)) > 0) text.append(buffer, n);
    bool failed = std::ferror(in) != 0;
    std::fclose(in);
    if (failed) return Status::Error("read error");
    return text;
  }
  if (fs::path(path).is_absolute()) {
    return Status::Error("an absolute path cannot be read from a commit");
  }
  std::string normal = fs::path(path).lexically_normal().generic_string();
  StatusOr<const std::vector<std::string>*> files = CommitFiles();
  if (!files.ok()) return files.status();
  const std::vector<std::string>& listed = **files;
  if (!std::binary_search(listed.begin(), listed.end(), normal)) {
    // Paths sort right after their directory's name plus '/'.
    auto below = std::lower_bound(listed.begin(), listed.end(), normal + "/");
    bool is_dir = below != listed.end() && below->starts_with(normal + "/");
    return Status::Error(is_dir ? "not a regular file" : "no such file");
  }
  return ReadCommitFile(dir_, commit_, normal);
}

StatusOr<std::vector<std::string>> SourceTree::Find(std::string_view pattern,
                                                    GlobSyntax syntax) const {
  if (!at_commit()) return FindFiles(dir_, pattern, syntax);
  StatusOr<const std::vector<std::string>*> files = CommitFiles();
  if (!files.ok()) return files.status();
  Glob glob(pattern, syntax);
  std::vector<std::string> matches;
  for (const std::string& file : **files) {
    if (glob.Match(file)) matches.push_back(file);
  }
  return matches;
}

StatusOr<const std::vector<std::string>*> SourceTree::CommitFiles() const {
  if (!files_) files_ = ListCommitFiles(dir_, commit_);
  if (!files_->ok()) return files_->status();
  return &**files_;
}

}  // namespace slipway
