// Registry credentials from Docker's config format, as GitLab Runner reads
// them: the variable DOCKER_AUTH_CONFIG (a job's or the runner's) holds
// `{"auths": {"registry.example.com:5000": {"auth": "<base64
// user:password>"}}}`, and the CLI also reads ~/.docker/config.json
// ($DOCKER_CONFIG/config.json) as `docker login` writes it. A document may
// name credential helpers (image/credential_helper.h): "credHelpers" by
// registry, "credsStore" for every registry. docs/images.md, "Credentials".
#ifndef SLIPWAY_IMAGE_CREDENTIALS_H_
#define SLIPWAY_IMAGE_CREDENTIALS_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {

struct RegistryCredentials {
  std::string username;
  std::string password;
  std::string source;  // Where they came from, for messages ("$DOCKER_AUTH_CONFIG").
};

// Credentials by registry host, from one or more config documents.
class CredentialStore {
 public:
  // Adds a config document (JSON): its "auths", "credHelpers" and
  // "credsStore". Documents added earlier win. Errors name source; a
  // helper's name that is not a plain program name is one (GitLab Runner's
  // "path traversal is not allowed").
  Status AddConfig(const std::string& json, const std::string& source);
  // Adds $DOCKER_AUTH_CONFIG (when set) and then the file
  // $DOCKER_CONFIG/config.json or ~/.docker/config.json (when it exists).
  Status AddFromEnvironment();

  // The credentials for registry (a host[:port] as ImageReference has it),
  // or nullopt. Documents are asked in order; in each, as GitLab Runner
  // layers them: the helper credHelpers names for the registry, else the
  // credsStore helper, else "auths" (a helper without credentials for it
  // passes on to the next). Keys are matched as Docker does: "host",
  // "https://host", "http://host", with or without a path
  // ("https://host/v1/"); Docker Hub's key is "https://index.docker.io/v1/"
  // (or "docker.io", "index.docker.io"). A helper that is missing or fails
  // is an error naming it. A helper runs once per registry; its answer is
  // kept. Thread-safe.
  StatusOr<std::optional<RegistryCredentials>> For(const std::string& registry) const;
  // Whether a document names a helper.
  bool UsesHelpers() const;

 private:
  struct Document {
    std::string source;
    std::map<std::string, RegistryCredentials> auths;                    // By KeyHost.
    std::map<std::string, std::pair<std::string, std::string>> helpers;  // Host -> key, helper.
    std::string store;                                                   // credsStore.
  };
  struct Answers {
    std::mutex mu;
    std::map<std::string, std::optional<RegistryCredentials>> by_host GUARDED_BY(mu);
  };
  StatusOr<std::optional<RegistryCredentials>> Resolve(const std::string& host) const;

  std::vector<Document> documents_;
  // Shared by copies (RegistryOptions is copied and moved).
  std::shared_ptr<Answers> answers_ = std::make_shared<Answers>();
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_CREDENTIALS_H_
