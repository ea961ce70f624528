#include "exec/sandbox_image.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"

namespace slipway {
namespace {

Status KeyError(const Node& node, const std::string& key, const std::string& what) {
  return Status::Error(node.mark.ToString() + ": " + key + " " + what);
}

StatusOr<std::vector<std::string>> StringList(const Node& node, const std::string& key) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.scalar);
    return out;
  }
  if (!node.IsSequence()) return KeyError(node, key, "must be a string or a list of strings");
  for (const Node& item : node.items) {
    if (!item.IsScalar()) return KeyError(item, key, "must be a list of strings");
    out.push_back(item.scalar);
  }
  return out;
}

// The entries of an /etc/passwd or /etc/group style file of the image,
// split at ':'. Read beneath the rootfs without following a link and at
// most 1 MiB: the image's files are its author's (a link to /dev/zero or to
// the host's /etc/passwd is no file of the image).
std::vector<std::vector<std::string>> ColonFile(const std::string& rootfs, const std::string& rel) {
  std::vector<std::vector<std::string>> rows;
  StatusOr<UniqueFd> root = OpenDirNoFollow(rootfs);
  if (!root.ok()) return rows;
  StatusOr<std::string> text = ReadFileBeneath(root->get(), rel, rootfs + "/" + rel, 1 << 20);
  if (!text.ok()) return rows;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    std::string field;
    while (std::getline(split, field, ':')) fields.push_back(field);
    if (fields.size() >= 3) rows.push_back(std::move(fields));
  }
  return rows;
}

std::optional<unsigned long> Number(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9) {
    return std::nullopt;
  }
  return std::stoul(s);
}

