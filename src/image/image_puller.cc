#include "image/image_puller.h"

#include <condition_variable>
#include <thread>

#include "image/manifest.h"

namespace slipway {
namespace {

// The layers a downloader thread has stored, in order, for an unpacker that
// waits for each.
class LayerDownloads {
 public:
  // The next layer is stored (or failed: then the rest never come).
  void Done(const Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (status.ok()) {
      ++done_;
    } else {
      error_ = status;
    }
    cv_.notify_all();
  }
  // Blocks until layer i is stored; the download's error otherwise.
  Status WaitFor(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ > i || !error_.ok(); });
    return done_ > i ? Status::Ok() : error_;
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
  std::mutex mu_;
  std::condition_variable cv_;
  size_t done_ GUARDED_BY(mu_) = 0;
  Status error_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
};

}  // namespace

bool IsPullPolicy(const std::string& policy) {
  return policy.empty() || policy == "always" || policy == "if-not-present" || policy == "never";
}

Status ImagePuller::FetchBlob(RegistryClient* client, const Descriptor& blob,
                              const std::string& what) {
  if (store_->blobs().Has(blob.digest, blob.size)) return Status::Ok();
  BlobWriter writer(&store_->blobs(), blob.digest, blob.size, what);
  Status s = writer.Open();
  if (!s.ok()) return s;
  s = client->GetBlob(blob.digest, [&](std::string_view piece) { return writer.Append(piece); });
  if (!s.ok()) return s;
  return writer.Commit();
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
  StatusOr<UniqueFd> store_lock = store_->LockStore(false);
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
  StatusOr<UniqueFd> image_lock = store_->LockImage(digest);
  if (!image_lock.ok()) return image_lock.status();
  std::optional<ImageRecord> record = store_->Find(digest);
  if (!record) {
    StatusOr<ImageManifest> manifest = ParseImageManifest(fetched->body, "the manifest of " + name);
    if (!manifest.ok()) return manifest.status();
    Status got = FetchBlob(&client, manifest->config,
                           "the config " + manifest->config.digest + " of " + name);
    if (!got.ok()) return got;
    // The layers download on a thread of their own, in order, while this
    // one unpacks those already stored (each verified before it is read).
    LayerDownloads downloads;
    std::thread downloader([&] {
      for (const Descriptor& layer : manifest->layers) {
        Status s = downloads.stopped()
                       ? Status::Error("stopped")
                       : FetchBlob(&client, layer, "layer " + layer.digest + " of " + name);
        downloads.Done(s);
        if (!s.ok()) return;
      }
    });
    StatusOr<ImageRecord> installed = store_->Install(
        digest, fetched->body, name, limits_, [&](size_t i) { return downloads.WaitFor(i); },
        canceled);
    downloads.Stop();
    downloader.join();
    if (!installed.ok()) return installed.status();
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
      StatusOr<std::optional<ImageRecord>> restored = store_->Restore(digest, limits_);
      if (!restored.ok()) return restored.status();
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
