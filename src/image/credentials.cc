#include "image/credentials.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "image/reference.h"
#include "util/bounded_json.h"

namespace slipway {
namespace {

// The host of a config key: "https://host:5000/v1/" -> "host:5000".
std::string KeyHost(std::string key) {
  size_t scheme = key.find("://");
  if (scheme != std::string::npos) key = key.substr(scheme + 3);
  key = key.substr(0, key.find('/'));
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (key == kDockerHubDomain || key == "index.docker.io" || key == kDockerHubRegistry) {
    return kDockerHubRegistry;
  }
  return key;
}

bool DecodeBase64(const std::string& in, std::string* out) {
  std::string clean;
  for (char c : in) {
    if (c != '\n' && c != '\r' && c != ' ') clean += c;
  }
  if (clean.size() % 4 != 0) return false;
  out->assign(clean.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out->resize(static_cast<size_t>(n) - pad);
  return true;
}

}  // namespace

Status CredentialStore::AddConfig(const std::string& json, const std::string& source) {
  BoundedJson parsed = ParseBoundedJson(json);
  if (parsed.error != JsonParseError::kNone || !parsed.value.is_object()) {
    return Status::Error(source +
                         ": not a JSON object like {\"auths\": {\"HOST\": {\"auth\": ...}}}");
  }
  auto auths = parsed.value.find("auths");
  if (auths == parsed.value.end()) return Status::Ok();
  if (!auths->is_object()) return Status::Error(source + ": \"auths\" is not an object");
  for (auto it = auths->begin(); it != auths->end(); ++it) {
    if (!it.value().is_object()) continue;
    RegistryCredentials credentials;
    credentials.source = source;
    const nlohmann::json& entry = it.value();
    auto auth = entry.find("auth");
    if (auth != entry.end() && auth->is_string() && !auth->get<std::string>().empty()) {
      std::string decoded;
      size_t colon;
      if (!DecodeBase64(auth->get<std::string>(), &decoded) ||
          (colon = decoded.find(':')) == std::string::npos) {
        return Status::Error(source + ": the \"auth\" of `" + it.key() +
                             "` is not base64 of USER:PASSWORD");
      }
      credentials.username = decoded.substr(0, colon);
      credentials.password = decoded.substr(colon + 1);
    } else {
      auto user = entry.find("username");
      auto pass = entry.find("password");
      if (user == entry.end() || pass == entry.end() || !user->is_string() || !pass->is_string()) {
        continue;  // Credentials kept by a helper: not ours to run.
      }
      credentials.username = user->get<std::string>();
      credentials.password = pass->get<std::string>();
    }
    by_host_.emplace(KeyHost(it.key()), std::move(credentials));
  }
  return Status::Ok();
}

Status CredentialStore::AddFromEnvironment() {
  const char* env = std::getenv("DOCKER_AUTH_CONFIG");
  if (env != nullptr && *env != '\0') {
    Status added = AddConfig(env, "$DOCKER_AUTH_CONFIG");
    if (!added.ok()) return added;
  }
  std::string path;
  const char* dir = std::getenv("DOCKER_CONFIG");
  const char* home = std::getenv("HOME");
  if (dir != nullptr && *dir != '\0') {
    path = std::string(dir) + "/config.json";
  } else if (home != nullptr && *home != '\0') {
    path = std::string(home) + "/.docker/config.json";
  } else {
    return Status::Ok();
  }
  std::ifstream in(path);
  if (!in) return Status::Ok();
  std::stringstream text;
  text << in.rdbuf();
  return AddConfig(text.str(), path);
}

std::optional<RegistryCredentials> CredentialStore::For(const std::string& registry) const {
  auto it = by_host_.find(KeyHost(registry));
  if (it == by_host_.end()) return std::nullopt;
  return it->second;
}

}  // namespace slipway
