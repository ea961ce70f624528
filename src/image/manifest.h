// The JSON documents of an image as registries serve them: an index (OCI
// image index or Docker manifest list) that names one manifest per
// platform, a manifest (OCI or Docker schema 2) that names the config and
// the layers, and the config whose Env, WorkingDir, User, Entrypoint and
// Cmd a job honours. Parsing is bounded (util/bounded_json.h) and every
// descriptor's digest is checked for form, since it becomes a file name.
#ifndef SLIPWAY_IMAGE_MANIFEST_H_
#define SLIPWAY_IMAGE_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace slipway {

inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
// The Accept header of a manifest request: every kind above.
std::string ManifestAcceptHeader();

struct Descriptor {
  std::string media_type;
  std::string digest;  // Checked: IsSha256Digest.
  int64_t size = 0;
  std::string os, architecture, variant;  // Of an index entry.
};

struct ImageIndex {
  std::vector<Descriptor> manifests;
};

struct ImageManifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct ImageConfig {
  std::string os, architecture;
  std::vector<std::string> env, entrypoint, cmd;
  std::string working_dir, user;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids, one per layer.
};

// Whether body (served as media_type, which may be empty or wrong: old
// registries send "application/json") is an index rather than a manifest.
// An index has "manifests", a manifest "layers".
bool IsIndex(const std::string& media_type, const std::string& body);

// Errors say what is wrong, prefixed by what ("manifest of alpine:3.19: ").
StatusOr<ImageIndex> ParseImageIndex(const std::string& body, const std::string& what);
StatusOr<ImageManifest> ParseImageManifest(const std::string& body, const std::string& what);
StatusOr<ImageConfig> ParseImageConfig(const std::string& body, const std::string& what);

// The platform images run on here, as an index names it: "linux" and
// "amd64" / "arm64" / ... from uname's machine.
std::string HostArchitecture();
// The entry of index for linux and HostArchitecture(), or an error listing
// the platforms it has.
StatusOr<Descriptor> SelectPlatform(const ImageIndex& index, const std::string& what);

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_MANIFEST_H_
