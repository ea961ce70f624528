#include "image/registry_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "image/manifest.h"
#include "util/base64.h"
#include "util/bounded_json.h"
#include "util/redact.h"
#include "util/sha256.h"

namespace slipway {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string QueryEscape(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "code: message" of each entry of the registry's {"errors": [...]} body,
// or the status when there is none.
std::string RegistryAnswer(const HttpFetchResponse& response) {
  std::string answer;
  BoundedJson parsed = ParseBoundedJson(response.body);
  if (parsed.error == JsonParseError::kNone && parsed.value.is_object()) {
    auto errors = parsed.value.find("errors");
    if (errors != parsed.value.end() && errors->is_array()) {
      for (const auto& e : *errors) {
        if (!e.is_object()) continue;
        std::string code = e.value("code", std::string());
        std::string message = e.value("message", std::string());
        if (!answer.empty()) answer += "; ";
        answer += Lower(message.empty() ? code : message);
      }
    }
  }
  std::string status = "HTTP " + std::to_string(response.status);
  return answer.empty() ? status : answer + " (" + status + ")";
}

}  // namespace

StatusOr<RegistryOptions> RegistryOptionsFromEnvironment() {
  RegistryOptions options;
  if (const char* env = std::getenv("SLIPWAY_INSECURE_REGISTRIES"); env != nullptr) {
    std::string word;
    for (const char* c = env;; ++c) {
      if (*c == '\0' || *c == ',' || std::isspace(static_cast<unsigned char>(*c))) {
        if (!word.empty()) options.insecure_registries.push_back(word);
        word.clear();
        if (*c == '\0') break;
      } else {
        word += *c;
      }
    }
  }
  if (Status s = options.credentials.AddFromEnvironment(); !s.ok()) return s;
  return options;
}

bool AllowsPlainHttp(const std::string& host_port, const std::vector<std::string>& insecure) {
  for (const std::string& listed : insecure) {
    if (Lower(listed) == Lower(host_port)) return true;
  }
  std::string host = host_port;
  if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));
  }
  for (const std::string& listed : insecure) {
    if (Lower(listed) == Lower(host)) return true;
  }
  host = Lower(host);
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, written as a dotted quad.
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 3;
}

StatusOr<HttpFetchResponse> RegistryClient::Send(
    const std::string& path, const std::string& accept,
    const std::function<Status(std::string_view)>& sink) {
  HttpFetchRequest request;
  if (!accept.empty()) request.headers.emplace_back("Accept", accept);
  if (!authorization_.empty()) request.headers.emplace_back("Authorization", authorization_);
  request.sink = sink;
  HttpGetOptions http;
  http.ca_file = options_->ca_file;
  http.timeout = sink ? options_->blob_timeout : options_->request_timeout;
  http.max_bytes = sink ? options_->max_blob_bytes : std::size_t{4} << 20;
  bool plain_ok = AllowsPlainHttp(ref_.registry, options_->insecure_registries);
  http.allow_http = plain_ok;
  http.canceled = canceled_;
  std::string target = "/v2/" + ref_.repository + "/" + path;
  if (scheme_.empty()) {
    request.url = "https://" + ref_.registry + target;
    HttpFailure failure;
    StatusOr<HttpFetchResponse> got = HttpFetch(request, http, &failure);
    if (got.ok() || !plain_ok || failure != HttpFailure::kTls) {
      if (got.ok()) scheme_ = "https";
      return got;
    }
    scheme_ = "http";  // A plain HTTP registry on loopback or listed as insecure.
  }
  request.url = scheme_ + "://" + ref_.registry + target;
  return HttpFetch(request, http);
}

