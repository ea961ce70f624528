// POSTs that must reach another server eventually, sent from a thread of
// its own so that nobody waits for them: CDEvents (cdevents_publisher.h),
// commit statuses to the forge (forge_status.h). A request that gets no
// answer or one other than 2xx is retried with exponential back-off, up to
// max_attempts, then dropped (and said on stderr). Requests are kept in
// memory only. A request queued under the key of one still waiting replaces
// it: the latest state wins, and a forge never sees "running" after
// "success" because a retry came late.
#ifndef SLIPWAY_SERVER_RETRYING_SENDER_H_
#define SLIPWAY_SERVER_RETRYING_SENDER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "util/http_get.h"
#include "util/thread_annotations.h"

namespace slipway {

struct RetryOptions {
  std::string what = "delivery";                // Names the sender in stderr lines.
  std::chrono::milliseconds first_retry{1000};  // Doubled after each failure...
  std::chrono::milliseconds max_retry{60000};   // ...up to this.
  int max_attempts = 8;
  std::size_t max_pending = 10000;          // More: the oldest is dropped (and said).
  std::chrono::milliseconds timeout{5000};  // Per request.
  std::size_t max_response_bytes = 64 << 10;
  std::string ca_file;  // For https URLs; empty: the system's CAs.
};

class RetryingSender {
 public:
  // Called on the sender's thread, without its lock, once a request was
  // answered 2xx (ok, error empty) or given up (error says the last
  // failure); not for a request replaced or dropped unsent. Must be quick.
  using Done = std::function<void(bool ok, const std::string& error)>;

  struct Request {
    // Non-empty: a waiting request with the same key is replaced.
    std::string key;
    // The request; for stderr lines its URL is shown without the query.
    HttpFetchRequest http;
    Done done;  // May be empty.
  };

  explicit RetryingSender(RetryOptions options);  // Starts the thread.
  ~RetryingSender();                              // Stops the thread; what was not sent is dropped.
  RetryingSender(const RetryingSender&) = delete;
  RetryingSender& operator=(const RetryingSender&) = delete;

  void Send(Request request);

  struct Counts {
    int64_t delivered = 0, retried = 0, dropped = 0;
  };
  Counts counts();

 private:
  struct Pending {
    Request request;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void Run();
  // One attempt; true on a 2xx answer, else *error says why.
  bool Attempt(const HttpFetchRequest& request, std::string* error) const;

  const RetryOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::deque<Pending> pending_ GUARDED_BY(mu_);
  Counts counts_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_RETRYING_SENDER_H_
