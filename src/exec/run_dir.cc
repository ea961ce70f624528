#include "exec/run_dir.h"

#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>

#include "exec/file_tree.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxDirName = 100;

// The numeric directory names under dir, ascending.
std::vector<int> NumericNames(const fs::path& dir) {
  std::vector<int> ids;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    int id = 0;
    auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (err == std::errc() && ptr == name.data() + name.size() && id > 0) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

std::string RunsDir(const std::string& project_dir) {
  return (fs::path(project_dir) / ".slipway" / "runs").string();
}

std::vector<int> ListRunIds(const std::string& project_dir) {
  return NumericNames(RunsDir(project_dir));
}

StatusOr<std::string> MakeStateDir(const std::string& project_dir) {
  std::error_code ec;
  fs::path root = fs::absolute(fs::path(project_dir), ec);
  if (ec)
    return Status::Error("cannot resolve project directory '" + project_dir + "': " + ec.message());
  fs::path state = root / ".slipway";
  fs::create_directories(state, ec);
  if (ec) return Status::Error("cannot create '" + state.string() + "': " + ec.message());
  fs::path ignore = state / ".gitignore";
  if (!fs::exists(ignore, ec)) {
    // Written whole under a temporary name, so that a concurrent run or git
    // never reads half of it.
    fs::path temporary = state / (".gitignore." + std::to_string(::getpid()));
    Status written = WriteFile(temporary.string(),
                               "# Written by slipway: runs are local, never committed.\n*\n");
    if (!written.ok()) return written;
    fs::rename(temporary, ignore, ec);
    if (ec) {
      fs::remove(temporary, ec);
      return Status::Error("cannot write '" + ignore.string() + "'");
    }
  }
  return state.string();
}

StatusOr<RunDir> CreateRunDir(const std::string& project_dir) {
  StatusOr<std::string> state = MakeStateDir(project_dir);
  if (!state.ok()) return state.status();
  fs::path runs = fs::path(*state) / "runs";
  std::error_code ec;
  fs::create_directories(runs, ec);
  if (ec) return Status::Error("cannot create '" + runs.string() + "': " + ec.message());
  std::vector<int> ids = NumericNames(runs);
  int id = (ids.empty() ? 0 : ids.back()) + 1;
  for (int attempt = 0; attempt < 1000; ++attempt, ++id) {
    fs::path candidate = runs / std::to_string(id);
    if (::mkdir(candidate.c_str(), 0755) == 0) {
      return RunDir{id, candidate.string()};
    }
    if (errno != EEXIST) {
      return Status::Error("cannot create '" + candidate.string() + "': " + std::strerror(errno));
    }
  }
  return Status::Error("cannot create a run directory under '" + runs.string() + "'");
}

std::string JobDirName(std::string_view job_name) {
  std::string out;
  for (char c : job_name.substr(0, kMaxDirName)) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    out.push_back(safe ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

std::vector<std::string> UniqueJobDirNames(const std::vector<std::string>& job_names) {
  std::vector<std::string> out;
  out.reserve(job_names.size());
  std::set<std::string> taken;
  for (const std::string& name : job_names) {
    std::string base = JobDirName(name);
    std::string candidate = base;
    for (int n = 2; !taken.insert(candidate).second; ++n) {
      candidate = base + "-" + std::to_string(n);
    }
    out.push_back(std::move(candidate));
  }
  return out;
}

std::string PathForDisplay(const std::string& path, const std::string& project_dir) {
  if (path.empty() || project_dir.empty()) return path;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(project_dir, ec), ec);
  if (ec) return path;
  fs::path file = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) return path;
  fs::path relative = file.lexically_relative(root);
  if (relative.empty() || *relative.begin() == "..") return path;
  return relative.string();
}

}  // namespace slipway
