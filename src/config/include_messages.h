// GitLab's wording for includes that could not be fetched, one function per
// include type (lib/gitlab/ci/config/external/file/remote.rb, project.rb,
// app/services/ci/components/fetch_service.rb), with slipway's reason in
// parentheses where GitLab has none to give. docs/includes.md lists them.
#ifndef SLIPWAY_CONFIG_INCLUDE_MESSAGES_H_
#define SLIPWAY_CONFIG_INCLUDE_MESSAGES_H_

#include <string>

#include "config/include_fetcher.h"

namespace slipway {

// include:remote; shown is the URL with credentials masked.
std::string RemoteFetchMessage(const std::string& shown, const FetchError& error);

// include:project.
std::string ProjectFetchMessage(const std::string& project, const std::string& ref,
                                const FetchError& error);

// include:component; address as written (variables expanded).
std::string ComponentFetchMessage(const std::string& address, const FetchError& error);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_INCLUDE_MESSAGES_H_
