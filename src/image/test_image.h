// Helpers for tests: image layers written byte by byte (so that tests can
// write what no honest tool would: "../x", a file beneath a symlink, a hard
// link to /etc/passwd), OCI layout directories made of them, and pushing a
// layout to a registry with skopeo. Test-only; not part of the engine.
#ifndef SLIPWAY_IMAGE_TEST_IMAGE_H_
#define SLIPWAY_IMAGE_TEST_IMAGE_H_

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/manifest.h"
#include "image/test_tar.h"
#include "util/sha256.h"

namespace slipway {

inline std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// An OCI image layout directory (oci-layout, index.json, blobs/sha256/)
// written blob by blob.
class OciLayoutBuilder {
 public:
  explicit OciLayoutBuilder(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ + "/blobs/sha256");
    std::ofstream(dir_ + "/oci-layout") << R"({"imageLayoutVersion": "1.0.0"})";
  }
  nlohmann::json Blob(const std::string& data, const std::string& media_type) {
    std::string hex = Sha256Hex(data);
    std::ofstream(dir_ + "/blobs/sha256/" + hex, std::ios::binary) << data;
    return {{"mediaType", media_type},
            {"digest", "sha256:" + hex},
            {"size", static_cast<int64_t>(data.size())}};
  }
  // An image of gzip-ed layers (tar archives) and a config with env and cmd.
  nlohmann::json Image(const std::vector<std::string>& layer_tars,
                       const std::vector<std::string>& env = {"PATH=/bin"},
                       const std::string& architecture = "amd64") {
    nlohmann::json layers = nlohmann::json::array(), diff_ids = nlohmann::json::array();
    for (const std::string& tar : layer_tars) {
      layers.push_back(Blob(Gzip(tar), "application/vnd.oci.image.layer.v1.tar+gzip"));
      diff_ids.push_back("sha256:" + Sha256Hex(tar));
    }
    nlohmann::json config = {
        {"architecture", architecture},
        {"os", "linux"},
        {"config", {{"Env", env}, {"Cmd", {"/bin/sh"}}, {"WorkingDir", "/work"}}},
        {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
    nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", kOciManifest},
        {"config", Blob(config.dump(), "application/vnd.oci.image.config.v1+json")},
        {"layers", layers}};
    nlohmann::json d = Blob(manifest.dump(), kOciManifest);
    d["platform"] = {{"os", "linux"}, {"architecture", architecture}};
    return d;
  }
  nlohmann::json Index(const std::vector<nlohmann::json>& manifests) {
    nlohmann::json index = {
        {"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", manifests}};
    return Blob(index.dump(), kOciIndex);
  }
  // Names descriptor tag in index.json.
  void Tag(nlohmann::json descriptor, const std::string& tag) {
    descriptor.erase("platform");
    descriptor["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
    entries_.push_back(descriptor);
    nlohmann::json index = {{"schemaVersion", 2}, {"manifests", entries_}};
    std::ofstream(dir_ + "/index.json") << index.dump();
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  nlohmann::json entries_ = nlohmann::json::array();
};

// Pushes tag of the layout to docker://destination with skopeo (all the
// platforms of an index). Returns skopeo's output when it fails.
// extra_flags go to skopeo copy as they are (e.g. "--dest-compress-format zstd").
inline std::string PushWithSkopeo(const std::string& layout, const std::string& tag,
                                  const std::string& destination,
                                  const std::string& extra_flags = "") {
  std::string log = layout + "/skopeo.log";
  std::string command = "skopeo copy --quiet --all --dest-tls-verify=false " + extra_flags +
                        " 'oci:" + layout + ":" + tag + "' 'docker://" + destination + "' >'" +
                        log + "' 2>&1";
  if (std::system(command.c_str()) == 0) return "";
  std::ifstream in(log);
  return "skopeo failed: " + std::string(std::istreambuf_iterator<char>(in), {});
}

// Pushes an image of busybox-static's /bin/busybox (also as /bin/sh) and
// /etc/image-marker holding marker to docker://name, through an OCI layout
// made in layout_dir. Returns "" or what went wrong.
inline std::string PushBusyboxImage(const std::string& layout_dir, const std::string& name,
                                    const std::string& marker) {
  std::ifstream in("/bin/busybox", std::ios::binary);
  std::string busybox(std::istreambuf_iterator<char>(in), {});
  if (busybox.empty()) return "busybox-static is not installed";
  OciLayoutBuilder layout(layout_dir);
  layout.Tag(layout.Image({TarBuilder()
                               .Dir("bin")
                               .File("bin/busybox", busybox, 0755)
                               .Symlink("bin/sh", "busybox")
                               .File("etc/image-marker", marker)
                               .Take()}),
             "v1");
  return PushWithSkopeo(layout_dir, "v1", name);
}

// The test registry (scripts/registry.sh), or "" (the test is skipped).
inline std::string TestRegistry() {
  const char* registry = std::getenv("SLIPWAY_TEST_REGISTRY");
  return registry != nullptr ? registry : "";
}

#define SLIPWAY_REQUIRE_TEST_REGISTRY()                                           \
  do {                                                                            \
    if (TestRegistry().empty()) {                                                 \
      GTEST_SKIP() << "SLIPWAY_TEST_REGISTRY is not set; start a registry with "  \
                      "`export SLIPWAY_TEST_REGISTRY=$(bash scripts/registry.sh " \
                      "start)`";                                                  \
    }                                                                             \
  } while (0)

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_TEST_IMAGE_H_
