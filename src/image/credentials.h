// Registry credentials from Docker's config format, as GitLab Runner reads
// them: the variable DOCKER_AUTH_CONFIG (a job's or the runner's) holds
// `{"auths": {"registry.example.com:5000": {"auth": "<base64
// user:password>"}}}`, and the CLI also reads ~/.docker/config.json
// ($DOCKER_CONFIG/config.json) as `docker login` writes it. Credential helpers
// (credsStore, credHelpers) are not run.
#ifndef SLIPWAY_IMAGE_CREDENTIALS_H_
#define SLIPWAY_IMAGE_CREDENTIALS_H_

#include <map>
#include <optional>
#include <string>

#include "util/status.h"

namespace slipway {

struct RegistryCredentials {
  std::string username;
  std::string password;
  std::string source;  // Where they came from, for messages ("$DOCKER_AUTH_CONFIG").
};

// Credentials by registry host, from one or more config documents.
class CredentialStore {
 public:
  // Adds the "auths" of a config document (JSON). Entries already present
  // are kept: add the documents that win first. Errors name source.
  Status AddConfig(const std::string& json, const std::string& source);
  // Adds $DOCKER_AUTH_CONFIG (when set) and then the file
  // $DOCKER_CONFIG/config.json or ~/.docker/config.json (when it exists).
  Status AddFromEnvironment();

  // The credentials for registry (a host[:port] as ImageReference has it).
  // Keys are matched as Docker does: "host", "https://host", "http://host",
  // with or without a path ("https://host/v1/"); Docker Hub's key is
  // "https://index.docker.io/v1/" (or "docker.io", "index.docker.io").
  std::optional<RegistryCredentials> For(const std::string& registry) const;

 private:
  std::map<std::string, RegistryCredentials> by_host_;
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_CREDENTIALS_H_
