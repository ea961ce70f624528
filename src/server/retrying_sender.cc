#include "server/retrying_sender.h"
#include "util/logger.h"

#include <algorithm>
#include <cstdio>

namespace slipway {
namespace {

// The URL as stderr shows it: no query string (where tokens travel).
std::string Shown(const std::string& url) { return url.substr(0, url.find('?')); }

}  // namespace

RetryingSender::RetryingSender(RetryOptions options)
    : options_(std::move(options)), thread_([this] { Run(); }) {}

RetryingSender::~RetryingSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

RetryingSender::Counts RetryingSender::counts() {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void RetryingSender::Send(Request request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!request.key.empty()) {
      auto same = std::find_if(pending_.begin(), pending_.end(),
                               [&](const Pending& p) { return p.request.key == request.key; });
      if (same != pending_.end()) pending_.erase(same);
    }
    if (pending_.size() >= options_.max_pending) {
      LogLine(LogLevel::kWarn, "delivery_dropped")
          .Str("what", options_.what)
          .Str("url", Shown(pending_.front().request.http.url))
          .Int("waiting", static_cast<int64_t>(pending_.size()));
      pending_.pop_front();
      ++counts_.dropped;
    }
    pending_.push_back({std::move(request), 0, std::chrono::steady_clock::now()});
  }
  wake_.notify_all();
}

bool RetryingSender::Attempt(const HttpFetchRequest& request, std::string* error) const {
  HttpGetOptions options;
  options.allow_http = true;
  options.max_redirects = 0;
  options.max_bytes = options_.max_response_bytes;
  options.timeout = options_.timeout;
  options.ca_file = options_.ca_file;
  auto response = HttpFetch(request, options);
  if (!response.ok()) {
    *error = response.status().message();
    return false;
  }
  if (response->status < 200 || response->status > 299) {
    *error = "HTTP " + std::to_string(response->status);
    return false;
  }
  return true;
}

void RetryingSender::Run() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // The first request due, if any, is sent without the lock held.
    auto due = std::find_if(pending_.begin(), pending_.end(),
                            [&](const Pending& p) { return p.due <= Clock::now(); });
    if (due == pending_.end()) {
      if (pending_.empty()) {
        wake_.wait(lock);
      } else {
        Clock::time_point until = pending_.front().due;
        for (const Pending& p : pending_) until = std::min(until, p.due);
        wake_.wait_until(lock, until);
      }
      continue;
    }
    Pending pending = std::move(*due);
    pending_.erase(due);
    lock.unlock();
    std::string error;
    bool sent = Attempt(pending.request.http, &error);
    bool give_up = !sent && ++pending.attempts >= options_.max_attempts;
    if ((sent || give_up) && pending.request.done) pending.request.done(sent, error);
    lock.lock();
    if (sent) {
      ++counts_.delivered;
    } else if (give_up) {
      ++counts_.dropped;
      LogLine(LogLevel::kWarn, "delivery_failed")
          .Str("what", options_.what)
          .Str("url", Shown(pending.request.http.url))
          .Int("attempts", pending.attempts)
          .Str("error", error);
    } else {
      ++counts_.retried;
      // A newer request with the same key, queued meanwhile, wins.
      bool replaced = !pending.request.key.empty() &&
                      std::any_of(pending_.begin(), pending_.end(), [&](const Pending& p) {
                        return p.request.key == pending.request.key;
                      });
      if (!replaced) {
        auto wait = std::min(options_.max_retry,
                             options_.first_retry * (1 << std::min(pending.attempts - 1, 16)));
        pending.due = Clock::now() + wait;
        pending_.push_back(std::move(pending));
      }
    }
  }
}

}  // namespace slipway
