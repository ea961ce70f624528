#include "config/network_fetcher.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "util/redact.h"

namespace slipway {

std::string WithoutCredentials(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return url;
  return url.substr(0, start) + authority.substr(at + 1) +
         (end == std::string::npos ? "" : url.substr(end));
}

FetchOptions FetchOptionsFromEnvironment() {
  FetchOptions options;
  const char* source = std::getenv("SLIPWAY_TEMPLATE_SOURCE");
  if (source != nullptr && source[0] != '\0') options.template_source = source;
  const char* components = std::getenv("SLIPWAY_COMPONENT_SERVER");
  if (components != nullptr) options.component_server = components;
  while (!options.template_source.empty() && options.template_source.back() == '/') {
    options.template_source.pop_back();
  }
  return options;
}

NetworkFetcher::NetworkFetcher(FetchOptions options)
    : options_(std::move(options)),
      cache_(options_.cache_dir.empty() ? DefaultIncludeCacheDir() : options_.cache_dir),
      deadline_(std::chrono::steady_clock::now() + options_.total_timeout) {}

StatusOr<std::chrono::milliseconds> NetworkFetcher::TimeLeft(FetchError* error) const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline_ - std::chrono::steady_clock::now());
  if (left.count() > 0) return left;
  error->kind = FetchError::Kind::kTimeout;
  error->detail = "Resolving config took longer than expected (" +
                  std::to_string(options_.total_timeout.count() / 1000) +
                  " s for all fetched includes)";
  return Status::Error(error->detail);
}

StatusOr<FetchedFile> NetworkFetcher::FetchUrl(const std::string& url, FetchError* error) {
  return Fetch("remote", url, error);
}

StatusOr<FetchedFile> NetworkFetcher::FetchTemplate(const std::string& name, FetchError* error) {
  return Fetch("template", options_.template_source + "/" + name, error);
}

StatusOr<FetchedFile> NetworkFetcher::Fetch(const std::string& kind, const std::string& url,
                                            FetchError* error) {
  // Refused before the cache is asked, so that the answer does not depend
  // on what an earlier, permitted run left there.
  HttpUrl parsed;
  if (ParseHttpUrl(url, &parsed) && parsed.scheme == "http" && !options_.http.allow_http) {
    error->kind = FetchError::Kind::kRefused;
    error->detail = "only HTTPS is allowed (--allow-http-includes allows HTTP)";
    return Status::Error(error->detail);
  }
  std::string key = WithoutCredentials(url);
  FetchedFile file;
  file.origin = RedactUrlCredentials(url);
  if (options_.use_cache && (!options_.refresh || options_.offline)) {
    if (std::optional<std::string> cached = cache_.Get(kind, key)) {
      file.content = std::move(*cached);
      file.from_cache = true;
      return file;
    }
  }
  if (options_.offline) {
    error->kind = FetchError::Kind::kNotCached;
    error->detail = "--offline, and the include cache `" + cache_.root() + "` has no copy of it";
    return Status::Error(error->detail);
  }
  StatusOr<std::chrono::milliseconds> left = TimeLeft(error);
  if (!left.ok()) return left.status();
  HttpGetOptions http = options_.http;
  http.timeout = std::min(http.timeout, *left);
  HttpFailure failure;
  StatusOr<HttpGetResult> got = HttpGet(url, http, &failure);
  if (!got.ok()) {
    error->detail = got.status().message();
    switch (failure) {
      case HttpFailure::kSocket: error->kind = FetchError::Kind::kSocket; break;
      case HttpFailure::kTimeout: error->kind = FetchError::Kind::kTimeout; break;
      case HttpFailure::kTls: error->kind = FetchError::Kind::kTls; break;
      case HttpFailure::kHttpRefused:  // A redirect to http://.
        error->kind = FetchError::Kind::kRefused;
        break;
      default: error->kind = FetchError::Kind::kOther; break;
    }
    return got.status();
  }
  if (got->status >= 400 || got->status < 200) {
    error->kind = FetchError::Kind::kHttpStatus;
    error->http_status = got->status;
    error->detail = "HTTP " + std::to_string(got->status);
    return Status::Error(error->detail);
  }
  file.content = std::move(got->body);
  if (options_.use_cache) {
    // A cache that cannot be written costs speed, not correctness.
    (void)cache_.Put(kind, key, file.content);
  }
  return file;
}

}  // namespace slipway
