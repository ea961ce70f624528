#include "config/include_messages.h"

namespace slipway {

std::string RemoteFetchMessage(const std::string& shown, const FetchError& error) {
  std::string prefix = "Remote file `" + shown + "` could not be fetched because of ";
  switch (error.kind) {
    case FetchError::Kind::kHttpStatus:
      return prefix + "HTTP code `" + std::to_string(error.http_status) + "` error!";
    case FetchError::Kind::kSocket:
      return prefix + "a socket error! (" + error.detail + ")";
    case FetchError::Kind::kTimeout:
      return prefix + "a timeout error! (" + error.detail + ")";
    case FetchError::Kind::kRefused:
      return "Remote file could not be fetched because URL '" + shown +
             "' is blocked: " + error.detail + "!";
    case FetchError::Kind::kNotCached:
      return "Remote file `" + shown + "` is not available offline: " + error.detail;
    case FetchError::Kind::kTls:
    case FetchError::Kind::kOther:
    case FetchError::Kind::kNoProject:  // Not from FetchUrl.
    case FetchError::Kind::kNoRef:
    case FetchError::Kind::kNoVersion:
      break;
  }
  return prefix + "HTTP error! (" + error.detail + ")";
}

std::string ProjectFetchMessage(const std::string& project, const std::string& ref,
                                const FetchError& error) {
  std::string why = error.detail.empty() ? "" : " (" + error.detail + ")";
  if (error.kind == FetchError::Kind::kNoRef) {
    return "Project `" + project + "` reference `" + ref + "` does not exist!" + why;
  }
  if (error.kind == FetchError::Kind::kNotCached) {
    return "Project `" + project + "` reference `" + ref +
           "` is not available offline: " + error.detail;
  }
  return "Project `" + project +
         "` not found or access denied! Make sure any includes in the pipeline configuration "
         "are correctly defined." +
         why;
}

std::string ComponentFetchMessage(const std::string& address, const FetchError& error) {
  std::string prefix = "Component '" + address + "' - ";
  if (error.kind == FetchError::Kind::kNoProject) {
    return prefix + "project does not exist or you don't have sufficient permissions (" +
           error.detail + ")";
  }
  if (error.kind == FetchError::Kind::kNotCached) {
    return prefix + "not available offline: " + error.detail;
  }
  return prefix + "content not found (" + error.detail + ")";
}

}  // namespace slipway
