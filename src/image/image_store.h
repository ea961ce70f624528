// The image store shared by every run and the server (docs/images.md):
//
//   <store>/lock                    flock: shared while pulling or importing,
//                                   exclusive for rm and prune
//   <store>/blobs/sha256/<hex>      verified blobs (image/blob_store.h)
//   <store>/images/<hex>.json       one record per image manifest digest
//   <store>/rootfs/<hex>/           its unpacked root file system
//   <store>/locks/<hex>.lock        flock held while one is unpacked
//   <store>/refs.json               names ("registry/repo:tag") -> digest
//   <store>/tmp/                    work in progress; prune empties it
//
// An image is present when both its record and its rootfs are: the rootfs
// is unpacked in tmp/, the record written (atomically), and the rootfs
// renamed into place last, so a crash at any point leaves either a whole
// image or one the next pull unpacks again. The rootfs is not synced: its
// record names the boot it was written in, and only that boot trusts it —
// a crash that can lose written files (power loss, a kernel panic) is a
// reboot, and the next boot unpacks the image again from its blobs, which
// are synced. A rootfs is never modified once in place; executors mount it
// read-only.
//
// Thread- and process-safe: every change is under a file lock, and two
// threads or processes installing the same image unpack it once.
#ifndef SLIPWAY_IMAGE_IMAGE_STORE_H_
#define SLIPWAY_IMAGE_IMAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/image_source.h"
#include "image/blob_store.h"
#include "image/byte_source.h"
#include "image/layer_unpack.h"
#include "image/manifest.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace slipway {

// The store's record of one image (images/<hex>.json).
struct ImageRecord {
  std::string digest;     // Of the manifest.
  std::string reference;  // The name it was first stored under.
  std::string config_digest;
  std::vector<std::string> layers;  // Blob digests, bottom first.
  int64_t size = 0;                 // Of the layer blobs (compressed).
  int64_t created = 0;              // When stored, seconds since the epoch.
  std::vector<std::string> env, entrypoint, cmd;
  std::string working_dir, user;
  // The boot (/proc/sys/kernel/random/boot_id) whose page cache holds the
  // root file system, not yet known to be on disk; "" when it was synced.
  // Such an image is present in that boot only (see Install).
  std::string unsynced_boot;
};

// Where Install reads layer i (of the manifest) from while the layer may
// still be arriving: open gives its bytes (unverified ones among them, read
// only into the root file system under construction in tmp/), and verified
// returns once the whole blob is in the store with its digest checked — or
// the error that ends the install. Install calls verified(i) after applying
// layer i, so that no root file system is made present from a byte its
// digest did not cover.
struct LayerFeed {
  std::function<StatusOr<std::unique_ptr<ByteSource>>(size_t)> open;
  std::function<Status(size_t)> verified;
};

struct PruneResult {
  size_t images = 0, blobs = 0, temporaries = 0;
  uint64_t bytes = 0;  // Of blobs removed.
};

class ImageStore {
 public:
  // The CLI's default: $XDG_CACHE_HOME/slipway/images, else
  // ~/.cache/slipway/images.
  static std::string DefaultDir();

  // Creates dir (and its layout) if missing.
  static StatusOr<std::unique_ptr<ImageStore>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  BlobStore& blobs() { return blobs_; }

  // The present image digest names, or nullopt.
  std::optional<ImageRecord> Find(const std::string& digest) const;
  // The record of digest as stored, present or not (its rootfs may be
  // missing or from another boot), or nullopt.
  std::optional<ImageRecord> ReadRecord(const std::string& digest) const;
  // The digest refs.json gives name (a canonical reference), or "".
  std::string Lookup(const std::string& name) const;
  // Points name at digest in refs.json.
  Status Tag(const std::string& name, const std::string& digest);

  // Holds locks/<hex>.lock: whoever holds it is the one installing digest.
  // (flock: two holders in one process exclude each other as two processes
  // do.) canceled, when set, is asked every 20 ms while another holds it:
  // true ends the wait with an error (a job canceled while another job
  // pulls the same image).
  StatusOr<UniqueFd> LockImage(const std::string& digest,
                               const std::function<bool()>& canceled = nullptr) const;

  // Makes the image whose config and layer blobs are in the blob store
  // present, unpacking its layers unless it is present already; reference
  // names it in the record and errors. The manifest blob itself is stored
  // too. The caller holds LockImage(digest). feed, when set, gives the
  // layers' bytes instead of the blob files (a puller's, as they download:
  // LayerFeed); its errors end the install as they are. canceled, when set,
  // is polled while unpacking (ApplyLayer): true ends the install with an
  // error, the partial root file system removed.
  StatusOr<ImageRecord> Install(const std::string& digest, const std::string& manifest_body,
                                const std::string& reference, const UnpackLimits& limits,
                                const LayerFeed* feed = nullptr,
                                const std::function<bool()>& canceled = nullptr);

  // Unpacks again, from the blobs the store holds, an image whose record
  // is there but whose rootfs is not trusted (another boot's, or gone):
  // the record then, or nullopt when there is no record or a blob is
  // missing (a registry must be asked). Takes the store's and the image's
  // locks; the caller holds neither. canceled, when set, ends the waits for
  // them and the unpacking (as Install's).
  StatusOr<std::optional<ImageRecord>> Restore(const std::string& digest,
                                               const UnpackLimits& limits,
                                               const std::function<bool()>& canceled = nullptr);

  ResolvedImage ToResolved(const ImageRecord& record, const std::string& reference) const;
  std::string RootfsOf(const std::string& digest) const;

  // Every name in refs.json with its digest, and the present images.
  std::map<std::string, std::string> Refs() const;
  std::vector<ImageRecord> Images() const;
  // Removes name from refs.json (a canonical reference, or a digest: then
  // every name of it) and the image when no name is left for it. Errors
  // when nothing had the name.
  Status Remove(const std::string& name);
  // Removes images without a name, blobs no image uses, and tmp/.
  StatusOr<PruneResult> Prune();

  // Holds <store>/lock shared (pull, import) or exclusive (rm, prune);
  // canceled as LockImage's.
  StatusOr<UniqueFd> LockStore(bool exclusive,
                               const std::function<bool()>& canceled = nullptr) const;

 private:
  explicit ImageStore(std::string dir) : dir_(dir), blobs_(std::move(dir)) {}
  StatusOr<UniqueFd> LockFile(const std::string& path, bool exclusive,
                              const std::function<bool()>& canceled = nullptr) const;
  Status WriteRefs(const std::map<std::string, std::string>& refs);
  Status RemoveImage(const std::string& digest);

  std::string dir_;
  BlobStore blobs_;
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_IMAGE_STORE_H_
