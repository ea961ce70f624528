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

void JobLogFile::Write(std::string_view job_name, std::string_view bytes) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (file_ != nullptr) {
      std::fwrite(bytes.data(), 1, bytes.size(), file_);
      std::fflush(file_);
    }
  }
  if (next_ != nullptr) next_->Write(job_name, bytes);
}

}  // namespace slipway
