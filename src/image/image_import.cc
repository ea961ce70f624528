#include "image/image_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "image/byte_source.h"
#include "image/reference.h"
#include "util/bounded_json.h"
#include "util/sha256.h"

namespace slipway {
namespace {

using Json = nlohmann::json;

constexpr const char* kDockerConfigType = "application/vnd.docker.container.image.v1+json";
constexpr const char* kDockerLayerType = "application/vnd.docker.image.rootfs.diff.tar";

// A directory holding an image input, and how to name what is in it.
class InputDir {
 public:
  InputDir(UniqueFd fd, std::string shown) : fd_(std::move(fd)), shown_(std::move(shown)) {}

  bool Has(const std::string& rel) const {
    struct stat st;
    return fstatat(fd_.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
  }
  StatusOr<std::string> ReadSmall(const std::string& rel) const {
    if (!IsPlainRelativePath(rel))
      return Status::Error(shown_ + ": `" + rel + "` is not a plain relative path");
    return ReadFileBeneath(fd_.get(), rel, shown_ + "/" + rel, size_t{4} << 20);
  }
  // Copies rel into the blob store as digest ("" : computed first).
  StatusOr<std::string> PutBlob(BlobStore* blobs, const std::string& rel, std::string digest,
                                const std::string& what) const {
    if (!IsPlainRelativePath(rel)) {
      return Status::Error(shown_ + ": `" + rel + "` is not a plain relative path");
    }
    if (digest.empty()) {
      StatusOr<std::string> computed = Hash(rel);
      if (!computed.ok()) return computed;
      digest = *computed;
    }
    if (blobs->Has(digest)) return digest;
    StatusOr<UniqueFd> in = OpenBeneath(fd_.get(), rel, O_RDONLY, shown_ + "/" + rel);
    if (!in.ok()) return in.status();
    BlobWriter writer(blobs, digest, -1, what);
    Status s = writer.Open();
    std::vector<char> buffer(1 << 20);
    while (s.ok()) {
      ssize_t n = read(in->get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return Status::Error("cannot read " + shown_ + "/" + rel + ": " + std::strerror(errno));
      if (n == 0) break;
      s = writer.Append(std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
    if (s.ok()) s = writer.Commit();
    if (!s.ok()) return s;
    return digest;
  }
  const std::string& shown() const { return shown_; }

 private:
  StatusOr<std::string> Hash(const std::string& rel) const {
    StatusOr<UniqueFd> in = OpenBeneath(fd_.get(), rel, O_RDONLY, shown_ + "/" + rel);
    if (!in.ok()) return in.status();
    Sha256 hash;
    std::vector<char> buffer(1 << 20);
    while (true) {
      ssize_t n = read(in->get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Status::Error("cannot read " + shown_ + "/" + rel + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      hash.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
    return "sha256:" + hash.FinishHex();
  }

  UniqueFd fd_;
  std::string shown_;
};

StatusOr<std::string> Canonical(const std::string& name) {
  StatusOr<ImageReference> ref = ParseImageReference(name);
  if (!ref.ok()) return ref.status();
  return ref->Canonical();
}

Status Finish(ImageStore* store, const std::string& digest, const std::string& manifest,
              const std::string& name, const UnpackLimits& limits,
              std::vector<ImportedImage>* out) {
  StatusOr<std::string> canonical = Canonical(name);
  if (!canonical.ok()) return canonical.status();
  StatusOr<UniqueFd> lock = store->LockImage(digest);
  if (!lock.ok()) return lock.status();
  StatusOr<ImageRecord> record = store->Install(digest, manifest, *canonical, limits);
  if (!record.ok()) return record.status();
  Status tagged = store->Tag(*canonical, digest);
  if (!tagged.ok()) return tagged;
  out->push_back({*canonical, digest});
  return Status::Ok();
}

// docker save: manifest.json.
Status ImportDockerSave(ImageStore* store, const InputDir& in, const std::string& name,
                        const UnpackLimits& limits, std::vector<ImportedImage>* out) {
  StatusOr<std::string> text = in.ReadSmall("manifest.json");
  if (!text.ok()) return text.status();
  BoundedJson parsed = ParseBoundedJson(*text);
  std::string what = in.shown() + "/manifest.json";
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_array()) {
    return Status::Error(what + ": not a list of images as `docker save` writes it");
  }
  if (!name.empty() && parsed.value.size() != 1) {
    return Status::Error(what + ": --name names one image, and there are " +
                         std::to_string(parsed.value.size()));
  }
  for (const Json& image : parsed.value) {
    if (!image.is_object() || !image.contains("Config") || !image["Config"].is_string() ||
        !image.contains("Layers") || !image["Layers"].is_array()) {
      return Status::Error(what + ": an entry without Config and Layers");
    }
    std::vector<std::string> names;
    if (!name.empty()) {
      names.push_back(name);
    } else if (image.contains("RepoTags") && image["RepoTags"].is_array()) {
      for (const Json& tag : image["RepoTags"]) {
        if (tag.is_string()) names.push_back(tag.get<std::string>());
      }
    }
    if (names.empty()) {
      return Status::Error(what + ": an image without RepoTags; give it a name with --name NAME");
    }
    std::string config_rel = image["Config"].get<std::string>();
    StatusOr<std::string> config_digest =
        in.PutBlob(&store->blobs(), config_rel, "", "the config " + config_rel + " of " + names[0]);
    if (!config_digest.ok()) return config_digest.status();
    struct stat st;
    Json manifest = {{"schemaVersion", 2},
                     {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                     {"config",
                      {{"mediaType", kDockerConfigType},
                       {"digest", *config_digest},
                       {"size", stat(store->blobs().PathOf(*config_digest).c_str(), &st) == 0
                                    ? static_cast<int64_t>(st.st_size)
                                    : 0}}},
                     {"layers", Json::array()}};
    for (const Json& layer : image["Layers"]) {
      if (!layer.is_string()) return Status::Error(what + ": a layer that is not a file name");
      std::string rel = layer.get<std::string>();
      StatusOr<std::string> digest =
          in.PutBlob(&store->blobs(), rel, "", "layer " + rel + " of " + names[0]);
      if (!digest.ok()) return digest.status();
      int64_t size = stat(store->blobs().PathOf(*digest).c_str(), &st) == 0 ? st.st_size : 0;
      manifest["layers"].push_back(
          {{"mediaType", kDockerLayerType}, {"digest", *digest}, {"size", size}});
    }
    std::string body = manifest.dump();
    std::string digest = "sha256:" + Sha256Hex(body);
    for (const std::string& n : names) {
      Status done = Finish(store, digest, body, n, limits, out);
      if (!done.ok()) return done;
    }
  }
  return Status::Ok();
}

// An OCI layout: index.json.
Status ImportOciLayout(ImageStore* store, const InputDir& in, const std::string& name,
                       const UnpackLimits& limits, std::vector<ImportedImage>* out) {
  std::string what = in.shown() + "/index.json";
  StatusOr<std::string> text = in.ReadSmall("index.json");
  if (!text.ok()) return text.status();
  StatusOr<ImageIndex> index = ParseImageIndex(*text, what);
  if (!index.ok()) return index.status();
  BoundedJson raw = ParseBoundedJson(*text);
  if (!name.empty() && index->manifests.size() != 1) {
    return Status::Error(what + ": --name names one image, and there are " +
                         std::to_string(index->manifests.size()));
  }
  for (size_t i = 0; i < index->manifests.size(); ++i) {
    Descriptor d = index->manifests[i];
    std::string image_name = name;
    if (image_name.empty()) {
      const Json& annotations = raw.value["manifests"][i].value("annotations", Json::object());
      std::string full = annotations.value("io.containerd.image.name", std::string());
      std::string ref = annotations.value("org.opencontainers.image.ref.name", std::string());
      image_name = !full.empty() ? full : ref.find_first_of("/:") != std::string::npos ? ref : "";
      if (image_name.empty()) {
        return Status::Error(what + ": the image " + d.digest +
                             (ref.empty() ? "" : " (tagged `" + ref + "`)") +
                             " has no repository name; give it one with --name NAME");
      }
    }
    auto blob_rel = [](const std::string& digest) { return "blobs/sha256/" + digest.substr(7); };
    StatusOr<std::string> body = in.ReadSmall(blob_rel(d.digest));
    if (!body.ok()) return body.status();
    if ("sha256:" + Sha256Hex(*body) != d.digest) {
      return Status::Error(in.shown() + "/" + blob_rel(d.digest) +
                           " is corrupt: its content "
                           "does not have the digest its name says");
    }
    if (IsIndex(d.media_type, *body)) {
      StatusOr<ImageIndex> nested = ParseImageIndex(*body, "the index of " + image_name);
      if (!nested.ok()) return nested.status();
      StatusOr<Descriptor> chosen = SelectPlatform(*nested, "the index of " + image_name);
      if (!chosen.ok()) return chosen.status();
      d = *chosen;
      body = in.ReadSmall(blob_rel(d.digest));
      if (!body.ok()) return body.status();
      if ("sha256:" + Sha256Hex(*body) != d.digest) {
        return Status::Error(in.shown() + "/" + blob_rel(d.digest) + " is corrupt");
      }
    }
    StatusOr<ImageManifest> manifest = ParseImageManifest(*body, "the manifest of " + image_name);
    if (!manifest.ok()) return manifest.status();
    std::vector<Descriptor> blobs = manifest->layers;
    blobs.insert(blobs.begin(), manifest->config);
    for (const Descriptor& blob : blobs) {
      StatusOr<std::string> put = in.PutBlob(&store->blobs(), blob_rel(blob.digest), blob.digest,
                                             "blob " + blob.digest + " of " + image_name);
      if (!put.ok()) return put.status();
    }
    Status done = Finish(store, d.digest, *body, image_name, limits, out);
    if (!done.ok()) return done;
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<ImportedImage>> ImportImages(ImageStore* store, const std::string& path,
                                                  const std::string& name,
                                                  const UnpackLimits& limits) {
  StatusOr<UniqueFd> store_lock = store->LockStore(false);
  if (!store_lock.ok()) return store_lock.status();
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status::Error("cannot import " + path + ": " + std::strerror(errno));
  }
  std::string unpacked;
  std::string dir = path;
  if (!S_ISDIR(st.st_mode)) {
    StatusOr<std::string> temp = MakeTempPath(store->dir(), "import");
    if (!temp.ok()) return temp.status();
    unpacked = *temp;
    if (mkdir(unpacked.c_str(), 0700) != 0) {
      return Status::Error("cannot create " + unpacked + ": " + std::strerror(errno));
    }
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Error("cannot import " + path + ": " + std::strerror(errno));
    DecompressingSource source(std::make_unique<FdSource>(UniqueFd(fd), path), path,
                               limits.max_bytes);
    StatusOr<UniqueFd> root = OpenDirNoFollow(unpacked);
    UnpackStats stats;
    Status s = root.ok() ? ApplyLayer(root->get(), unpacked, &source, path, limits, &stats)
                         : root.status();
    if (!s.ok()) {
      (void)RemoveTree(unpacked);
      return Status::Error("cannot import " + path + ": " + s.message());
    }
    dir = unpacked;
  }
  std::vector<ImportedImage> imported;
  Status s;
  StatusOr<UniqueFd> fd = OpenDirNoFollow(dir);
  if (!fd.ok()) {
    s = fd.status();
  } else {
    InputDir in(std::move(*fd), path);
    if (in.Has("manifest.json")) {
      s = ImportDockerSave(store, in, name, limits, &imported);
    } else if (in.Has("index.json")) {
      s = ImportOciLayout(store, in, name, limits, &imported);
    } else {
      s = Status::Error(path +
                        " is neither an OCI image layout (index.json) nor `docker save` "
                        "output (manifest.json)");
    }
  }
  if (!unpacked.empty()) (void)RemoveTree(unpacked);
  if (!s.ok()) return Status::Error("cannot import " + path + ": " + s.message());
  return imported;
}

}  // namespace slipway
