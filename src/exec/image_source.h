// Where an executor that runs jobs in a container image (the sandbox
// executor) gets the image's root file system from. The executor depends on
// this interface only; the registry client and the content-addressed image
// store (src/image/) implement it, and the front ends (`run`, `serve`) give
// the executor one. Tests of the executor may give one that serves a root
// file system they built themselves.
#ifndef SLIPWAY_EXEC_IMAGE_SOURCE_H_
#define SLIPWAY_EXEC_IMAGE_SOURCE_H_

#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace slipway {

// GitLab's `image:` (and a `services:` entry's image) as the executor asks
// for it: the name with its tag or digest ("alpine:3.19",
// "registry.example.com:5000/group/tool@sha256:..."; a name without a tag
// means ":latest"), and `pull_policy`.
struct ImageRequest {
  std::string name;
  // "always", "if-not-present" or "never"; empty: GitLab Runner's default,
  // "always" (the registry is asked for the tag's current manifest, and
  // nothing is downloaded again that the store already holds).
  std::string pull_policy;
  // Set: polled while the image is pulled and unpacked; once it returns true
  // Resolve stops promptly with an error, keeping nothing of the pull but
  // whole, verified blobs. It may be called from several threads at once
  // (a pull downloads and unpacks at the same time). The sandbox sets it
  // from the job's cancel token and timeout (OpenLimits).
  std::function<bool()> canceled = nullptr;
};

// An image ready to run: its unpacked root file system and the parts of its
// configuration a job honours (GitLab Runner's docker executor uses Env,
// WorkingDir, User, Entrypoint and Cmd).
struct ResolvedImage {
  // Unpacked root file system. Shared by every job and run that uses the
  // image and never modified: an executor must mount it read-only and give
  // each job its own writable layer on top.
  std::string rootfs;
  std::string digest;            // The manifest's digest, "sha256:<hex>".
  std::string reference;         // The name as resolved: "registry/repo:tag" or "...@sha256:...".
  std::vector<std::string> env;  // "NAME=value", in the image's order.
  std::string working_dir;       // Empty: "/".
  std::string user;              // Empty: root. "uid", "uid:gid", "name" or "name:group".
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
};

// Receives progress lines for the job's log ("Pulling docker image
// alpine:3.19 ...", "Using docker image sha256:... for alpine:3.19 ...").
using ImageLogFn = std::function<void(const std::string& line)>;

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // Returns the image, pulling what the store lacks as the policy says.
  // Thread-safe: several jobs may ask at once, also for the same image (it
  // is pulled once). Errors name the image and say what the registry
  // answered ("pull access denied", "manifest unknown", a digest mismatch).
  virtual StatusOr<ResolvedImage> Resolve(const ImageRequest& request, const ImageLogFn& log) = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_IMAGE_SOURCE_H_
