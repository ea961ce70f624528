#include "exec/artifacts.h"

#include <map>
#include <set>

#include "exec/dotenv.h"
#include "exec/junit.h"
#include "exec/runner_glob.h"

namespace slipway {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::vector<std::string> ExpandAndClean(const std::vector<std::string>& raw,
                                        const VariableList& vars) {
  std::vector<std::string> out;
  for (const std::string& p : raw) out.push_back(CleanRelativePath(ExpandVariables(p, vars)));
  return out;
}

// GitLab Runner accepts absolute paths inside the project directory
// ("$CI_PROJECT_DIR/build/"); they are made relative to it.
std::vector<std::string> RelativeToWorkspace(const std::vector<std::string>& patterns,
                                             const std::string& workspace) {
  std::string root = CleanRelativePath(workspace);
  std::vector<std::string> out;
  for (const std::string& raw : patterns) {
    std::string p = CleanRelativePath(raw);
    if (p == root) {
      out.push_back("");
    } else if (p.starts_with(root + "/")) {
      out.push_back(p.substr(root.size() + 1));
    } else {
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace

StatusOr<std::vector<TreeEntry>> ListWorkspace(int workspace_fd, const std::string& workspace) {
  return ListTreeAt(workspace_fd, workspace, {".git"});
}

StatusOr<std::vector<TreeEntry>> ListWorkspace(const std::string& workspace) {
  StatusOr<UniqueFd> fd = OpenDirNoFollow(workspace);
  if (!fd.ok()) return fd.status();
  return ListWorkspace(fd->get(), workspace);
}

std::string ArtifactsDirIn(const std::string& job_dir) { return JoinPath(job_dir, "artifacts"); }
std::string ReportsDirIn(const std::string& job_dir) { return JoinPath(job_dir, "reports"); }

PathSelection ArtifactSelection(const Artifacts& artifacts, const VariableList& vars) {
  PathSelection selection;
  selection.patterns = ExpandAndClean(artifacts.paths, vars);
  selection.exclude = ExpandAndClean(artifacts.exclude, vars);
  selection.untracked = artifacts.untracked;
  return selection;
}

std::vector<TreeEntry> SelectEntries(const std::vector<TreeEntry>& workspace_entries,
                                     const PathSelection& selection,
                                     const std::unordered_set<std::string>& source_files,
                                     const std::string& workspace, const LogLineFn& log) {
  std::vector<bool> selected(workspace_entries.size(), false);
  for (const std::string& pattern : RelativeToWorkspace(selection.patterns, workspace)) {
    if (EscapesRoot(pattern)) {
      log("WARNING: " + pattern + ": not in the project directory (" + workspace + ")");
      continue;
    }
    // Parents come before children, so a directory is known to be matched
    // before its entries are seen.
    std::set<std::string> matched_dirs;
    int found = 0;
    for (size_t i = 0; i < workspace_entries.size(); ++i) {
      const TreeEntry& e = workspace_entries[i];
      bool match = pattern.empty() || matched_dirs.count(Parent(e.path)) > 0 ||
                   RunnerGlobMatch(pattern, e.path);
      if (!match) continue;
      ++found;
      selected[i] = true;
      if (e.type == EntryType::kDirectory) matched_dirs.insert(e.path);
    }
    std::string shown = pattern.empty() ? "." : pattern;
    if (found == 0) {
      log("WARNING: " + shown +
          ": no matching files. Ensure that the artifact path is relative to the working "
          "directory (" +
          workspace + ")");
    } else {
      log(shown + ": found " + std::to_string(found) + " matching artifact files and directories");
    }
  }
  if (selection.untracked) {
    int found = 0;
    for (size_t i = 0; i < workspace_entries.size(); ++i) {
      const TreeEntry& e = workspace_entries[i];
      if (e.type == EntryType::kDirectory || source_files.count(e.path) > 0) continue;
      selected[i] = true;
      ++found;
    }
    log("untracked: found " + std::to_string(found) + " files");
  }
  for (const std::string& pattern : RelativeToWorkspace(selection.exclude, workspace)) {
    int excluded = 0;
    for (size_t i = 0; i < workspace_entries.size(); ++i) {
      if (selected[i] && RunnerGlobMatch(pattern, workspace_entries[i].path)) {
        selected[i] = false;
        ++excluded;
      }
    }
    if (excluded > 0) log(pattern + ": excluded " + std::to_string(excluded) + " files");
  }
  std::vector<TreeEntry> out;
  for (size_t i = 0; i < workspace_entries.size(); ++i) {
    if (selected[i]) out.push_back(workspace_entries[i]);
  }
  return out;
}

Status CollectArtifacts(const Artifacts& artifacts, const VariableList& vars,
                        const std::string& workspace,
                        const std::unordered_set<std::string>& source_files,
                        const std::string& job_dir, const LogLineFn& log) {
  // Listed and read through one descriptor of the workspace, never through
  // a symlink (the workspace's own path included): what the job left there
  // is copied as it is, so a link to the server's files stays a link.
  StatusOr<UniqueFd> ws = OpenDirNoFollow(workspace);
  if (!ws.ok()) return ws.status();
  StatusOr<std::vector<TreeEntry>> entries = ListWorkspace(ws->get(), workspace);
  if (!entries.ok()) return entries.status();
  std::vector<TreeEntry> chosen =
      SelectEntries(*entries, ArtifactSelection(artifacts, vars), source_files, workspace, log);
  std::string dest = ArtifactsDirIn(job_dir);
  Status s = RemoveTree(dest);
  if (!s.ok()) return s;
  if (chosen.empty()) {
    log("ERROR: No files to upload");
    return Status::Ok();
  }
  StatusOr<UniqueFd> to = MakeDirNoFollow(dest);
  if (!to.ok()) return to.status();
  return CopyEntriesAt(ws->get(), workspace, chosen, to->get(), dest);
}

Status RestoreArtifacts(const std::string& artifacts_dir, const std::string& workspace,
                        const OptionalOwner& owner) {
  return CopyTree(artifacts_dir, workspace, {}, owner);
}

void JobDirArtifacts::Add(int64_t job_id, std::string job_dir) {
  jobs_[job_id] = Entry{ArtifactsDirIn(job_dir), std::move(job_dir), {}};
}

void JobDirArtifacts::AddArtifactsDir(int64_t job_id, std::string artifacts_dir,
                                      VariableList dotenv) {
  jobs_[job_id] = Entry{std::move(artifacts_dir), "", std::move(dotenv)};
}

StatusOr<std::string> JobDirArtifacts::Fetch(const JobSpec::ArtifactSource& source) {
  auto it = jobs_.find(source.job_id);
  if (it == jobs_.end() && fallback_ != nullptr) return fallback_->Fetch(source);
  if (it == jobs_.end() || it->second.artifacts_dir.empty()) return std::string();
  return IsDirectory(it->second.artifacts_dir) ? it->second.artifacts_dir : std::string();
}

VariableList JobDirArtifacts::Dotenv(const JobSpec::ArtifactSource& source) {
  auto it = jobs_.find(source.job_id);
  if (it == jobs_.end() && fallback_ != nullptr) return fallback_->Dotenv(source);
  if (it == jobs_.end()) return VariableList();
  if (it->second.job_dir.empty()) return it->second.dotenv;
  return ReadDotenvReports(it->second.job_dir);
}

StatusOr<Reports> CollectReports(const Artifacts& artifacts, const VariableList& vars,
                                 const std::string& workspace, const std::string& job_dir,
                                 const LogLineFn& log) {
  Reports reports;
  if (artifacts.reports.empty()) return reports;
  StatusOr<UniqueFd> ws = OpenDirNoFollow(workspace);
  if (!ws.ok()) return ws.status();
  StatusOr<std::vector<TreeEntry>> entries = ListWorkspace(ws->get(), workspace);
  if (!entries.ok()) return entries.status();
  std::string reports_dir = ReportsDirIn(job_dir);
  Status s = RemoveTree(reports_dir);
  if (!s.ok()) return s;
  bool any_junit = false;
  TestCounts counts;
  for (const auto& [type, paths] : artifacts.reports) {
    PathSelection selection;
    selection.patterns = ExpandAndClean(paths, vars);
    std::vector<TreeEntry> chosen = SelectEntries(*entries, selection, {}, workspace, log);
    std::string type_dir = JoinPath(reports_dir, type);
    StatusOr<UniqueFd> to = MakeDirNoFollow(type_dir);
    if (!to.ok()) return to.status();
    s = CopyEntriesAt(ws->get(), workspace, chosen, to->get(), type_dir);
    if (!s.ok()) return s;
    for (const TreeEntry& e : chosen) {
      if (e.type != EntryType::kFile) continue;
      // Parsed from the copy, which no job can change or swap a link into.
      std::string path = JoinPath(type_dir, e.path);
      if (type == "dotenv") {
        StatusOr<std::string> content = ReadFileBeneath(to->get(), e.path, path, kDotenvSizeLimit);
        Status parsed = content.ok() ? ParseDotenv(*content, &reports.dotenv)
                                     : Status::Error(
                                           "Dotenv Artifact Too Big. Maximum "
                                           "Allowable Size: " +
                                           std::to_string(kDotenvSizeLimit));
        if (!parsed.ok()) return Status::Error("dotenv report " + e.path + ": " + parsed.message());
      } else if (type == "junit") {
        StatusOr<std::string> content = ReadFileBeneath(to->get(), e.path, path);
        if (!content.ok()) return content.status();
        // As in GitLab, a report that does not parse fails no job: the
        // pipeline's test report shows it as its suite's error.
        StatusOr<TestCounts> parsed = ParseJunit(*content);
        if (!parsed.ok()) {
          log("WARNING: junit report " + e.path + ": " + parsed.status().message());
          continue;
        }
        counts.Add(*parsed);
        any_junit = true;
      }
    }
  }
  if (artifacts.reports.count("dotenv") > 0) {
    Status limit = CheckDotenvLimit(reports.dotenv);
    if (!limit.ok()) return Status::Error("dotenv report: " + limit.message());
  }
  if (any_junit) reports.summary = counts.Summary();
  return reports;
}

}  // namespace slipway
