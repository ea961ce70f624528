// A job's full log on disk: every byte an attempt produces is appended to
// <job_dir>/log and passed on to the live output, with masked variables'
// values hidden before either sees them.
#ifndef SLIPWAY_EXEC_JOB_LOG_H_
#define SLIPWAY_EXEC_JOB_LOG_H_

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "exec/executor.h"
#include "util/secret_mask.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {

class JobLogFile : public LogSink {
 public:
  // next may be null. Nothing is written to disk until Open succeeds.
  explicit JobLogFile(LogSink* next) : next_(next) {}
  ~JobLogFile() override;
  JobLogFile(const JobLogFile&) = delete;
  JobLogFile& operator=(const JobLogFile&) = delete;

  // Opens path for appending (a retried job's attempts share one log),
  // creating it if needed.
  Status Open(const std::string& path);
  // Thread-safe. A failing disk write is not fatal to the job: the bytes
  // still reach next.
  void Write(std::string_view job_name, std::string_view bytes) override;
  // The bytes go to the file only once next kept them, so that a chunk
  // written again after an error is in the file once.
  Status WriteChecked(std::string_view job_name, std::string_view bytes) override;

 private:
  void Append(std::string_view bytes);

  LogSink* next_;
  std::mutex mu_;
  std::FILE* file_ GUARDED_BY(mu_) = nullptr;
};

// Passes a job's output on to next with the values of patterns hidden,
// also when a value is split across writes (util/secret_mask.h). Call
// Flush once the attempt ended: it releases the bytes held back in case
// they began a secret. Thread-safe.
class MaskingLogSink : public LogSink {
 public:
  // patterns and next must outlive the sink.
  MaskingLogSink(const MaskPatterns* patterns, LogSink* next) : patterns_(patterns), next_(next) {}
  ~MaskingLogSink() override { Flush(); }
  MaskingLogSink(const MaskingLogSink&) = delete;
  MaskingLogSink& operator=(const MaskingLogSink&) = delete;

  void Write(std::string_view job_name, std::string_view bytes) override;
  // When next refuses the masked bytes, the stream is left as it was before
  // bytes (nothing of them is held back either): the same bytes may come again.
  Status WriteChecked(std::string_view job_name, std::string_view bytes) override;
  void Flush();

 private:
  const MaskPatterns* patterns_;
  LogSink* next_;
  std::mutex mu_;
  // By job name: each name is its own stream.
  std::map<std::string, StreamMasker, std::less<>> streams_ GUARDED_BY(mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JOB_LOG_H_
