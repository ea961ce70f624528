// Test helper (header-only, tests only): a LogSink that keeps every job's
// output together, in the order written.
#ifndef SLIPWAY_EXEC_TEST_LOG_SINK_H_
#define SLIPWAY_EXEC_TEST_LOG_SINK_H_

#include <mutex>
#include <string>
#include <string_view>

#include "exec/executor.h"
#include "util/thread_annotations.h"

namespace slipway {

class TextSink : public LogSink {
 public:
  void Write(std::string_view, std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    text_.append(bytes);
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  std::mutex mu_;
  std::string text_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_TEST_LOG_SINK_H_
