#include "image/image_puller.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <thread>
#include <vector>

#include "image/manifest.h"

namespace slipway {
namespace {

// The layers a downloader thread stores, in order, for an unpacker that
// reads each as it arrives (LayerFeed, image/image_store.h): from its
// temporary file, up to the bytes written (and hashed) so far. Its end
// comes only once the blob's digest was checked and it entered the store;
// the download's error ends the read instead.
class LayerDownloads {
 public:
  explicit LayerDownloads(size_t layers) : layers_(layers) {}

  // Layer i is read from fd, of which bytes are written so far.
  void Begin(size_t i, UniqueFd fd, uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    layers_[i].fd = std::move(fd);
    layers_[i].bytes = bytes;
    cv_.notify_all();
  }
  // bytes more of layer i were written.
  void Wrote(size_t i, uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    layers_[i].bytes += bytes;
    cv_.notify_all();
  }
  // Layer i is stored, verified (or failed: then the rest never come).
  void Done(size_t i, const Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok()) {
      layers_[i].verified = true;
    } else {
      error_ = status;
    }
    cv_.notify_all();
  }
  // Blocks until layer i is verified in the store; the download's error
  // otherwise.
  Status WaitVerified(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return layers_[i].verified || !error_.ok(); });
    return layers_[i].verified ? Status::Ok() : error_;
  }
  // Up to n bytes of layer i from offset at, once there are some; 0 at its
  // verified end.
  StatusOr<size_t> Read(size_t i, uint64_t at, char* buf, size_t n) {
    int fd;
    {
      std::unique_lock<std::mutex> lock(mu_);
      const Layer& layer = layers_[i];
      cv_.wait(lock, [&] { return layer.bytes > at || layer.verified || !error_.ok(); });
      if (layer.bytes <= at) {
        if (layer.verified) return size_t{0};
        return error_;
      }
      n = static_cast<size_t>(std::min<uint64_t>(n, layer.bytes - at));
      fd = layer.fd.get();  // Kept open until this object goes.
    }
    while (true) {
      ssize_t got = pread(fd, buf, n, static_cast<off_t>(at));
      if (got > 0) return static_cast<size_t>(got);
      if (got < 0 && errno == EINTR) continue;
      return Status::Error(std::string("cannot read a downloading layer: ") +
                           (got < 0 ? std::strerror(errno) : "it is shorter than written"));
    }
  }
  // The first download's error, if any.
  Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  // The unpacker is done (or failed): no more layers are wanted.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

 private:
  struct Layer {
    UniqueFd fd;
    uint64_t bytes = 0;
    bool verified = false;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Layer> layers_ GUARDED_BY(mu_);
  Status error_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
};

// Layer i of a LayerDownloads, read in order.
class DownloadingLayer : public ByteSource {
 public:
  DownloadingLayer(LayerDownloads* downloads, size_t i) : downloads_(downloads), i_(i) {}
  StatusOr<size_t> Read(char* buf, size_t n) override {
    StatusOr<size_t> got = downloads_->Read(i_, at_, buf, n);
    if (got.ok()) at_ += *got;
    return got;
  }

 private:
  LayerDownloads* downloads_;
  size_t i_;
  uint64_t at_ = 0;
};

// Stores blob unless the store has it. With downloads, it is layer i of
// them: readable there as it arrives.
Status FetchBlob(BlobStore* blobs, RegistryClient* client, const Descriptor& blob,
                 const std::string& what, LayerDownloads* downloads = nullptr, size_t i = 0) {
  auto reader = [&](const std::string& path, uint64_t bytes) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Error("cannot read " + what + ": " + std::strerror(errno));
    downloads->Begin(i, UniqueFd(fd), bytes);
    return Status::Ok();
  };
  if (blobs->Has(blob.digest, blob.size)) {
    return downloads ? reader(blobs->PathOf(blob.digest), static_cast<uint64_t>(blob.size))
                     : Status::Ok();
  }
  BlobWriter writer(blobs, blob.digest, blob.size, what);
  Status s = writer.Open();
  if (s.ok() && downloads) s = reader(writer.temp_path(), 0);
  if (!s.ok()) return s;
  s = client->GetBlob(blob.digest, [&](std::string_view piece) {
    Status appended = writer.Append(piece);
    if (appended.ok() && downloads) downloads->Wrote(i, piece.size());
    return appended;
  });
  if (!s.ok()) return s;
  return writer.Commit();
}

}  // namespace

bool IsPullPolicy(const std::string& policy) {
  return policy.empty() || policy == "always" || policy == "if-not-present" || policy == "never";
}

StatusOr<ResolvedImage> ImagePuller::Pull(const ImageReference& ref, const ImageLogFn& log,
                                          const std::function<bool()>& canceled) {
  StatusOr<ResolvedImage> pulled = PullOnce(ref, log, canceled);
  // Whichever step noticed it (a request, the unpacking), one message.
  if (!pulled.ok() && canceled && canceled()) {
    return Status::Error("the pull of " + ref.Canonical() + " was canceled");
  }
  return pulled;
}

