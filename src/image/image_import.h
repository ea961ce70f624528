// `slipway image import`: loads images into the store without a registry,
// so that an offline machine can run jobs in them. Accepted:
//  - an OCI image layout (a directory with oci-layout, index.json and
//    blobs/sha256/, as `skopeo copy ... oci:DIR:TAG` writes it), or a tar
//    archive of one;
//  - the output of `docker save` (a tar archive with manifest.json naming
//    each image's config, layers and RepoTags; Docker 25's, which also holds
//    an OCI layout, is read by its manifest.json), or that archive unpacked.
// Archives (gzip-ed or not) are unpacked into the store's tmp/ with the
// layer unpacker's rules (image/layer_unpack.h), and every file is read
// beneath that directory without following a symlink. Every blob is
// verified against its digest where the input names one.
#ifndef SLIPWAY_IMAGE_IMAGE_IMPORT_H_
#define SLIPWAY_IMAGE_IMAGE_IMPORT_H_

#include <string>
#include <vector>

#include "image/image_store.h"
#include "util/status.h"

namespace slipway {

struct ImportedImage {
  std::string name;    // Canonical reference it is stored under.
  std::string digest;  // Of its manifest.
};

// Imports every image of path. name, when not empty, names the image (then
// path must hold exactly one); otherwise names come from the input
// (RepoTags; an OCI layout's org.opencontainers.image.ref.name annotation
// when it is a whole name, or io.containerd.image.name). An image without
// a name is an error asking for one.
StatusOr<std::vector<ImportedImage>> ImportImages(ImageStore* store, const std::string& path,
                                                  const std::string& name,
                                                  const UnpackLimits& limits = {});

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_IMAGE_IMPORT_H_
