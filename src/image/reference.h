// Image names as `image:` gives them, split into the registry to ask, the
// repository and the tag or digest, with Docker's rules for the short names
// of Docker Hub ("alpine" is registry-1.docker.io/library/alpine:latest).
#ifndef SLIPWAY_IMAGE_REFERENCE_H_
#define SLIPWAY_IMAGE_REFERENCE_H_

#include <string>

#include "util/status.h"

namespace slipway {

// Docker Hub's names: how users write it, and the host its API is on.
inline constexpr const char* kDockerHubDomain = "docker.io";
inline constexpr const char* kDockerHubRegistry = "registry-1.docker.io";

struct ImageReference {
  // The host (and port) whose /v2/ API serves the image:
  // "registry-1.docker.io", "registry.example.com:5000", "127.0.0.1:5000".
  std::string registry;
  std::string repository;  // "library/alpine", "group/project/tool".
  std::string tag;         // "latest" when neither a tag nor a digest is given.
  std::string digest;      // "sha256:<64 hex>", or empty.

  // What the manifest is asked for by: the digest when there is one.
  std::string ManifestRef() const { return digest.empty() ? tag : digest; }
  // The canonical name: "registry-1.docker.io/library/alpine:3.19", with
  // "@sha256:..." instead of (or after) the tag when a digest was given.
  std::string Canonical() const;
  // "registry/repository", without tag or digest.
  std::string Repo() const { return registry + "/" + repository; }
};

// Parses name as Docker does: the first component is a registry host when
// it has a '.' or a ':' or is "localhost"; otherwise the image is on Docker
// Hub, where a single component is under "library/". "name:tag",
// "name@sha256:hex" and "name:tag@sha256:hex" (the digest wins). Errors
// quote name and say what is wrong (upper case in a repository, an empty
// component, a digest that is not sha256 with 64 hex digits).
StatusOr<ImageReference> ParseImageReference(const std::string& name);

// True for "sha256:" and 64 lower-case hex digits.
bool IsSha256Digest(const std::string& digest);

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_REFERENCE_H_
