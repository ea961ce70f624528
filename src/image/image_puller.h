// The ImageSource of `slipway run` and `slipway serve`: resolves an image
// name to a root file system in the image store (image/image_store.h),
// pulling from the image's registry (image/registry_client.h) as its
// pull_policy says, with GitLab Runner's meanings:
//   always          the registry is asked for the tag's current manifest;
//                   blobs and images the store holds are not fetched again
//                   (an image named by digest is never asked for again);
//   if-not-present  the store's image is used when it has one for the name;
//   never           the store's image, or an error.
#ifndef SLIPWAY_IMAGE_IMAGE_PULLER_H_
#define SLIPWAY_IMAGE_IMAGE_PULLER_H_

#include <memory>
#include <mutex>
#include <string>

#include "exec/image_source.h"
#include "image/image_store.h"
#include "image/layer_unpack.h"
#include "image/reference.h"
#include "image/registry_client.h"
#include "util/thread_annotations.h"

namespace slipway {

class ImagePuller : public ImageSource {
 public:
  // store must outlive the puller.
  ImagePuller(ImageStore* store, RegistryOptions options, UnpackLimits limits = {})
      : store_(store), options_(std::move(options)), limits_(limits) {}

  // Thread-safe (the store's locks order concurrent pulls).
  StatusOr<ResolvedImage> Resolve(const ImageRequest& request, const ImageLogFn& log) override;
  // Asks the registry for ref's manifest and stores what is missing.
  // canceled, when set, is polled throughout (ImageRequest::canceled).
  StatusOr<ResolvedImage> Pull(const ImageReference& ref, const ImageLogFn& log,
                               const std::function<bool()>& canceled = nullptr);

 private:
  StatusOr<ResolvedImage> PullOnce(const ImageReference& ref, const ImageLogFn& log,
                                   const std::function<bool()>& canceled);

  ImageStore* store_;
  const RegistryOptions options_;
  const UnpackLimits limits_;
};

// The ImageSource of the front ends: the image store in dir and an
// ImagePuller with the environment's registry settings
// (RegistryOptionsFromEnvironment), both made on the first Resolve, so that a
// run without image jobs neither reads registry credentials nor touches the
// store. An error making them fails that Resolve (and the next ones).
class StoreImageSource : public ImageSource {
 public:
  explicit StoreImageSource(std::string dir) : dir_(std::move(dir)) {}
  StatusOr<ResolvedImage> Resolve(const ImageRequest& request, const ImageLogFn& log) override;

 private:
  const std::string dir_;
  std::mutex mu_;
  bool opened_ GUARDED_BY(mu_) = false;
  Status open_error_ GUARDED_BY(mu_);
  std::unique_ptr<ImageStore> store_;    // Set once opened_; then read-only.
  std::unique_ptr<ImagePuller> puller_;  // Ditto.
};

// The pull policies a request may name ("" is "always").
bool IsPullPolicy(const std::string& policy);

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_IMAGE_PULLER_H_
