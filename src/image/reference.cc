#include "image/reference.h"

#include <cctype>

namespace slipway {
namespace {

bool IsRepositoryComponent(const std::string& c) {
  // Docker's path-component: [a-z0-9]+ separated by ".", "_", "__" or "-"s.
  if (c.empty()) return false;
  if (!std::isalnum(static_cast<unsigned char>(c.front())) ||
      !std::isalnum(static_cast<unsigned char>(c.back()))) {
    return false;
  }
  for (char ch : c) {
    bool ok =
        (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsTag(const std::string& tag) {
  // [\w][\w.-]{0,127}
  if (tag.empty() || tag.size() > 128 || tag[0] == '.' || tag[0] == '-') return false;
  for (char ch : tag) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsSha256Digest(const std::string& digest) {
  if (digest.size() != 71 || digest.compare(0, 7, "sha256:") != 0) return false;
  for (size_t i = 7; i < digest.size(); ++i) {
    char c = digest[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string ImageReference::Canonical() const {
  std::string out = Repo();
  if (!digest.empty()) return out + "@" + digest;
  return out + ":" + tag;
}

StatusOr<ImageReference> ParseImageReference(const std::string& name) {
  auto bad = [&](const std::string& why) {
    return Status::Error("invalid image name `" + name + "`: " + why);
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > 1024) return bad("it is longer than 1024 characters");
  ImageReference ref;
  std::string rest = name;
  size_t at = rest.find('@');
  if (at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!IsSha256Digest(ref.digest)) {
      return bad("the digest must be sha256: and 64 lower-case hex digits");
    }
  }
  // A tag follows the last ':' after the last '/' (a ':' before it is a port).
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!IsTag(ref.tag)) return bad("`" + ref.tag + "` is not a valid tag");
  }
  size_t first = rest.find('/');
  std::string head = rest.substr(0, first);
  if (first != std::string::npos &&
      (head.find_first_of(".:") != std::string::npos || head == "localhost")) {
    ref.registry = head;
    ref.repository = rest.substr(first + 1);
  } else {
    ref.registry = kDockerHubRegistry;
    ref.repository = rest;
  }
  if (ref.registry == kDockerHubDomain || ref.registry == "index.docker.io") {
    ref.registry = kDockerHubRegistry;
  }
  if (ref.registry == kDockerHubRegistry && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  for (char c : ref.registry) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '@' || c == '?' || c == '#') {
      return bad("`" + ref.registry + "` is not a registry host");
    }
  }
  size_t start = 0;
  while (true) {
    size_t end = ref.repository.find('/', start);
    std::string component = ref.repository.substr(start, end - start);
    if (!IsRepositoryComponent(component)) {
      return bad("the repository `" + ref.repository +
                 "` must be lower-case letters, digits and separators (. _ -) "
                 "between '/'");
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace slipway
