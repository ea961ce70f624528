// The WWW-Authenticate header of a registry's 401, parsed: the scheme and
// its parameters (RFC 9110 11.6.1; Docker's token auth uses
// `Bearer realm="...",service="...",scope="..."`, where a quoted value may
// hold commas: "repository:a/b:pull,push").
#ifndef SLIPWAY_IMAGE_AUTH_CHALLENGE_H_
#define SLIPWAY_IMAGE_AUTH_CHALLENGE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slipway {

struct AuthChallenge {
  std::string scheme;                                       // "bearer", "basic": lower case.
  std::vector<std::pair<std::string, std::string>> params;  // Keys lower case.
  // The value of key, or "".
  std::string Param(const std::string& key) const;
};

// Never fails: what cannot be read is left out.
AuthChallenge ParseAuthChallenge(std::string_view header);

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_AUTH_CHALLENGE_H_
