#include "exec/job_log.h"

#include <cerrno>
#include <cstring>

namespace slipway {

JobLogFile::~JobLogFile() {
  if (file_ != nullptr) std::fclose(file_);
}

Status JobLogFile::Open(const std::string& path) {
  std::lock_guard<std::mutex> guard(mu_);
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) return Status::Error("cannot open log '" + path + "': " + std::strerror(errno));
  if (file_ != nullptr) std::fclose(file_);
  file_ = f;
  return Status::Ok();
}

void JobLogFile::Append(std::string_view bytes) {
  std::lock_guard<std::mutex> guard(mu_);
  if (file_ != nullptr) {
    std::fwrite(bytes.data(), 1, bytes.size(), file_);
    std::fflush(file_);
  }
}

void JobLogFile::Write(std::string_view job_name, std::string_view bytes) {
  Append(bytes);
  if (next_ != nullptr) next_->Write(job_name, bytes);
}

Status JobLogFile::WriteChecked(std::string_view job_name, std::string_view bytes) {
  if (next_ != nullptr) {
    if (Status kept = next_->WriteChecked(job_name, bytes); !kept.ok()) return kept;
  }
  Append(bytes);
  return Status::Ok();
}

void MaskingLogSink::Write(std::string_view job_name, std::string_view bytes) {
  (void)WriteChecked(job_name, bytes);
}

Status MaskingLogSink::WriteChecked(std::string_view job_name, std::string_view bytes) {
  std::string out;
  std::lock_guard<std::mutex> guard(mu_);
  auto it = streams_.find(job_name);
  if (it == streams_.end())
    it = streams_.emplace(std::string(job_name), StreamMasker(patterns_)).first;
  StreamMasker before = it->second;
  it->second.Write(bytes, &out);
  // Under the lock, so that two writers' bytes reach next in the order
  // they were masked.
  if (out.empty() || next_ == nullptr) return Status::Ok();
  Status kept = next_->WriteChecked(job_name, out);
  if (!kept.ok()) it->second = std::move(before);
  return kept;
}

void MaskingLogSink::Flush() {
  std::lock_guard<std::mutex> guard(mu_);
  for (auto& [name, stream] : streams_) {
    std::string out;
    stream.Flush(&out);
    if (!out.empty() && next_ != nullptr) next_->Write(name, out);
  }
}

}  // namespace slipway
