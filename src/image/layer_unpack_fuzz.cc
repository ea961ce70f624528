// libFuzzer target: the input is a layer; applying it must never crash,
// hang or write outside the root file system it is applied to, whatever
// the bytes. An input starting with 'T' is the layer's bytes as they are (a
// tar archive, gzip-ed or not); any other input is a list of entries turned
// into a well-formed tar archive here, so that short inputs reach the path
// handling (names with "..", links, whiteouts) rather than the header
// parser: records of a type byte, a name and a link target each ended by
// '\n', and a content length byte followed by the content. Each input gets a
// fresh rootfs in a directory of its own; anything else appearing in that
// directory is an escape and aborts.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"
#include "image/byte_source.h"
#include "image/layer_unpack.h"
#include "image/test_tar.h"

namespace {

// The structured input described above as a tar archive.
std::string BuildTar(std::string_view in) {
  static const char kTypes[] = "0125636";
  slipway::TarBuilder tar;
  while (!in.empty()) {
    char type = kTypes[static_cast<unsigned char>(in[0]) % 7];
    in.remove_prefix(1);
    auto field = [&in] {
      size_t end = std::min(in.find('\n'), in.size());
      std::string out(in.substr(0, std::min<size_t>(end, 99)));
      in.remove_prefix(std::min(end + 1, in.size()));
      return out;
    };
    std::string name = field(), link = field();
    size_t length =
        in.empty() ? 0 : std::min<size_t>(static_cast<unsigned char>(in[0]), in.size() - 1);
    std::string content = in.empty() ? "" : std::string(in.substr(1, length));
    in.remove_prefix(std::min(in.size(), length + 1));
    tar.Add(type, name, link, type == '0' ? content : "", 0755);
  }
  return tar.Take();
}

}  // namespace

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
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string layer =
        !input.empty() && input[0] == 'T' ? std::string(input.substr(1)) : BuildTar(input);
    DecompressingSource source(std::make_unique<MemorySource>(std::move(layer)), "layer",
                               size_t{64} << 20);
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
