#include "cli/runner_artifacts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "util/unique_fd.h"

namespace slipway {

namespace {

// Below the server's 1 MiB request body limit.
constexpr size_t kChunkBytes = 768 << 10;
// What an unpacked download may hold (the server bounds uploads alike).
constexpr uint64_t kMaxUnpackedBytes = uint64_t{64} << 30;

std::string Answer(const HttpFetchResponse& r) {
  return "the server answered " + std::to_string(r.status) + " " + r.body;
}

}  // namespace

StatusOr<std::string> RemoteArtifacts::Fetch(const JobSpec::ArtifactSource& source) {
  std::string id = std::to_string(source.job_id);
  std::string archive = work_dir_ + "/from-" + id + ".tar";
  std::string into = work_dir_ + "/from-" + id;
  std::remove(archive.c_str());
  FILE* out = std::fopen(archive.c_str(), "wbx");
  if (out == nullptr) return Status::Error("cannot create " + archive);
  std::string error_body;
  StatusOr<HttpFetchResponse> got =
      call_("GET", job_path_ + "/artifacts/" + id + fence_, "", [&](std::string_view chunk) {
        if (std::fwrite(chunk.data(), 1, chunk.size(), out) != chunk.size()) {
          return Status::Error("cannot write " + archive);
        }
        return Status::Ok();
      });
  bool closed = std::fclose(out) == 0;
  if (!got.ok()) return got.status();
  if (got->status == 404) return std::string();  // The job left none.
  if (got->status != 200) return Status::Error(Answer(*got));
  if (!closed) return Status::Error("cannot write " + archive);
  auto digest = got->headers.find("x-slipway-archive-digest");
  struct stat st;
  if (digest == got->headers.end() || stat(archive.c_str(), &st) != 0) {
    return Status::Error("the server sent the artifacts of job " + id + " without their digest");
  }
  ArchiveFile expected{static_cast<uint64_t>(st.st_size), digest->second};
  Status unpacked = UnpackTree(archive, expected, into, kMaxUnpackedBytes);
  std::remove(archive.c_str());
  if (!unpacked.ok()) return unpacked;
  return into;
}

StatusOr<std::optional<ArchiveFile>> UploadArtifacts(const RunnerCall& call,
                                                     const std::string& job_path,
                                                     const std::string& fence,
                                                     const std::string& job_dir,
                                                     const std::string& work_dir) {
  std::string archive = work_dir + "/artifacts.tar";
  std::remove(archive.c_str());
  StatusOr<ArchiveFile> packed = PackTree(job_dir, {"artifacts", "reports"}, archive);
  if (!packed.ok()) return packed.status();
  if (packed->size == 0) return std::optional<ArchiveFile>();
  UniqueFd fd(open(archive.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return Status::Error("cannot open " + archive + ": " + std::strerror(errno));
  std::vector<char> buffer(kChunkBytes);
  uint64_t offset = 0;
  for (;;) {
    ssize_t n = read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error("cannot read " + archive + ": " + std::strerror(errno));
    if (n == 0) break;
    std::string path = job_path + "/artifacts" + fence + "&offset=" + std::to_string(offset);
    // A dropped connection or a server error is tried again, twice; the
    // server takes a chunk again at the same offset only if it lost it.
    StatusOr<HttpFetchResponse> sent = Status::Error("not sent");
    for (int attempt = 0; attempt < 3; ++attempt) {
      sent = call("PUT", path, std::string(buffer.data(), static_cast<size_t>(n)), nullptr);
      if (sent.ok() && sent->status < 500) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (!sent.ok()) return sent.status();
    if (sent->status != 200) return Status::Error(Answer(*sent));
    offset += static_cast<uint64_t>(n);
  }
  return std::optional<ArchiveFile>(*packed);
}

}  // namespace slipway
