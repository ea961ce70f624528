// A client of one repository on a registry's HTTP API v2 (the OCI
// distribution spec): manifests by tag or digest, blobs streamed to a sink.
// It authenticates as Docker does: a request answered 401 with
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...` is retried
// with a token from the realm (asked with the user's credentials as HTTP
// Basic when there are any, anonymously otherwise), one answered with
// `Basic` is retried with the credentials. The token is kept for the
// client's later requests.
//
// HTTPS is checked against the system CA store ($SSL_CERT_FILE replaces it).
// Plain HTTP is used only for registries on loopback (127.0.0.0/8, ::1,
// localhost) and those the user lists as insecure, as Docker's
// "insecure-registries": for them HTTPS is tried first and HTTP when the
// TLS handshake fails.
//
// Not thread-safe: one client per pull.
#ifndef SLIPWAY_IMAGE_REGISTRY_CLIENT_H_
#define SLIPWAY_IMAGE_REGISTRY_CLIENT_H_

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "image/auth_challenge.h"
#include "image/credentials.h"
#include "image/reference.h"
#include "util/http_get.h"
#include "util/status.h"

namespace slipway {

struct RegistryOptions {
  // Hosts (host or host:port) plain HTTP may be used with besides loopback.
  std::vector<std::string> insecure_registries;
  CredentialStore credentials;
  std::string ca_file;  // Empty: $SSL_CERT_FILE, else the system store.
  std::chrono::milliseconds request_timeout{30000};        // Manifests, tokens.
  std::chrono::milliseconds blob_timeout{30 * 60 * 1000};  // One blob, whole.
  std::size_t max_blob_bytes = std::size_t{16} << 30;
};

// RegistryOptions as `slipway image pull` and `slipway run` take them from
// the environment: credentials from DOCKER_AUTH_CONFIG (and the Docker
// config file, credentials.h), plain-HTTP hosts from
// SLIPWAY_INSECURE_REGISTRIES (comma or space separated). An unreadable
// DOCKER_AUTH_CONFIG is an error.
StatusOr<RegistryOptions> RegistryOptionsFromEnvironment();

// Whether host (without port, or host:port) may be spoken to in plain HTTP.
bool AllowsPlainHttp(const std::string& host_port, const std::vector<std::string>& insecure);

struct FetchedManifest {
  std::string media_type;  // Content-Type as served.
  std::string body;
  std::string digest;  // sha256 of body, "sha256:<hex>".
};

class RegistryClient {
 public:
  // canceled, when set, is polled while a request waits (HttpGetOptions).
  RegistryClient(ImageReference ref, const RegistryOptions* options,
                 std::function<bool()> canceled = nullptr)
      : ref_(std::move(ref)), options_(options), canceled_(std::move(canceled)) {}

  // The manifest or index reference (a tag or a digest) names. A digest is
  // checked against the body. Errors name the image and quote the
  // registry's answer ("manifest unknown", "pull access denied ...").
  StatusOr<FetchedManifest> GetManifest(const std::string& reference);
  // Streams the blob digest to sink (which checks it). 404 is an error.
  Status GetBlob(const std::string& digest, const std::function<Status(std::string_view)>& sink);

 private:
  // GETs path (below /v2/<repository>/) with auth, as described above.
  StatusOr<HttpFetchResponse> Get(const std::string& path, const std::string& accept,
                                  const std::function<Status(std::string_view)>& sink);
  StatusOr<HttpFetchResponse> Send(const std::string& path, const std::string& accept,
                                   const std::function<Status(std::string_view)>& sink);
  Status Authenticate(const std::string& challenge);
  Status AnswerError(const HttpFetchResponse& response, const std::string& what) const;

  ImageReference ref_;
  const RegistryOptions* options_;
  const std::function<bool()> canceled_;
  std::string scheme_;         // Decided on the first request.
  std::string authorization_;  // The Authorization header to send, once known.
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_REGISTRY_CLIENT_H_
