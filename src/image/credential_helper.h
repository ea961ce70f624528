// Docker's credential helper protocol, as the docker CLI and GitLab Runner
// speak it: the program docker-credential-<name> (found in PATH) is run
// with the argument `get`, the server address on its stdin, and answers on
// stdout with {"ServerURL": ..., "Username": ..., "Secret": ...}, or exits
// non-zero with a message there ("credentials not found in native
// keychain" when it has none for that server).
#ifndef SLIPWAY_IMAGE_CREDENTIAL_HELPER_H_
#define SLIPWAY_IMAGE_CREDENTIAL_HELPER_H_

#include <chrono>
#include <optional>
#include <string>

#include "util/status.h"

namespace slipway {

struct HelperCredentials {
  std::string username;
  std::string secret;
};

// Whether name may follow "docker-credential-": a plain program name, no
// '/' and no "..", as GitLab Runner refuses "path traversal".
bool IsCredentialHelperName(const std::string& name);

// Runs docker-credential-<name> get for server, with slipway's own
// environment, bounded by timeout (then killed). nullopt when the helper
// has no credentials for server. Errors name the program and, for a helper
// that fails, quote the first line of what it printed; the secret of an
// answer is never part of an error.
StatusOr<std::optional<HelperCredentials>> RunCredentialHelper(
    const std::string& name, const std::string& server,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_CREDENTIAL_HELPER_H_
