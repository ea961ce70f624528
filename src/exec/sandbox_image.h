// What a sandboxed job with `image:` runs in: GitLab's image: keyword read
// into a request for an ImageSource, the job's own writable layer over the
// image's shared, read-only root file system, and the environment, user and
// command line the image's configuration asks for (docs/sandbox.md).
#ifndef SLIPWAY_EXEC_SANDBOX_IMAGE_H_
#define SLIPWAY_EXEC_SANDBOX_IMAGE_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/node.h"
#include "config/variables.h"
#include "exec/image_source.h"
#include "util/status.h"

namespace slipway {

// image: as GitLab documents it: a name, or a map with name, entrypoint,
// pull_policy and docker: {user, platform}. The name is expanded with the
// job's variables.
struct ImageKeyword {
  ImageRequest request;
  // image:entrypoint; set and empty ([""] or []): none, not the image's.
  std::optional<std::vector<std::string>> entrypoint;
  std::string user;  // image:docker:user; empty: the image's.
};

// Reads node (the job's image:); an error names the key and its position.
StatusOr<ImageKeyword> ParseImageKeyword(const Node& node, const VariableList& variables);

// The job's writable layer: kernel overlayfs (lower: the image's rootfs,
// upper and work under dir) mounted at dir/root when slipway may mount
// (root); else none, and the sandbox binds the rootfs read-only with tmpfs
// on the directories jobs write to (writable_dirs). Unmounts on destruction.
class SandboxLayer {
 public:
  // dir must exist and be empty; it is the caller's to remove afterwards.
  static StatusOr<std::unique_ptr<SandboxLayer>> Make(const std::string& rootfs,
                                                      const std::string& dir);
  ~SandboxLayer();
  // Unmounts the overlay (once); false if it is still mounted.
  bool Unmount();
  SandboxLayer(const SandboxLayer&) = delete;
  SandboxLayer& operator=(const SandboxLayer&) = delete;

  // What / is: the overlay's mount point, or the rootfs itself.
  const std::string& root() const { return root_; }
  // true: root() is writable; false: read-only, see writable_dirs.
  bool overlay() const { return overlay_; }
  // Without an overlay, the image directories covered with tmpfs.
  static const std::vector<std::string>& writable_dirs();

 private:
  SandboxLayer(std::string root, bool overlay) : root_(std::move(root)), overlay_(overlay) {}
  std::string root_;
  bool overlay_;
};

// The job's user in the image: numeric uid and gid from "uid", "uid:gid",
// "name" or "name:group" looked up in the rootfs's /etc/passwd and
// /etc/group. An unknown name is an error naming it.
struct ImageUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home = "/root";
  std::string name = "root";
};
StatusOr<ImageUser> ResolveImageUser(const std::string& rootfs, const std::string& user);

// The environment of a process in the image: the image's Env, then job_env
// (which wins) without the variables slipway took from its own environment
// (host_taken: PATH, LANG ...; the image's apply instead). PATH defaults to
// Docker's when neither sets it; HOME to the user's.
std::vector<std::string> ImageEnvironment(const std::vector<std::string>& image_env,
                                          const std::vector<std::string>& job_env,
                                          const std::vector<std::string>& host_taken,
                                          const ImageUser& user);

// How the script runs in the image: GitLab Runner's shell detection (bash
// where the image has it, else sh) run through the entrypoint, script being
// the script's path.
std::vector<std::string> ImageScriptArgv(const std::vector<std::string>& entrypoint,
                                         const std::string& script);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_IMAGE_H_
