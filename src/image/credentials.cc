#include "image/credentials.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "image/credential_helper.h"
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
  Document document;
  document.source = source;
  auto helpers = parsed.value.find("credHelpers");
  if (helpers != parsed.value.end()) {
    if (!helpers->is_object()) return Status::Error(source + ": \"credHelpers\" is not an object");
    for (auto it = helpers->begin(); it != helpers->end(); ++it) {
      std::string name = it.value().is_string() ? it.value().get<std::string>() : "";
      if (!IsCredentialHelperName(name)) {
        return Status::Error(source + ": the credential helper `" + name + "` of `" + it.key() +
                             "` in \"credHelpers\" is not a program name (docker-credential-" +
                             "NAME in PATH)");
      }
      document.helpers.emplace(KeyHost(it.key()), std::make_pair(it.key(), name));
    }
  }
  auto store = parsed.value.find("credsStore");
  if (store != parsed.value.end()) {
    std::string name = store->is_string() ? store->get<std::string>() : "";
    if (!IsCredentialHelperName(name)) {
      return Status::Error(source + ": the \"credsStore\" `" + name +
                           "` is not a program name (docker-credential-NAME in PATH)");
    }
    document.store = name;
  }
  auto auths = parsed.value.find("auths");
  if (auths != parsed.value.end() && !auths->is_object()) {
    return Status::Error(source + ": \"auths\" is not an object");
  }
  for (auto it = auths == parsed.value.end() ? auths : auths->begin();
       auths != parsed.value.end() && it != auths->end(); ++it) {
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
        continue;  // An entry `docker login` leaves beside a credsStore.
      }
      credentials.username = user->get<std::string>();
      credentials.password = pass->get<std::string>();
    }
    document.auths.emplace(KeyHost(it.key()), std::move(credentials));
  }
  documents_.push_back(std::move(document));
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

bool CredentialStore::UsesHelpers() const {
  for (const Document& d : documents_) {
    if (!d.helpers.empty() || !d.store.empty()) return true;
  }
  return false;
}

StatusOr<std::optional<RegistryCredentials>> CredentialStore::Resolve(
    const std::string& host) const {
  auto from_helper = [&](const std::string& helper, const std::string& server,
                         const std::string& what) -> StatusOr<std::optional<RegistryCredentials>> {
    StatusOr<std::optional<HelperCredentials>> got = RunCredentialHelper(helper, server);
    if (!got.ok()) return Status::Error(got.status().message() + " (" + what + ")");
    if (!*got) return std::optional<RegistryCredentials>();
    RegistryCredentials credentials;
    credentials.username = (*got)->username;
    credentials.password = (*got)->secret;
    credentials.source = "docker-credential-" + helper + ", " + what;
    return std::optional<RegistryCredentials>(std::move(credentials));
  };
  for (const Document& d : documents_) {
    auto helper = d.helpers.find(host);
    if (helper != d.helpers.end()) {
      auto got =
          from_helper(helper->second.second, helper->second.first, "credHelpers of " + d.source);
      if (!got.ok() || *got) return got;
    } else if (!d.store.empty()) {
      // The server address `docker login` stores Docker Hub under.
      std::string server = host == kDockerHubRegistry ? "https://index.docker.io/v1/" : host;
      auto got = from_helper(d.store, server, "credsStore of " + d.source);
      if (!got.ok() || *got) return got;
    }
    auto it = d.auths.find(host);
    if (it != d.auths.end()) return std::optional<RegistryCredentials>(it->second);
  }
  return std::optional<RegistryCredentials>();
}

StatusOr<std::optional<RegistryCredentials>> CredentialStore::For(
    const std::string& registry) const {
  std::string host = KeyHost(registry);
  std::lock_guard<std::mutex> lock(answers_->mu);
  auto known = answers_->by_host.find(host);
  if (known != answers_->by_host.end()) return known->second;
  StatusOr<std::optional<RegistryCredentials>> got = Resolve(host);
  if (got.ok()) answers_->by_host[host] = *got;
  return got;
}

}  // namespace slipway
