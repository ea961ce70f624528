// Applies an image layer (a tar stream, image/tar_reader.h) to a root file
// system being built, as the OCI image spec's "Applying Changesets" says:
// entries are added or replace what is there, `.wh.NAME` removes NAME from
// the layers below, and `.wh..wh..opq` empties its directory of what the
// layers below put there.
//
// The rootfs is the only place written, whatever the layer says:
//  - a name with a ".." component is an error; leading '/' and "./" are
//    dropped (an absolute name is a name in the rootfs, as Docker applies it);
//  - no symlink is followed, neither one an earlier layer planted nor one of
//    this layer: every directory is opened beneath the rootfs with
//    O_NOFOLLOW (exec/beneath_io.h), and a symlink or file where a
//    directory must be is replaced by a directory;
//  - a hard link's target is a name in the rootfs (a symlink at any
//    component of it is refused), and must exist there;
//  - device nodes are skipped (an unprivileged user cannot make them, and
//    rootless tools skip them alike); set-id bits are dropped; directories
//    keep owner rwx so that the store can remove them;
//  - entries, names and bytes are bounded (UnpackLimits).
// Owners in the archive are ignored: files belong to the user unpacking.
#ifndef SLIPWAY_IMAGE_LAYER_UNPACK_H_
#define SLIPWAY_IMAGE_LAYER_UNPACK_H_

#include <cstdint>
#include <functional>
#include <string>

#include "image/byte_source.h"
#include "util/status.h"

namespace slipway {

struct UnpackLimits {
  size_t max_entries = 1 << 20;             // Per layer.
  uint64_t max_bytes = uint64_t{64} << 30;  // Of file data, per layer.
  // False: `.wh.` names are entries like any other (a tree that is not an
  // image layer, such as a job's artifacts: image/tar_writer.h).
  bool whiteouts = true;
};

struct UnpackStats {
  size_t entries = 0;
  uint64_t bytes = 0;
  size_t devices_skipped = 0;
};

// Applies the tar stream layer to the directory root_fd (root_path names
// it in errors, name the layer: "layer sha256:... of alpine:3.19"). On error
// the rootfs is left half-written: the caller discards it. canceled, when
// set, is asked before each entry and each piece of a file's data: true
// ends the unpack with an error.
Status ApplyLayer(int root_fd, const std::string& root_path, ByteSource* layer,
                  const std::string& name, const UnpackLimits& limits, UnpackStats* stats,
                  const std::function<bool()>& canceled = nullptr);

// The name of an entry as a path in the rootfs: leading '/' and "./" and
// "." components dropped, a trailing '/' too. False if a component is
// "..". "" is the root itself.
bool NormalizeEntryPath(const std::string& name, std::string* out);

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_LAYER_UNPACK_H_
