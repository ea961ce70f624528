#include "image/manifest.h"

#include <sys/utsname.h>

#include "image/reference.h"
#include "util/bounded_json.h"

namespace slipway {
namespace {

using Json = nlohmann::json;

StatusOr<Json> ParseObject(const std::string& body, const std::string& what) {
  BoundedJson parsed = ParseBoundedJson(body);
  if (parsed.error == JsonParseError::kTooDeep) {
    return Status::Error(what + ": nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object()) {
    return Status::Error(what + ": not a JSON object");
  }
  return std::move(parsed.value);
}

std::string StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A list of strings, or an error; null and absent are empty.
Status StringList(const Json& object, const char* key, const std::string& what,
                  std::vector<std::string>* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return Status::Error(what + ": " + key + " is not a list of strings");
  for (const Json& item : *it) {
    if (!item.is_string()) return Status::Error(what + ": " + key + " is not a list of strings");
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

StatusOr<Descriptor> ParseDescriptor(const Json& json, const std::string& what) {
  if (!json.is_object()) return Status::Error(what + ": a descriptor is not an object");
  Descriptor d;
  d.media_type = StringField(json, "mediaType");
  d.digest = StringField(json, "digest");
  if (!IsSha256Digest(d.digest)) {
    return Status::Error(what + ": `" + d.digest.substr(0, 80) +
                         "` is not a sha256 digest (sha256: and 64 lower-case hex digits)");
  }
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return Status::Error(what + ": the descriptor of " + d.digest + " has no valid size");
  }
  d.size = size->get<int64_t>();
  auto platform = json.find("platform");
  if (platform != json.end() && platform->is_object()) {
    d.os = StringField(*platform, "os");
    d.architecture = StringField(*platform, "architecture");
    d.variant = StringField(*platform, "variant");
  }
  return d;
}

}  // namespace

std::string ManifestAcceptHeader() {
  return std::string(kOciIndex) + ", " + kDockerManifestList + ", " + kOciManifest + ", " +
         kDockerManifest;
}

bool IsIndex(const std::string& media_type, const std::string& body) {
  if (media_type.rfind(kOciIndex, 0) == 0 || media_type.rfind(kDockerManifestList, 0) == 0) {
    return true;
  }
  if (media_type.rfind(kOciManifest, 0) == 0 || media_type.rfind(kDockerManifest, 0) == 0) {
    return false;
  }
  BoundedJson parsed = ParseBoundedJson(body);
  return parsed.error == JsonParseError::kNone && parsed.value.is_object() &&
         parsed.value.contains("manifests") && !parsed.value.contains("layers");
}

StatusOr<ImageIndex> ParseImageIndex(const std::string& body, const std::string& what) {
  StatusOr<Json> json = ParseObject(body, what);
  if (!json.ok()) return json.status();
  auto list = json->find("manifests");
  if (list == json->end() || !list->is_array()) {
    return Status::Error(what + ": an index without a list of manifests");
  }
  ImageIndex index;
  for (const Json& entry : *list) {
    StatusOr<Descriptor> d = ParseDescriptor(entry, what);
    if (!d.ok()) return d.status();
    index.manifests.push_back(std::move(*d));
  }
  return index;
}

StatusOr<ImageManifest> ParseImageManifest(const std::string& body, const std::string& what) {
  StatusOr<Json> json = ParseObject(body, what);
  if (!json.ok()) return json.status();
  auto version = json->find("schemaVersion");
  if (version != json->end() && version->is_number_integer() && version->get<int>() == 1) {
    return Status::Error(what +
                         ": Docker's manifest schema 1 is not supported (push the image "
                         "again with a current client)");
  }
  auto config = json->find("config");
  auto layers = json->find("layers");
  if (config == json->end() || layers == json->end() || !layers->is_array()) {
    return Status::Error(what + ": a manifest without config and layers");
  }
  ImageManifest manifest;
  StatusOr<Descriptor> c = ParseDescriptor(*config, what);
  if (!c.ok()) return c.status();
  manifest.config = std::move(*c);
  for (const Json& entry : *layers) {
    StatusOr<Descriptor> d = ParseDescriptor(entry, what);
    if (!d.ok()) return d.status();
    manifest.layers.push_back(std::move(*d));
  }
  return manifest;
}

StatusOr<ImageConfig> ParseImageConfig(const std::string& body, const std::string& what) {
  StatusOr<Json> json = ParseObject(body, what);
  if (!json.ok()) return json.status();
  ImageConfig image;
  image.os = StringField(*json, "os");
  image.architecture = StringField(*json, "architecture");
  auto config = json->find("config");
  if (config != json->end() && config->is_object()) {
    const std::pair<const char*, std::vector<std::string>*> lists[] = {
        {"Env", &image.env}, {"Entrypoint", &image.entrypoint}, {"Cmd", &image.cmd}};
    for (const auto& [key, out] : lists) {
      Status listed = StringList(*config, key, what, out);
      if (!listed.ok()) return listed;
    }
    image.working_dir = StringField(*config, "WorkingDir");
    image.user = StringField(*config, "User");
  }
  auto rootfs = json->find("rootfs");
  if (rootfs != json->end() && rootfs->is_object()) {
    Status listed = StringList(*rootfs, "diff_ids", what, &image.diff_ids);
    if (!listed.ok()) return listed;
  }
  return image;
}

std::string HostArchitecture() {
  utsname name{};
  uname(&name);
  std::string machine = name.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine.rfind("arm", 0) == 0) return "arm";
  if (machine == "i386" || machine == "i686") return "386";
  return machine;  // ppc64le, s390x, riscv64 are named alike.
}

StatusOr<Descriptor> SelectPlatform(const ImageIndex& index, const std::string& what) {
  std::string arch = HostArchitecture();
  std::string have;
  for (const Descriptor& d : index.manifests) {
    if (d.os == "linux" && d.architecture == arch) return d;
    if (d.os.empty() && d.architecture.empty()) continue;  // Attestations and the like.
    if (!have.empty()) have += ", ";
    have += d.os + "/" + d.architecture + (d.variant.empty() ? "" : "/" + d.variant);
  }
  return Status::Error(what + ": no manifest for linux/" + arch +
                       (have.empty() ? std::string(" in the index") : " (it has " + have + ")"));
}

}  // namespace slipway
