#include "image/tar_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "exec/beneath_io.h"

namespace slipway {

namespace {

constexpr size_t kBlock = 512;

// Writes value as octal into a field of width bytes (NUL-terminated), or
// returns false when it does not fit.
bool Octal(char* field, size_t width, uint64_t value) {
  char text[32];
  int n = std::snprintf(text, sizeof text, "%0*llo", static_cast<int>(width - 1),
                        static_cast<unsigned long long>(value));
  if (n < 0 || static_cast<size_t>(n) > width - 1) return false;
  std::memcpy(field, text, static_cast<size_t>(n) + 1);
  return true;
}

// A PAX record "LEN key=value\n", LEN counting itself.
std::string PaxRecord(const std::string& key, const std::string& value) {
  size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'.
  size_t len = body + std::to_string(body).size();
  if (std::to_string(len).size() != std::to_string(body).size()) ++len;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

std::string Header(char type, const std::string& name, const std::string& link, mode_t mode,
                   uint64_t size, int64_t mtime) {
  char h[kBlock] = {};
  std::memcpy(h, name.data(), std::min(name.size(), size_t{100}));
  Octal(h + 100, 8, mode & 07777);
  Octal(h + 108, 8, 0);
  Octal(h + 116, 8, 0);
  if (!Octal(h + 124, 12, size)) Octal(h + 124, 12, 0);  // The PAX header has it.
  Octal(h + 136, 12, mtime > 0 ? static_cast<uint64_t>(mtime) : 0);
  h[156] = type;
  std::memcpy(h + 157, link.data(), std::min(link.size(), size_t{100}));
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  return std::string(h, kBlock);
}

std::string Padding(uint64_t size) { return std::string((kBlock - size % kBlock) % kBlock, '\0'); }

// The headers of one entry: a PAX header first when ustar cannot hold it.
std::string Headers(char type, const std::string& name, const std::string& link, mode_t mode,
                    uint64_t size, int64_t mtime) {
  std::string pax;
  if (name.size() > 100) pax += PaxRecord("path", name);
  if (link.size() > 100) pax += PaxRecord("linkpath", link);
  if (size >= (uint64_t{1} << 33)) pax += PaxRecord("size", std::to_string(size));
  std::string out;
  if (!pax.empty()) {
    out = Header('x', "PaxHeader", "", 0644, pax.size(), mtime) + pax + Padding(pax.size());
  }
  return out + Header(type, name, link, mode, size, mtime);
}

}  // namespace

Status WriteTar(int root_fd, const std::string& root_path, const std::vector<TreeEntry>& entries,
                const std::function<Status(std::string_view)>& sink) {
  std::vector<char> buffer(size_t{1} << 20);
  for (const TreeEntry& entry : entries) {
    std::string shown = root_path + "/" + entry.path;
    if (entry.type != EntryType::kFile && entry.type != EntryType::kDirectory &&
        entry.type != EntryType::kSymlink) {
      continue;
    }
    // O_PATH opens a symlink itself (O_NOFOLLOW is added); a file is opened
    // for reading, and a fifo in its place would block, hence O_NONBLOCK.
    int flags = entry.type == EntryType::kFile ? O_RDONLY | O_NONBLOCK : O_PATH;
    StatusOr<UniqueFd> fd = OpenBeneath(root_fd, entry.path, flags, shown);
    if (!fd.ok()) {
      if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) continue;  // Changed meanwhile.
      return fd.status();
    }
    struct stat st;
    if (fstat(fd->get(), &st) != 0) {
      return Status::Error("cannot stat " + shown + ": " + std::strerror(errno));
    }
    Status sent;
    if (S_ISDIR(st.st_mode)) {
      sent = sink(Headers('5', entry.path + "/", "", st.st_mode, 0, st.st_mtime));
    } else if (S_ISLNK(st.st_mode)) {
      char target[4097];
      ssize_t n = readlinkat(fd->get(), "", target, sizeof target);
      if (n < 0 || static_cast<size_t>(n) >= sizeof target) {
        return Status::Error("cannot read the symlink " + shown);
      }
      sent = sink(Headers('2', entry.path, std::string(target, static_cast<size_t>(n)), 0777, 0,
                          st.st_mtime));
    } else if (S_ISREG(st.st_mode)) {
      uint64_t size = static_cast<uint64_t>(st.st_size);
      sent = sink(Headers('0', entry.path, "", st.st_mode, size, st.st_mtime));
      uint64_t left = size;
      while (sent.ok() && left > 0) {
        ssize_t n = read(fd->get(), buffer.data(), std::min<uint64_t>(buffer.size(), left));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Status::Error("cannot read " + shown + ": " + std::strerror(errno));
        if (n == 0) {
          // It shrank while it was read: the header promised size bytes.
          std::fill(buffer.begin(), buffer.end(), '\0');
          n = static_cast<ssize_t>(std::min<uint64_t>(buffer.size(), left));
        }
        sent = sink(std::string_view(buffer.data(), static_cast<size_t>(n)));
        left -= static_cast<uint64_t>(n);
      }
      if (sent.ok()) sent = sink(Padding(size));
    } else {
      continue;  // A fifo or device where a file was listed.
    }
    if (!sent.ok()) return sent;
  }
  return sink(std::string(2 * kBlock, '\0'));
}

}  // namespace slipway
