// libFuzzer target: the input is a layer (a tar archive, gzip-ed or not);
// applying it must never crash, hang or write outside the root file system
// it is applied to, whatever the bytes. Each input gets a fresh rootfs in a
// directory of its own; anything else appearing in that directory is an
// escape and aborts.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "image/byte_source.h"
#include "image/layer_unpack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slipway;
  static std::string base = [] {
    char tmpl[] = "/tmp/slipway-layer-fuzz-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  std::string root = base + "/rootfs";
  std::filesystem::create_directory(root);
  {
    StatusOr<UniqueFd> fd = OpenDirNoFollow(root);
    if (!fd.ok()) abort();
    DecompressingSource source(std::make_unique<MemorySource>(std::string(
                                   reinterpret_cast<const char*>(data), size)),
                               "layer", size_t{64} << 20);
    UnpackLimits limits;
    limits.max_entries = 1000;
    limits.max_bytes = size_t{16} << 20;
    UnpackStats stats;
    (void)ApplyLayer(fd->get(), root, &source, "layer", limits, &stats);
  }
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(base)) {
    (void)e;
    ++entries;
  }
  if (entries != 1) abort();  // Something was written beside the rootfs.
  (void)RemoveTree(root);
  return 0;
}