StatusOr<ResolvedImage> ImagePuller::PullOnce(const ImageReference& ref, const ImageLogFn& log,
                                              const std::function<bool()>& canceled) {
  std::string name = ref.Canonical();
  StatusOr<UniqueFd> store_lock = store_->LockStore(false, canceled);
  if (!store_lock.ok()) return store_lock.status();
  RegistryClient client(ref, &options_, canceled);
  StatusOr<FetchedManifest> fetched = client.GetManifest(ref.ManifestRef());
  if (!fetched.ok()) return fetched.status();
  if (IsIndex(fetched->media_type, fetched->body)) {
    StatusOr<ImageIndex> index = ParseImageIndex(fetched->body, "the index of " + name);
    if (!index.ok()) return index.status();
    StatusOr<Descriptor> chosen = SelectPlatform(*index, "the index of " + name);
    if (!chosen.ok()) return chosen.status();
    fetched = client.GetManifest(chosen->digest);
    if (!fetched.ok()) return fetched.status();
    if (IsIndex(fetched->media_type, fetched->body)) {
      return Status::Error("the index of " + name + " names another index for linux/" +
                           HostArchitecture());
    }
  }
  const std::string& digest = fetched->digest;
  StatusOr<UniqueFd> image_lock = store_->LockImage(digest, canceled);
  if (!image_lock.ok()) return image_lock.status();
  std::optional<ImageRecord> record = store_->Find(digest);
  if (!record) {
    StatusOr<ImageManifest> manifest = ParseImageManifest(fetched->body, "the manifest of " + name);
    if (!manifest.ok()) return manifest.status();
    Status got = FetchBlob(&store_->blobs(), &client, manifest->config,
                           "the config " + manifest->config.digest + " of " + name);
    if (!got.ok()) return got;
    // The layers download on a thread of their own, in order, while this
    // one unpacks them as their bytes arrive (each verified before the
    // root file system is made present).
    LayerDownloads downloads(manifest->layers.size());
    std::thread downloader([&] {
      for (size_t i = 0; i < manifest->layers.size() && !downloads.stopped(); ++i) {
        const Descriptor& layer = manifest->layers[i];
        Status s = FetchBlob(&store_->blobs(), &client, layer,
                             "layer " + layer.digest + " of " + name, &downloads, i);
        downloads.Done(i, s);
        if (!s.ok()) return;
      }
    });
    LayerFeed feed;
    feed.open = [&](size_t i) -> StatusOr<std::unique_ptr<ByteSource>> {
      return std::unique_ptr<ByteSource>(std::make_unique<DownloadingLayer>(&downloads, i));
    };
    feed.verified = [&](size_t i) { return downloads.WaitVerified(i); };
    StatusOr<ImageRecord> installed =
        store_->Install(digest, fetched->body, name, limits_, &feed, canceled);
    downloads.Stop();
    downloader.join();
    if (!installed.ok()) {
      // A download's own error (a corrupt blob: its digest) over what its
      // bytes did to the unpacking.
      Status download = downloads.error();
      return download.ok() ? installed.status() : download;
    }
    record = std::move(*installed);
  }
  Status tagged = store_->Tag(name, digest);
  if (!tagged.ok()) return tagged;
  if (log) {
    log("Using docker image " + record->config_digest + " for " + name + " with digest " +
        ref.Repo() + "@" + digest + " ...");
  }
  return store_->ToResolved(*record, name);
}

StatusOr<ResolvedImage> ImagePuller::Resolve(const ImageRequest& request, const ImageLogFn& log) {
  if (!IsPullPolicy(request.pull_policy)) {
    return Status::Error("unknown pull_policy `" + request.pull_policy + "` for image `" +
                         request.name + "` (always, if-not-present or never)");
  }
  StatusOr<ImageReference> ref = ParseImageReference(request.name);
  if (!ref.ok()) return ref.status();
  std::string name = ref->Canonical();
  bool always = request.pull_policy.empty() || request.pull_policy == "always";
  if (!always || !ref->digest.empty()) {
    std::string digest = store_->Lookup(name);
    if (digest.empty()) digest = ref->digest;
    std::optional<ImageRecord> record = store_->Find(digest);
    if (!record && !digest.empty()) {
      // Unpacked in another boot: again, from the blobs, without a registry.
      StatusOr<std::optional<ImageRecord>> restored =
          store_->Restore(digest, limits_, request.canceled);
      if (!restored.ok()) {
        if (request.canceled && request.canceled()) {
          return Status::Error("the unpacking of " + name + " was canceled");
        }
        return restored.status();
      }
      record = std::move(*restored);
    }
    if (record) {
      if (log) log("Using locally found image " + name + " (" + record->digest + ") ...");
      return store_->ToResolved(*record, name);
    }
    if (request.pull_policy == "never") {
      return Status::Error("image " + name + " is not in the image store " + store_->dir() +
                           " and its pull_policy is never (load it with `slipway image pull` or "
                           "`slipway image import`)");
    }
  }
  if (log) log("Pulling docker image " + request.name + " ...");
  return Pull(*ref, log, request.canceled);
}

StatusOr<ResolvedImage> StoreImageSource::Resolve(const ImageRequest& request,
                                                  const ImageLogFn& log) {
  ImagePuller* puller = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!opened_) {
      opened_ = true;
      StatusOr<RegistryOptions> registry = RegistryOptionsFromEnvironment();
      StatusOr<std::unique_ptr<ImageStore>> store =
          registry.ok() ? ImageStore::Open(dir_)
                        : StatusOr<std::unique_ptr<ImageStore>>(registry.status());
      if (store.ok()) {
        store_ = std::move(*store);
        puller_ = std::make_unique<ImagePuller>(store_.get(), std::move(*registry));
      } else {
        open_error_ = store.status();
      }
    }
    if (!open_error_.ok()) return open_error_;
    puller = puller_.get();
  }
  return puller->Resolve(request, log);
}

}  // namespace slipway
