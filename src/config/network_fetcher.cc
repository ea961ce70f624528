#include "config/network_fetcher.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <utility>

#include "util/redact.h"

namespace slipway {

std::string WithoutCredentials(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
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

void NetworkFetcher::Prefetch(const std::vector<PrefetchRequest>& all) {
  if (options_.offline) return;  // The cache answers at once anyway.
  // What the cache answers is left to the calls that follow: threads pay
  // only for what goes over the network.
  std::vector<PrefetchRequest> requests;
  bool cached_ok = options_.use_cache && !options_.refresh;
  for (const PrefetchRequest& r : all) {
    bool cached = false;
    if (cached_ok && r.kind == PrefetchRequest::Kind::kUrl) {
      cached = cache_.Get("remote", WithoutCredentials(r.name)).has_value();
    } else if (cached_ok && r.kind == PrefetchRequest::Kind::kTemplate) {
      cached = cache_.Get("template", WithoutCredentials(TemplateUrl(r.name))).has_value();
    }
    if (!cached) requests.push_back(r);
  }
  if (requests.size() < 2) return;
  std::vector<Answer<FetchedFile>> files(requests.size(), {Status::Error(""), {}});
  std::vector<Answer<ProjectCommit>> projects(requests.size(), {Status::Error(""), {}});
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < requests.size(); i = next++) {
      const PrefetchRequest& r = requests[i];
      switch (r.kind) {
        case PrefetchRequest::Kind::kUrl:
          files[i].result = Fetch("remote", r.name, &files[i].error);
          break;
        case PrefetchRequest::Kind::kTemplate:
          files[i].result = Fetch("template", TemplateUrl(r.name), &files[i].error);
          break;
        case PrefetchRequest::Kind::kProject:
          projects[i].result = FetchProjectNow(r.name, r.ref, &projects[i].error);
          break;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(kPrefetchThreads, requests.size()); ++t)
    threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < requests.size(); ++i) {
    const PrefetchRequest& r = requests[i];
    if (r.kind == PrefetchRequest::Kind::kProject) {
      prefetched_projects_.insert_or_assign(r.name + "\n" + r.ref, std::move(projects[i]));
    } else {
      std::string url = r.kind == PrefetchRequest::Kind::kUrl ? r.name : TemplateUrl(r.name);
      prefetched_files_.insert_or_assign(url, std::move(files[i]));
    }
  }
}

std::string NetworkFetcher::TemplateUrl(const std::string& name) const {
  return options_.template_source + "/" + name;
}

StatusOr<FetchedFile> NetworkFetcher::FetchUrl(const std::string& url, FetchError* error) {
  if (auto kept = TakePrefetched(&prefetched_files_, url)) {
    *error = kept->error;
    return std::move(kept->result);
  }
  return Fetch("remote", url, error);
}

StatusOr<FetchedFile> NetworkFetcher::FetchTemplate(const std::string& name, FetchError* error) {
  std::string url = TemplateUrl(name);
  if (auto kept = TakePrefetched(&prefetched_files_, url)) {
    *error = kept->error;
    return std::move(kept->result);
  }
  return Fetch("template", url, error);
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
      case HttpFailure::kSocket:
        error->kind = FetchError::Kind::kSocket;
        break;
      case HttpFailure::kTimeout:
        error->kind = FetchError::Kind::kTimeout;
        break;
      case HttpFailure::kTls:
        error->kind = FetchError::Kind::kTls;
        break;
      case HttpFailure::kAddressRefused:
      case HttpFailure::kHttpRefused:  // A redirect to http://.
        error->kind = FetchError::Kind::kRefused;
        break;
      default:
        error->kind = FetchError::Kind::kOther;
        break;
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