std::string NameOf(const std::string& entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

StatusOr<ImageKeyword> ParseImageKeyword(const Node& node, const VariableList& variables) {
  ImageKeyword out;
  const Node* name = &node;
  if (node.IsMap()) {
    name = node.Find("name");
    if (name == nullptr) return KeyError(node, "image:", "needs a name");
    if (const Node* entrypoint = node.Find("entrypoint")) {
      StatusOr<std::vector<std::string>> list = StringList(*entrypoint, "image:entrypoint");
      if (!list.ok()) return list.status();
      if (list->size() == 1 && list->front().empty()) list->clear();
      out.entrypoint = std::move(*list);
    }
    if (const Node* policy = node.Find("pull_policy")) {
      StatusOr<std::vector<std::string>> list = StringList(*policy, "image:pull_policy");
      if (!list.ok()) return list.status();
      // Several policies: the runner may use any; the first is the preferred.
      if (!list->empty()) out.request.pull_policy = list->front();
    }
    if (const Node* docker = node.Find("docker"); docker != nullptr && docker->IsMap()) {
      if (const Node* user = docker->Find("user")) {
        if (!user->IsScalar()) return KeyError(*user, "image:docker:user", "must be a string");
        out.user = ExpandVariables(user->scalar, variables);
      }
    }
  }
  if (!name->IsScalar()) return KeyError(*name, "image:name", "must be a string");
  out.request.name = ExpandVariables(name->scalar, variables);
  if (out.request.name.empty()) return KeyError(*name, "image:name", "is empty");
  return out;
}

const std::vector<std::string>& SandboxLayer::writable_dirs() {
  static const std::vector<std::string> kDirs = {"/root",      "/home",    "/var/tmp", "/var/cache",
                                                 "/var/lib",   "/var/log", "/run",     "/opt",
                                                 "/usr/local", "/srv"};
  return kDirs;
}

StatusOr<std::unique_ptr<SandboxLayer>> SandboxLayer::Make(const std::string& rootfs,
                                                           const std::string& dir) {
  std::string upper = dir + "/upper", work = dir + "/work", root = dir + "/root";
  // 0755 whatever the umask: the overlay's root takes the upper
  // directory's mode, and a job that runs as another user must traverse it.
  for (const std::string& d : {upper, work, root}) {
    if (Status made = MakeDirWithMode(d, 0755); !made.ok()) return made;
  }
  // Only the directory names reach the kernel's option parser; ',' and ':'
  // in them would be read as separators.
  if (rootfs.find_first_of(",:") != std::string::npos ||
      dir.find_first_of(",:") != std::string::npos) {
    return Status::Error("cannot mount an overlay on " + rootfs + ": ',' or ':' in the path");
  }
  std::string data = "lowerdir=" + rootfs + ",upperdir=" + upper + ",workdir=" + work;
  if (mount("overlay", root.c_str(), "overlay", MS_NODEV | MS_NOSUID, data.c_str()) == 0) {
    return std::unique_ptr<SandboxLayer>(new SandboxLayer(root, true));
  }
  if (errno != EPERM) {
    return Status::Error("cannot mount an overlay on " + rootfs + ": " + std::strerror(errno));
  }
  return std::unique_ptr<SandboxLayer>(new SandboxLayer(rootfs, false));
}

SandboxLayer::~SandboxLayer() { Unmount(); }

bool SandboxLayer::Unmount() {
  // MNT_DETACH: a process of the job that is still being torn down keeps
  // the mount busy for a moment; the kernel finishes once it is gone.
  if (overlay_ && umount2(root_.c_str(), MNT_DETACH) != 0 && errno != EINVAL) return false;
  overlay_ = false;
  return true;
}

StatusOr<ImageUser> ResolveImageUser(const std::string& rootfs, const std::string& user) {
  ImageUser out;
  if (user.empty()) return out;
  std::string name = user.substr(0, user.find(':'));
  std::string group = user.find(':') == std::string::npos ? "" : user.substr(user.find(':') + 1);
  bool found = false;
  for (const std::vector<std::string>& row : ColonFile(rootfs, "etc/passwd")) {
    if (row.size() < 4 || (row[0] != name && row[2] != name)) continue;
    std::optional<unsigned long> uid = Number(row[2]), gid = Number(row[3]);
    if (!uid || !gid) continue;
    out.uid = *uid;
    out.gid = *gid;
    out.name = row[0];
    if (row.size() >= 6 && !row[5].empty()) out.home = row[5];
    found = true;
    break;
  }
  if (!found) {
    std::optional<unsigned long> uid = Number(name);
    if (!uid) return Status::Error("user " + name + " is not in the image's /etc/passwd");
    out.uid = out.gid = *uid;
    out.name.assign(name);
    out.home.assign(1, '/');
  }
  if (!group.empty()) {
    std::optional<unsigned long> gid = Number(group);
    for (const std::vector<std::string>& row : ColonFile(rootfs, "etc/group")) {
      if (row[0] == group) gid = Number(row[2]);
    }
    if (!gid) return Status::Error("group " + group + " is not in the image's /etc/group");
    out.gid = *gid;
  }
  return out;
}

std::vector<std::string> ImageEnvironment(const std::vector<std::string>& image_env,
                                          const std::vector<std::string>& job_env,
                                          const std::vector<std::string>& host_taken,
                                          const ImageUser& user) {
  std::set<std::string> from_job;
  std::vector<std::string> job_part;
  for (const std::string& entry : job_env) {
    bool taken = false;
    for (const std::string& host : host_taken) taken = taken || entry == host;
    if (taken) continue;
    from_job.insert(NameOf(entry));
    job_part.push_back(entry);
  }
  std::vector<std::string> env;
  std::set<std::string> names;
  for (const std::string& entry : image_env) {
    if (from_job.count(NameOf(entry)) == 0 && names.insert(NameOf(entry)).second) {
      env.push_back(entry);
    }
  }
  for (const std::string& entry : job_part) names.insert(NameOf(entry));
  env.insert(env.end(), job_part.begin(), job_part.end());
  if (names.count("PATH") == 0) {
    env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }
  if (names.count("HOME") == 0) env.push_back("HOME=" + user.home);
  return env;
}

std::vector<std::string> ImageScriptArgv(const std::vector<std::string>& entrypoint,
                                         const std::string& script) {
  // As GitLab Runner's docker executor: the first bash the image has, else
  // sh; the script is the shell's argument, so either reads it the same way.
  static const char kDetect[] =
      "for s in /usr/local/bin/bash /usr/bin/bash /bin/bash; do\n"
      "  if [ -x \"$s\" ]; then exec \"$s\" --noprofile --norc \"$@\"; fi\n"
      "done\n"
      "exec sh \"$@\"\n";
  std::vector<std::string> argv = entrypoint;
  argv.insert(argv.end(), {"/bin/sh", "-c", kDetect, "sh", script});
  return argv;
}

}  // namespace slipway
