#include "server/job_users.h"

#include <pwd.h>

#include <fstream>
#include <limits>

namespace slipway {
namespace {

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// getpwnam_r / getpwuid_r: the reentrant forms, since the server has threads.
std::optional<Account> FromPasswd(const std::string* name, uid_t uid) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<size_t>(size) : 16384, '\0');
  passwd entry{};
  passwd* found = nullptr;
  int rc = name != nullptr ? getpwnam_r(name->c_str(), &entry, buffer.data(), buffer.size(), &found)
                           : getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) return std::nullopt;
  return Account{found->pw_name, found->pw_uid, found->pw_gid};
}

// Decimal digits only, within uint32_t.
std::optional<uint32_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// A user given by name, or by a numeric uid that has a passwd entry.
std::optional<Account> LookUp(const std::string& user) {
  if (std::optional<Account> by_name = FromPasswd(&user, 0)) return by_name;
  if (std::optional<uint32_t> id = ParseId(user)) return FromPasswd(nullptr, *id);
  return std::nullopt;
}

std::string Describe(const std::string& user, uid_t uid) {
  return "'" + user + "' (uid " + std::to_string(uid) + ")";
}

}  // namespace

StatusOr<std::optional<IdRange>> FindSubordinateRange(const std::string& path,
                                                      const std::string& name, uint32_t id) {
  std::ifstream in(path);
  if (!in) return std::optional<IdRange>();
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    size_t first = line.find(':');
    if (first == std::string::npos) continue;
    std::string owner = line.substr(0, first);
    std::optional<uint32_t> owner_id = ParseId(owner);
    if (owner != name && owner_id != id) continue;
    std::string where = path + ":" + std::to_string(number) + ": ";
    size_t second = line.find(':', first + 1);
    std::optional<uint32_t> start, count;
    if (second != std::string::npos) {
      start = ParseId(line.substr(first + 1, second - first - 1));
      count = ParseId(line.substr(second + 1));
    }
    if (!start || !count || *count == 0) {
      return Status::Error(where + "the subordinate range of '" + name +
                           "' must be owner:start:count with decimal numbers, not '" + line + "'");
    }
    // uid_t(-1) means "no change" to setresuid: a range must stay below it.
    if (*start == 0 || uint64_t{*start} + *count > uint64_t{std::numeric_limits<uint32_t>::max()}) {
      return Status::Error(where + "the subordinate range of '" + name +
                           "' must lie within 1 .. 4294967294, not start at " +
                           std::to_string(*start) + " with " + std::to_string(*count) + " ids");
    }
    return std::optional<IdRange>(IdRange{*start, *count});
  }
  return std::optional<IdRange>();
}

StatusOr<JobUsers> JobUsers::Resolve(const JobUserOptions& options) {
  JobUsers users;
  users.subuid_file_ = options.subuid_file;
  users.subgid_file_ = options.subgid_file;
  std::optional<Account> self = FromPasswd(nullptr, options.server_uid);
  std::string self_name = self ? self->name : std::to_string(options.server_uid);

  if (options.server_uid != 0) {
    if (!options.user.empty()) {
      std::optional<Account> wanted = LookUp(options.user);
      if (!wanted || wanted->uid != options.server_uid) {
        return Status::Error("--job-user " + options.user +
                             ": only a server running as root can run jobs as another user; "
                             "this one runs as " +
                             Describe(self_name, options.server_uid));
      }
    }
    if (!self) {
      return Status::Error("the server's uid " + std::to_string(options.server_uid) +
                           " has no entry in the user database");
    }
    users.user_ = self->name;
    users.uid_ = self->uid;
    users.gid_ = self->gid;
    users.warnings_.push_back(
        "jobs run as " + Describe(users.user_, users.uid_) +
        ", the server's own user: they can read and change its data directory (the database, "
        "the secrets key, every project's files). Run `slipway serve` as root so that jobs run "
        "as an unprivileged job user (--job-user, default " +
        options.default_user + ")");
    return users;
  }

  std::string wanted = options.user.empty() ? options.default_user : options.user;
  std::optional<Account> account = LookUp(wanted);
  if (!account && options.user.empty()) {
    return Status::Error(
        "jobs run as the user '" + wanted +
        "', which does not exist. Create it with "
        "`bash scripts/install-deps.sh` (a system user with a subordinate id range, so that "
        "each project runs as its own uid), or choose another user with --job-user USER "
        "(--job-user root runs jobs as root, which lets them read and change everything, "
        "the server's database included)");
  }
  if (!account) return Status::Error("--job-user " + wanted + ": no such user");
  users.user_ = account->name;
  users.uid_ = account->uid;
  users.gid_ = account->gid;
  if (account->uid == 0) {
    users.warnings_.push_back(
        "jobs run as root (--job-user " + wanted +
        "): they can read and change everything on "
        "this machine, the server's data directory and every project's files included");
    return users;
  }
  users.switches_ = true;
  StatusOr<std::optional<IdRange>> uids =
      FindSubordinateRange(options.subuid_file, account->name, account->uid);
  if (!uids.ok()) return uids.status();
  StatusOr<std::optional<IdRange>> gids =
      FindSubordinateRange(options.subgid_file, account->name, account->uid);
  if (!gids.ok()) return gids.status();
  if (*uids && *gids) {
    users.uids_ = **uids;
    users.gids_ = **gids;
    return users;
  }
  std::string missing = !*uids && !*gids ? options.subuid_file + " and " + options.subgid_file
                        : !*uids         ? options.subuid_file
                                         : options.subgid_file;
  users.warnings_.push_back(
      "the job user " + Describe(users.user_, users.uid_) + " has no subordinate id range in " +
      missing +
      ": the jobs of every project run as this one uid and can reach each other's "
      "workspaces while they run. Give it a range in both files (scripts/install-deps.sh does) "
      "so that each project runs as its own uid");
  return users;
}

StatusOr<JobUsers> JobUsers::Self() {
  std::optional<Account> self = FromPasswd(nullptr, geteuid());
  if (!self) {
    return Status::Error("the uid " + std::to_string(geteuid()) +
                         " has no entry in the user database");
  }
  JobUsers own;
  own.user_ = self->name;
  own.uid_ = self->uid;
  own.gid_ = self->gid;
  return own;
}

StatusOr<JobIdentity> JobUsers::ForProject(int64_t project_id) const {
  JobIdentity identity;
  identity.user = user_;
  identity.uid = uid_;
  identity.gid = gid_;
  if (!uids_) return identity;
  if (project_id < 1 || uint64_t(project_id) >= uids_->count ||
      uint64_t(project_id) >= gids_->count) {
    return Status::Error("project " + std::to_string(project_id) +
                         " has no uid of its own: the subordinate ranges of the job user '" +
                         user_ + "' (" + subuid_file_ + ": " + std::to_string(uids_->count) +
                         " ids, " + subgid_file_ + ": " + std::to_string(gids_->count) +
                         " ids) must hold more ids than the highest project id; widen them");
  }
  identity.uid = static_cast<uid_t>(uids_->start + static_cast<uint32_t>(project_id));
  identity.gid = static_cast<gid_t>(gids_->start + static_cast<uint32_t>(project_id));
  return identity;
}

}  // namespace slipway
