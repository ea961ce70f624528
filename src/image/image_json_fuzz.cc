// libFuzzer target: the documents a registry (or an imported archive)
// controls — an index, a manifest, a config, a WWW-Authenticate challenge,
// a Docker config with credentials, an image name — must parse or be
// refused quickly, never crash, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/auth_challenge.h"
#include "image/credentials.h"
#include "image/manifest.h"
#include "image/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  using namespace slipway;
  (void)IsIndex("", input);
  if (auto index = ParseImageIndex(input, "index"); index.ok()) {
    (void)SelectPlatform(*index, "index");
  }
  (void)ParseImageManifest(input, "manifest");
  (void)ParseImageConfig(input, "config");
  AuthChallenge challenge = ParseAuthChallenge(input);
  (void)challenge.Param("realm");
  CredentialStore credentials;
  // Helpers are programs the input would name: not run here.
  if (credentials.AddConfig(input, "config").ok() && !credentials.UsesHelpers()) {
    (void)credentials.For("registry-1.docker.io");
  }
  if (auto ref = ParseImageReference(input); ref.ok()) (void)ref->Canonical();
  return 0;
}
