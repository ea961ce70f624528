// Hiding the credentials a URL may carry before it is shown: a project's
// repository URL (https://user:token@host/repo.git) in the API, in error
// messages and in logs.
#ifndef SLIPWAY_UTIL_REDACT_H_
#define SLIPWAY_UTIL_REDACT_H_

#include <string>
#include <string_view>

namespace slipway {

// text with the user and the password of every URL in it (scheme://, any
// scheme) replaced by "*****", as GitLab's UrlSanitizer#masked_url shows
// them: https://user:token@host/x -> https://*****:*****@host/x,
// https://token@host/x -> https://*****@host/x. The user is masked too,
// since forges take a token there as well. A URL's authority ends at the
// first '/', '?', '#', whitespace or quote; its userinfo is what comes
// before the last '@' in it. scp-like addresses (git@host:path) carry no
// password and are left as they are; so is everything else.
std::string RedactUrlCredentials(std::string_view text);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_REDACT_H_
