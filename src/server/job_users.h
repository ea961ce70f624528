// Who the server's jobs run as (docs/server.md, "Security model").
//
// A server running as root runs jobs as an unprivileged *job user*
// (--job-user, default slipway-job); it never runs them as itself unless told
// to with --job-user root. When the job user owns a subordinate id range in
// both /etc/subuid and /etc/subgid (subuid(5)), each project gets its own
// ids from it — project N runs as uid subuid_start + N, gid subgid_start + N
// — so that the jobs of one project cannot reach another's workspace while
// both run (one uid shared by all could read /proc/<pid>/cwd, ptrace, …):
// the pool of build users of Nix's nixbld users or systemd's DynamicUser.
// Without a range every project runs as the job user's own uid and gid.
//
// A server not running as root cannot switch users: its jobs run as itself
// and can read its data directory; it says so at start.
#ifndef SLIPWAY_SERVER_JOB_USERS_H_
#define SLIPWAY_SERVER_JOB_USERS_H_

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exec/job_identity.h"
#include "util/status.h"

namespace slipway {

// Subordinate ids start .. start + count - 1.
struct IdRange {
  uint32_t start = 0;
  uint32_t count = 0;
  bool operator==(const IdRange&) const = default;
};

// The first range that `path`, in /etc/subuid's format ("owner:start:count"
// per line, owner a login name or a numeric id), gives to the user called
// `name` with id `id`. A missing file gives none. Blank lines, `#` comments
// and other owners' lines are skipped, as shadow's tools skip what they
// cannot parse; a line of this user's that is malformed, or a range that
// includes id 0 or runs past 2^32 - 2, is an error naming path:line.
StatusOr<std::optional<IdRange>> FindSubordinateRange(const std::string& path,
                                                      const std::string& name, uint32_t id);

struct JobUserOptions {
  std::string user;  // --job-user; empty: default_user when root, else self.
  std::string default_user = "slipway-job";
  uid_t server_uid = geteuid();  // The server's effective uid (0: root).
  std::string subuid_file = "/etc/subuid";
  std::string subgid_file = "/etc/subgid";
};

// The resolved policy. Immutable and copyable; thread-safe.
class JobUsers {
 public:
  // Errors: a root server whose job user does not exist (the message says
  // how to create it); --job-user naming no user; a non-root server asked to
  // run jobs as someone else; a malformed subordinate range of the user.
  static StatusOr<JobUsers> Resolve(const JobUserOptions& options);
  // Jobs run as the calling process's own user, every project alike (what
  // a non-root server does; tests and embedders of PipelineService).
  static StatusOr<JobUsers> Self();

  // The identity of project_id's jobs. An error when the job user's range
  // has no id for the project.
  StatusOr<JobIdentity> ForProject(int64_t project_id) const;

  const std::string& user() const { return user_; }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  // Whether each project runs as its own uid and gid.
  bool isolated() const { return uids_.has_value(); }
  // Whether the server switches to another user for its jobs.
  bool switches_user() const { return switches_; }
  // What the server should print at start, one message each: jobs that can
  // read the server's data, projects not isolated from one another.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::string user_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool switches_ = false;
  std::optional<IdRange> uids_, gids_;
  std::string subuid_file_, subgid_file_;
  std::vector<std::string> warnings_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_JOB_USERS_H_
