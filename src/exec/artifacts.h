// Job artifacts on the local disk, with GitLab Runner's selection rules.
//
// A job's artifacts are the files of its workspace selected by
// artifacts:paths (globs, see glob.h; a matched directory brings everything
// under it), plus, with artifacts:untracked, every file that was not in the
// workspace when the job started (ignored files included, as with git's
// untracked files in GitLab), minus the entries artifacts:exclude matches
// (exclude is not recursive: `dir/**` excludes a directory's content). They
// are stored under <job_dir>/artifacts/ with their paths relative to the
// workspace kept, and restored into a later job's workspace by copying that
// tree over it. Report files (artifacts:reports) are copied to
// <job_dir>/reports/<type>/ and are not restored into other jobs.
// The layout is described in docs/artifacts.md.
#ifndef SLIPWAY_EXEC_ARTIFACTS_H_
#define SLIPWAY_EXEC_ARTIFACTS_H_

#include <functional>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/variables.h"
#include "exec/executor.h"
#include "exec/file_tree.h"
#include "pipeline/job.h"
#include "util/status.h"

namespace slipway {

// Receives the lines GitLab Runner would log ("x: found 3 matching artifact
// files and directories", "WARNING: x: no matching files ...").
using LogLineFn = std::function<void(const std::string&)>;

struct PathSelection {
  std::vector<std::string> patterns;  // Variables expanded, cleaned.
  std::vector<std::string> exclude;
  bool untracked = false;
};

// The workspace entries (ListTree order, .git left out) a selection picks.
// source_files are the files the workspace started with (for untracked).
std::vector<TreeEntry> SelectEntries(const std::vector<TreeEntry>& workspace_entries,
                                     const PathSelection& selection,
                                     const std::unordered_set<std::string>& source_files,
                                     const std::string& workspace, const LogLineFn& log);

// artifacts:paths/exclude/untracked with variables expanded.
PathSelection ArtifactSelection(const Artifacts& artifacts, const VariableList& vars);

// <job_dir>/artifacts: where a job's collected artifacts lie in its run
// directory (the server's PipelineService::ArtifactsDir finds them by job id).
std::string ArtifactsDirIn(const std::string& job_dir);
// Where a job's artifacts:reports go: <job_dir>/reports/<type>/.
std::string ReportsDirIn(const std::string& job_dir);

// The entries of a job's workspace (ListTree order, .git left out), listed
// beneath it without following any symlink, the workspace's own path
// included: a workspace a job replaced by a link is an error.
StatusOr<std::vector<TreeEntry>> ListWorkspace(const std::string& workspace);
StatusOr<std::vector<TreeEntry>> ListWorkspace(int workspace_fd, const std::string& workspace);

// Copies the selected entries of workspace into <job_dir>/artifacts/,
// reading beneath the workspace without following a symlink (CopyEntriesAt):
// a symlink the job left is stored as a symlink.
Status CollectArtifacts(const Artifacts& artifacts, const VariableList& vars,
                        const std::string& workspace,
                        const std::unordered_set<std::string>& source_files,
                        const std::string& job_dir, const LogLineFn& log);

// Copies a finished job's artifacts (the tree <job_dir>/artifacts/ holds,
// as ArtifactFetcher::Fetch gives it) into workspace, replacing what is there
// and never writing through a symlink (CopyTree): a symlink in the way of a
// directory is replaced by a real one. Entries made belong to owner when it
// is set.
Status RestoreArtifacts(const std::string& artifacts_dir, const std::string& workspace,
                        const OptionalOwner& owner = {});

// The artifacts of a run's jobs, by job id, from their job dirs: what a
// scheduler gives its executor when nothing else (the server's store) does.
class JobDirArtifacts : public ArtifactFetcher {
 public:
  void Add(int64_t job_id, std::string job_dir);
  // A job known by its artifacts' directory and dotenv variables only (a
  // job of an upstream pipeline).
  void AddArtifactsDir(int64_t job_id, std::string artifacts_dir, VariableList dotenv);
  // Where jobs not added are fetched from (not owned; null: they have
  // none), e.g. the server's store while upstream jobs are added here.
  void set_fallback(ArtifactFetcher* fallback) { fallback_ = fallback; }
  // The job's artifacts directory when that is a directory, else "".
  StatusOr<std::string> Fetch(const JobSpec::ArtifactSource& source) override;
  VariableList Dotenv(const JobSpec::ArtifactSource& source) override;

 private:
  ArtifactFetcher* fallback_ = nullptr;
  struct Entry {
    std::string artifacts_dir;
    std::string job_dir;  // Empty for AddArtifactsDir's.
    VariableList dotenv;
  };
  std::map<int64_t, Entry> jobs_;  // Written before the attempt starts.
};

struct Reports {
  VariableList dotenv;
  std::string summary;  // From junit reports; empty without them.
};

// Copies every artifacts:reports file to <job_dir>/reports/<type>/ (as
// CollectArtifacts copies) and parses dotenv and junit reports from the
// copies. Errors (a dotenv file breaking GitLab's rules) name the file.
StatusOr<Reports> CollectReports(const Artifacts& artifacts, const VariableList& vars,
                                 const std::string& workspace, const std::string& job_dir,
                                 const LogLineFn& log);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_ARTIFACTS_H_