Status RegistryClient::Authenticate(const std::string& header) {
  AuthChallenge challenge = ParseAuthChallenge(header);
  StatusOr<std::optional<RegistryCredentials>> found = options_->credentials.For(ref_.registry);
  if (!found.ok()) {
    return Status::Error("cannot get the credentials for " + ref_.registry + ": " +
                         found.status().message());
  }
  const std::optional<RegistryCredentials>& credentials = *found;
  if (challenge.scheme == "basic") {
    if (!credentials) {
      return Status::Error("the registry " + ref_.registry +
                           " asks for a user name and password, and none is configured "
                           "(DOCKER_AUTH_CONFIG or ~/.docker/config.json)");
    }
    authorization_ = "Basic " + Base64Encode(credentials->username + ":" + credentials->password);
    return Status::Ok();
  }
  if (challenge.scheme != "bearer") {
    return Status::Error("the registry " + ref_.registry + " asks for `" + challenge.scheme +
                         "` authentication, which slipway does not speak");
  }
  std::string realm = challenge.Param("realm");
  HttpUrl realm_url;
  if (!ParseHttpUrl(realm, &realm_url)) {
    return Status::Error("the registry " + ref_.registry + " names a token service `" + realm +
                         "` that is not an http(s) URL");
  }
  std::string scope = challenge.Param("scope");
  if (scope.empty()) scope = "repository:" + ref_.repository + ":pull";
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  std::string service = challenge.Param("service");
  if (!service.empty()) url += "service=" + QueryEscape(service) + "&";
  url += "scope=" + QueryEscape(scope);
  HttpFetchRequest request;
  request.url = url;
  if (credentials) {
    request.headers.emplace_back(
        "Authorization",
        "Basic " + Base64Encode(credentials->username + ":" + credentials->password));
  }
  HttpGetOptions http;
  http.ca_file = options_->ca_file;
  http.timeout = options_->request_timeout;
  http.canceled = canceled_;
  http.allow_http =
      AllowsPlainHttp(realm_url.host + ":" + realm_url.port, options_->insecure_registries) ||
      AllowsPlainHttp(realm_url.host, options_->insecure_registries);
  StatusOr<HttpFetchResponse> got = HttpFetch(request, http);
  if (!got.ok()) {
    return Status::Error("cannot get a token for " + ref_.Repo() + ": " + got.status().message());
  }
  if (got->status == 401 || got->status == 403) {
    if (credentials) {
      return Status::Error("wrong credentials for " + ref_.registry + " (from " +
                           credentials->source + "): the token service answered " +
                           RegistryAnswer(*got));
    }
    return Status::Error("pull access denied for " + ref_.Repo() +
                         ", the repository does not exist or needs credentials: the token "
                         "service answered " +
                         RegistryAnswer(*got));
  }
  if (got->status != 200) {
    return Status::Error("cannot get a token for " + ref_.Repo() + ": the token service " +
                         RedactUrlCredentials(realm) + " answered " + RegistryAnswer(*got));
  }
  BoundedJson parsed = ParseBoundedJson(got->body);
  std::string token;
  if (parsed.error == JsonParseError::kNone && parsed.value.is_object()) {
    token = parsed.value.value("token", std::string());
    if (token.empty()) token = parsed.value.value("access_token", std::string());
  }
  if (token.empty()) {
    return Status::Error("the token service of " + ref_.registry + " answered without a token");
  }
  authorization_ = "Bearer " + token;
  return Status::Ok();
}

StatusOr<HttpFetchResponse> RegistryClient::Get(
    const std::string& path, const std::string& accept,
    const std::function<Status(std::string_view)>& sink) {
  StatusOr<HttpFetchResponse> got = Send(path, accept, sink);
  if (!got.ok() || got->status != 401) return got;
  std::string had = authorization_;
  Status authenticated = Authenticate(got->headers["www-authenticate"]);
  if (!authenticated.ok()) return authenticated;
  if (authorization_ == had) return got;  // Nothing new to try.
  return Send(path, accept, sink);
}

Status RegistryClient::AnswerError(const HttpFetchResponse& response,
                                   const std::string& what) const {
  std::string name = ref_.Canonical();
  if (response.status == 401 || response.status == 403) {
    StatusOr<std::optional<RegistryCredentials>> found = options_->credentials.For(ref_.registry);
    if (found.ok() && *found) {
      return Status::Error("access to " + name + " denied with the configured credentials: " +
                           what + " answered " + RegistryAnswer(response));
    }
    return Status::Error("pull access denied for " + name +
                         ", the repository does not exist or needs credentials: " + what +
                         " answered " + RegistryAnswer(response));
  }
  return Status::Error("cannot pull " + name + ": " + what + " answered " +
                       RegistryAnswer(response));
}

StatusOr<FetchedManifest> RegistryClient::GetManifest(const std::string& reference) {
  StatusOr<HttpFetchResponse> got = Get("manifests/" + reference, ManifestAcceptHeader(), nullptr);
  if (!got.ok()) {
    return Status::Error("cannot pull " + ref_.Canonical() + ": " + got.status().message());
  }
  if (got->status != 200) return AnswerError(*got, "the manifest request for `" + reference + "`");
  FetchedManifest manifest;
  manifest.media_type = got->headers["content-type"];
  manifest.body = std::move(got->body);
  manifest.digest = "sha256:" + Sha256Hex(manifest.body);
  if (reference.rfind("sha256:", 0) == 0 && manifest.digest != reference) {
    return Status::Error("cannot pull " + ref_.Canonical() + ": the registry sent a manifest " +
                         manifest.digest + " when asked for " + reference);
  }
  return manifest;
}

Status RegistryClient::GetBlob(const std::string& digest,
                               const std::function<Status(std::string_view)>& sink) {
  StatusOr<HttpFetchResponse> got = Get("blobs/" + digest, "", sink);
  if (!got.ok()) {
    return Status::Error("cannot pull " + ref_.Canonical() + ": blob " + digest + ": " +
                         got.status().message());
  }
  if (got->status / 100 != 2) return AnswerError(*got, "the request for blob " + digest);
  return Status::Ok();
}

}  // namespace slipway
