// A directory tree packed into one tar file with its digest, and a tar file
// checked against its digest and unpacked into a directory: how artifacts
// travel between a remote runner and the server (docs/runners.md,
// "Artifacts"). Packing never follows a symlink in the tree (tar_writer.h);
// unpacking writes only beneath the target directory, as an image layer is
// applied (layer_unpack.h), but without whiteouts: every name is a file.
#ifndef SLIPWAY_IMAGE_TREE_ARCHIVE_H_
#define SLIPWAY_IMAGE_TREE_ARCHIVE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace slipway {

struct ArchiveFile {
  uint64_t size = 0;
  std::string digest;  // "sha256:<hex>".
};

// Writes the entries of the directory root whose first path component is
// one of top_level (every entry when top_level is empty) into the new file
// out_path (which must not exist). A tree with nothing to pack (or no tree)
// gives size 0 and writes no file.
StatusOr<ArchiveFile> PackTree(const std::string& root, const std::vector<std::string>& top_level,
                               const std::string& out_path);

// Checks that archive_path has exactly the size and digest of expected,
// then unpacks it into into (created if missing). max_bytes bounds the
// unpacked file data. Errors name what was wrong ("... has the digest
// sha256:..., not sha256:...").
// With top_level, only those top-level directories of the archive are
// kept, each replacing the one of that name in into; anything else in the
// archive is dropped, and one of them that is not a directory (a symlink
// the archive planted there) is an error. The archive is unpacked into a
// scratch directory in into first, so nothing else in into is touched.
Status UnpackTree(const std::string& archive_path, const ArchiveFile& expected,
                  const std::string& into, uint64_t max_bytes,
                  const std::vector<std::string>& top_level = {});

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_TREE_ARCHIVE_H_
