#include "image/image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>

#include "exec/file_tree.h"
#include "image/byte_source.h"
#include "image/read_ahead_source.h"
#include "image/reference.h"
#include "util/bounded_json.h"

namespace slipway {
namespace {

using Json = nlohmann::json;

Status Errno(const std::string& what, const std::string& path) {
  return Status::Error("cannot " + what + " " + path + ": " + std::strerror(errno));
}

std::string Hex(const std::string& digest) { return digest.substr(7); }

Json RecordToJson(const ImageRecord& r) {
  return Json{{"digest", r.digest},
              {"reference", r.reference},
              {"config_digest", r.config_digest},
              {"layers", r.layers},
              {"size", r.size},
              {"created", r.created},
              {"env", r.env},
              {"entrypoint", r.entrypoint},
              {"cmd", r.cmd},
              {"working_dir", r.working_dir},
              {"user", r.user},
              {"unsynced_boot", r.unsynced_boot}};
}

std::optional<ImageRecord> RecordFromJson(const std::string& text) {
  BoundedJson parsed = ParseBoundedJson(text);
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object()) return std::nullopt;
  try {
    const Json& j = parsed.value;
    ImageRecord r;
    r.digest = j.at("digest").get<std::string>();
    r.reference = j.at("reference").get<std::string>();
    r.config_digest = j.at("config_digest").get<std::string>();
    r.layers = j.at("layers").get<std::vector<std::string>>();
    r.size = j.at("size").get<int64_t>();
    r.created = j.at("created").get<int64_t>();
    r.env = j.at("env").get<std::vector<std::string>>();
    r.entrypoint = j.at("entrypoint").get<std::vector<std::string>>();
    r.cmd = j.at("cmd").get<std::vector<std::string>>();
    r.working_dir = j.at("working_dir").get<std::string>();
    r.user = j.at("user").get<std::string>();
    r.unsynced_boot = j.value("unsynced_boot", std::string());  // Absent before 2026-12.
    if (!IsSha256Digest(r.digest) || !IsSha256Digest(r.config_digest)) return std::nullopt;
    for (const std::string& l : r.layers) {
      if (!IsSha256Digest(l)) return std::nullopt;
    }
    return r;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

// Moves path into tmp/ and removes it there, so that it disappears at once
// for everyone else.
Status Discard(const std::string& store_dir, const std::string& path) {
  StatusOr<std::string> temp = MakeTempPath(store_dir, "discard");
  if (!temp.ok()) return temp.status();
  if (rename(path.c_str(), temp->c_str()) != 0) {
    return errno == ENOENT ? Status::Ok() : Errno("remove", path);
  }
  return RemoveTree(*temp);
}

// This boot's id, or "" when the kernel does not say.
const std::string& BootId() {
  static const std::string id = [] {
    StatusOr<std::string> text = ReadFile("/proc/sys/kernel/random/boot_id", 256);
    std::string out = text.ok() ? *text : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }();
  return id;
}

// Marks dir as the top of directory hierarchies (chattr +T): ext2/3/4's
// Orlov allocator then gives each directory made in it a block group of its
// own instead of dir's. Each root file system unpacked in tmp/ is such a
// hierarchy, and the store's own group is where a prune, an rm or an earlier
// unpack has just freed thousands of inodes: ext4 without a journal skips
// every inode freed in the last minutes, one by one, on each create
// (recently_deleted), which made unpacking 3,000 files cost seconds of
// system time on such a disk (docs/benchmarks.md). A hint only: a file
// system without the flag, or a refusal, changes nothing.
void MarkTopDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  UniqueFd owned(fd);
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0 || (flags & FS_TOPDIR_FL) != 0) return;
  flags |= FS_TOPDIR_FL;
  (void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

}  // namespace

std::string ImageStore::DefaultDir() {
  const char* cache = std::getenv("XDG_CACHE_HOME");
  if (cache != nullptr && *cache == '/') return std::string(cache) + "/slipway/images";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/tmp") + "/.cache/slipway/images";
}

StatusOr<std::unique_ptr<ImageStore>> ImageStore::Open(const std::string& dir) {
  for (const char* sub : {"/blobs/sha256", "/images", "/rootfs", "/locks", "/tmp"}) {
    Status made = MakeDirs(dir + sub);
    if (!made.ok()) return Status::Error("cannot open the image store: " + made.message());
  }
  return std::unique_ptr<ImageStore>(new ImageStore(dir));
}

StatusOr<UniqueFd> ImageStore::LockFile(const std::string& path, bool exclusive,
                                        const std::function<bool()>& canceled) const {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open the lock", path);
  UniqueFd owned(fd);
  int how = exclusive ? LOCK_EX : LOCK_SH;
  // Without canceled, a blocking wait; with it, a try every 20 ms (flock
  // cannot be woken otherwise), as the registry requests poll it.
  while (flock(fd, canceled ? how | LOCK_NB : how) != 0) {
    if (errno == EWOULDBLOCK && canceled) {
      if (canceled()) return Status::Error("waiting for the lock " + path + " was canceled");
      usleep(20 * 1000);
    } else if (errno != EINTR) {
      return Errno("lock", path);
    }
  }
  return owned;
}

StatusOr<UniqueFd> ImageStore::LockStore(bool exclusive,
                                         const std::function<bool()>& canceled) const {
  return LockFile(dir_ + "/lock", exclusive, canceled);
}

StatusOr<UniqueFd> ImageStore::LockImage(const std::string& digest,
                                         const std::function<bool()>& canceled) const {
  return LockFile(dir_ + "/locks/" + Hex(digest) + ".lock", true, canceled);
}

std::string ImageStore::RootfsOf(const std::string& digest) const {
  return dir_ + "/rootfs/" + Hex(digest);
}

std::optional<ImageRecord> ImageStore::ReadRecord(const std::string& digest) const {
  if (!IsSha256Digest(digest)) return std::nullopt;
  StatusOr<std::string> text = ReadFile(dir_ + "/images/" + Hex(digest) + ".json", 1 << 20);
  if (!text.ok()) return std::nullopt;
  std::optional<ImageRecord> record = RecordFromJson(*text);
  if (!record || record->digest != digest) return std::nullopt;
  return record;
}

std::optional<ImageRecord> ImageStore::Find(const std::string& digest) const {
  std::optional<ImageRecord> record = ReadRecord(digest);
  struct stat st;
  if (!record || stat(RootfsOf(digest).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return std::nullopt;
  }
  // Unpacked without a sync in another boot: what reached the disk is unknown.
  if (!record->unsynced_boot.empty() && record->unsynced_boot != BootId()) return std::nullopt;
  return record;
}

std::map<std::string, std::string> ImageStore::Refs() const {
  std::map<std::string, std::string> refs;
  StatusOr<std::string> text = ReadFile(dir_ + "/refs.json", 16 << 20);
  if (!text.ok()) return refs;
  BoundedJson parsed = ParseBoundedJson(*text);
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object()) return refs;
  auto list = parsed.value.find("refs");
  if (list == parsed.value.end() || !list->is_object()) return refs;
  for (auto it = list->begin(); it != list->end(); ++it) {
    if (it.value().is_string() && IsSha256Digest(it.value().get<std::string>())) {
      refs[it.key()] = it.value().get<std::string>();
    }
  }
  return refs;
}

std::string ImageStore::Lookup(const std::string& name) const {
  auto refs = Refs();
  auto it = refs.find(name);
  return it == refs.end() ? "" : it->second;
}

Status ImageStore::WriteRefs(const std::map<std::string, std::string>& refs) {
  Json j = {{"refs", Json::object()}};
  for (const auto& [name, digest] : refs) j["refs"][name] = digest;
  return WriteFileAtomically(dir_ + "/refs.json", j.dump(2) + "\n");
}

Status ImageStore::Tag(const std::string& name, const std::string& digest) {
  StatusOr<UniqueFd> lock = LockFile(dir_ + "/locks/refs.lock", true);
  if (!lock.ok()) return lock.status();
  auto refs = Refs();
  if (refs[name] == digest) return Status::Ok();
  refs[name] = digest;
  return WriteRefs(refs);
}

ResolvedImage ImageStore::ToResolved(const ImageRecord& record,
                                     const std::string& reference) const {
  ResolvedImage image;
  image.rootfs = RootfsOf(record.digest);
  image.digest = record.digest;
  image.reference = reference;
  image.env = record.env;
  image.working_dir = record.working_dir;
  image.user = record.user;
  image.entrypoint = record.entrypoint;
  image.cmd = record.cmd;
  return image;
}

StatusOr<ImageRecord> ImageStore::Install(const std::string& digest,
                                          const std::string& manifest_body,
                                          const std::string& reference, const UnpackLimits& limits,
                                          const LayerFeed* feed,
                                          const std::function<bool()>& canceled) {
  if (std::optional<ImageRecord> present = Find(digest)) return *present;

  std::string what = "the manifest of " + reference;
  StatusOr<ImageManifest> manifest = ParseImageManifest(manifest_body, what);
  if (!manifest.ok()) return manifest.status();
  Status stored = blobs_.Put(digest, manifest_body, what);
  if (!stored.ok()) return stored;
  StatusOr<std::string> config_text = blobs_.ReadSmall(manifest->config.digest);
  if (!config_text.ok()) return config_text.status();
  StatusOr<ImageConfig> config = ParseImageConfig(*config_text, "the config of " + reference);
  if (!config.ok()) return config.status();

  ImageRecord record;
  record.digest = digest;
  record.reference = reference;
  record.config_digest = manifest->config.digest;
  record.created = static_cast<int64_t>(std::time(nullptr));
  record.env = config->env;
  record.entrypoint = config->entrypoint;
  record.cmd = config->cmd;
  record.working_dir = config->working_dir;
  record.user = config->user;

  // Unpacked beside the store, renamed into place when whole.
  StatusOr<std::string> temp = MakeTempPath(dir_, "rootfs");
  if (!temp.ok()) return temp.status();
  MarkTopDir(dir_ + "/tmp");
  // 0755 whatever the umask: the image's / as a job of another user sees it.
  if (Status made = MakeDirWithMode(*temp, 0755); !made.ok()) return made;
  auto fail = [&](const Status& why) {
    (void)RemoveTree(*temp);
    return Status::Error("cannot unpack " + reference + ": " + why.message() +
                         " (the partly unpacked root file system was removed)");
  };
  StatusOr<UniqueFd> root = OpenDirNoFollow(*temp);
  if (!root.ok()) return fail(root.status());
  for (size_t i = 0; i < manifest->layers.size(); ++i) {
    const Descriptor& layer = manifest->layers[i];
    std::string layer_name = "layer " + layer.digest + " of " + reference;
    std::unique_ptr<ByteSource> bytes;
    if (feed != nullptr) {
      StatusOr<std::unique_ptr<ByteSource>> opened = feed->open(i);
      // Not a failure to unpack: the caller's error (a download) as it is.
      if (!opened.ok()) {
        (void)RemoveTree(*temp);
        return opened.status();
      }
      bytes = std::move(*opened);
    } else {
      int fd = open(blobs_.PathOf(layer.digest).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return fail(Errno("open", layer_name));
      bytes = std::make_unique<FdSource>(UniqueFd(fd), layer_name);
    }
    // Inflated on a thread of its own while this one writes the files.
    ReadAheadSource source(std::make_unique<DecompressingSource>(
        std::move(bytes), layer_name, limits.max_bytes + (size_t{64} << 20)));
    UnpackStats stats;
    Status applied = ApplyLayer(root->get(), *temp, &source, layer_name, limits, &stats, canceled);
    if (!applied.ok()) return fail(applied);
    if (feed != nullptr) {
      if (Status verified = feed->verified(i); !verified.ok()) {
        (void)RemoveTree(*temp);
        return verified;
      }
    }
    record.layers.push_back(layer.digest);
    record.size += layer.size;
  }
  // Trusted in this boot without a sync (see image_store.h): syncfs waits
  // for every dirty page of the file system, other programs' too — seconds
  // on a busy machine (docs/benchmarks.md). Without a boot id, it syncs.
  record.unsynced_boot = BootId();
  if (record.unsynced_boot.empty() && syncfs(root->get()) != 0) {
    return fail(Errno("sync", *temp));
  }
  Status written = WriteFileAtomically(dir_ + "/images/" + Hex(digest) + ".json",
                                       RecordToJson(record).dump(2) + "\n");
  if (!written.ok()) return fail(written);
  std::string final_path = RootfsOf(digest);
  (void)Discard(dir_, final_path);  // A leftover without its record.
  if (rename(temp->c_str(), final_path.c_str()) != 0) return fail(Errno("store", final_path));
  return record;
}

StatusOr<std::optional<ImageRecord>> ImageStore::Restore(const std::string& digest,
                                                         const UnpackLimits& limits,
                                                         const std::function<bool()>& canceled) {
  std::optional<ImageRecord> stale = ReadRecord(digest);
  const std::optional<ImageRecord> none;
  if (!stale || !blobs_.Has(digest) || !blobs_.Has(stale->config_digest)) return none;
  for (const std::string& layer : stale->layers) {
    if (!blobs_.Has(layer)) return none;
  }
  StatusOr<UniqueFd> store_lock = LockStore(false, canceled);
  if (!store_lock.ok()) return store_lock.status();
  StatusOr<UniqueFd> image_lock = LockImage(digest, canceled);
  if (!image_lock.ok()) return image_lock.status();
  StatusOr<std::string> manifest = blobs_.ReadSmall(digest);
  if (!manifest.ok()) return manifest.status();
  StatusOr<ImageRecord> installed =
      Install(digest, *manifest, stale->reference, limits, nullptr, canceled);
  if (!installed.ok()) return installed.status();
  return std::optional<ImageRecord>(std::move(*installed));
}

std::vector<ImageRecord> ImageStore::Images() const {
  std::vector<ImageRecord> images;
  for (const std::string& name : ListDir(dir_ + "/images")) {
    if (name.size() != 64 + 5 || name.substr(64) != ".json") continue;
    if (std::optional<ImageRecord> record = Find("sha256:" + name.substr(0, 64))) {
      images.push_back(*record);
    }
  }
  return images;
}

Status ImageStore::RemoveImage(const std::string& digest) {
  std::string record = dir_ + "/images/" + Hex(digest) + ".json";
  if (unlink(record.c_str()) != 0 && errno != ENOENT) return Errno("remove", record);
  return Discard(dir_, RootfsOf(digest));
}

Status ImageStore::Remove(const std::string& name) {
  StatusOr<UniqueFd> store_lock = LockStore(true);
  if (!store_lock.ok()) return store_lock.status();
  StatusOr<UniqueFd> lock = LockFile(dir_ + "/locks/refs.lock", true);
  if (!lock.ok()) return lock.status();
  auto refs = Refs();
  std::set<std::string> digests;
  for (auto it = refs.begin(); it != refs.end();) {
    if (it->first == name || it->second == name) {
      digests.insert(it->second);
      it = refs.erase(it);
    } else {
      ++it;
    }
  }
  if (IsSha256Digest(name) && Find(name)) digests.insert(name);
  if (digests.empty()) return Status::Error("no image `" + name + "` in " + dir_);
  Status written = WriteRefs(refs);
  if (!written.ok()) return written;
  for (const std::string& digest : digests) {
    bool named = false;
    for (const auto& [other, d] : refs) named = named || d == digest;
    if (named) continue;
    Status removed = RemoveImage(digest);
    if (!removed.ok()) return removed;
  }
  return Status::Ok();
}

StatusOr<PruneResult> ImageStore::Prune() {
  StatusOr<UniqueFd> store_lock = LockStore(true);
  if (!store_lock.ok()) return store_lock.status();
  PruneResult result;
  for (const std::string& name : ListDir(dir_ + "/tmp")) {
    Status removed = RemoveTree(dir_ + "/tmp/" + name);
    if (!removed.ok()) return removed;
    ++result.temporaries;
  }
  auto refs = Refs();
  std::set<std::string> named;
  for (const auto& [name, digest] : refs) named.insert(digest);
  std::set<std::string> used;
  for (const std::string& name : ListDir(dir_ + "/images")) {
    if (name.size() != 64 + 5 || name.substr(64) != ".json") continue;
    std::string digest = "sha256:" + name.substr(0, 64);
    // A named image keeps its blobs even when its rootfs is not trusted
    // (another boot's): the next pull unpacks it again from them.
    std::optional<ImageRecord> record = ReadRecord(digest);
    if (!record || !named.count(digest)) {
      Status removed = RemoveImage(digest);
      if (!removed.ok()) return removed;
      ++result.images;
      continue;
    }
    used.insert(record->digest);
    used.insert(record->config_digest);
    used.insert(record->layers.begin(), record->layers.end());
  }
  // Root file systems whose record is gone (an interrupted rm).
  for (const std::string& hex : ListDir(dir_ + "/rootfs")) {
    if (!used.count("sha256:" + hex)) {
      Status removed = Discard(dir_, dir_ + "/rootfs/" + hex);
      if (!removed.ok()) return removed;
    }
  }
  for (const std::string& hex : ListDir(dir_ + "/blobs/sha256")) {
    if (used.count("sha256:" + hex)) continue;
    std::string path = dir_ + "/blobs/sha256/" + hex;
    struct stat st;
    if (stat(path.c_str(), &st) == 0) result.bytes += static_cast<uint64_t>(st.st_size);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("remove", path);
    ++result.blobs;
  }
  return result;
}

}  // namespace slipway
