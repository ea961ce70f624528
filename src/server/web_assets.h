// The web UI's files (web/ in the source tree), embedded at build time by
// scripts/embed_web.py into a generated source file.
#ifndef SLIPWAY_SERVER_WEB_ASSETS_H_
#define SLIPWAY_SERVER_WEB_ASSETS_H_

#include <cstddef>
#include <string_view>

namespace slipway {

struct WebAsset {
  std::string_view path;          // Relative to web/, e.g. "index.html", "img/logo.svg".
  std::string_view content_type;  // From the extension.
  std::string_view data;
  std::string_view etag;  // Quoted, from a hash of data.
};

// nullptr if there is no such file.
const WebAsset* FindWebAsset(std::string_view path);

// Defined by the generated file.
extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;

}  // namespace slipway

#endif  // SLIPWAY_SERVER_WEB_ASSETS_H_
