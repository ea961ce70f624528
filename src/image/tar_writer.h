// Writes a directory tree as a tar archive (POSIX ustar, with a PAX
// extended header for what ustar cannot hold: long names and link targets,
// sizes from 8 GiB), the inverse of tar_reader.h: how a remote runner sends
// a job's artifacts to the server and gets earlier jobs' artifacts back
// (docs/runners.md, "Artifacts"). Regular files, directories and symlinks
// are written with their permission bits and modification times; anything
// else (a fifo, a socket) is left out. Nothing is followed: every entry is
// opened beneath the root (exec/beneath_io.h), so a job that swaps a
// directory for a symlink while its tree is archived cannot make the
// archive read outside it.
#ifndef SLIPWAY_IMAGE_TAR_WRITER_H_
#define SLIPWAY_IMAGE_TAR_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/file_tree.h"
#include "util/status.h"

namespace slipway {

// Writes the entries (paths relative to root_fd, ListTree order) as a tar
// stream to sink, in pieces, then the end-of-archive blocks. An entry that
// has gone, or became a symlink where a directory was, is skipped; root_path
// names the root in errors. The sink's error ends the writing.
Status WriteTar(int root_fd, const std::string& root_path, const std::vector<TreeEntry>& entries,
                const std::function<Status(std::string_view)>& sink);

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_TAR_WRITER_H_
