#include "server/zip_writer.h"

#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include "exec/beneath_io.h"
#include "exec/file_tree.h"

namespace slipway {

namespace {

void Put16(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
}

void Put32(std::string* out, uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}

// Raw deflate (no zlib header), as ZIP's method 8 wants.
std::string Deflate(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

void ZipWriter::Add(std::string_view name, std::string_view data, int64_t mtime_unix,
                    uint32_t mode) {
  AddEntry(name, data, mtime_unix, S_IFREG | (mode & 07777), true);
}

void ZipWriter::AddDirectory(std::string_view name, int64_t mtime_unix, uint32_t mode) {
  AddEntry(std::string(name) + "/", "", mtime_unix, S_IFDIR | (mode & 07777), false);
}

void ZipWriter::AddSymlink(std::string_view name, std::string_view target, int64_t mtime_unix) {
  AddEntry(name, target, mtime_unix, S_IFLNK | 0777, false);
}

void ZipWriter::AddEntry(std::string_view name, std::string_view data, int64_t mtime_unix,
                         uint32_t unix_mode, bool deflate) {
  time_t t = static_cast<time_t>(mtime_unix);
  struct tm tm;
  gmtime_r(&t, &tm);
  uint32_t dos_time =
      static_cast<uint32_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  uint32_t dos_date = static_cast<uint32_t>((std::max(tm.tm_year - 80, 0) << 9) |
                                            ((tm.tm_mon + 1) << 5) | tm.tm_mday);
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  std::string compressed = deflate ? Deflate(data) : std::string();
  uint16_t method = 8;
  std::string_view stored = compressed;
  if (!deflate || compressed.size() >= data.size()) {  // Incompressible: store as is.
    method = 0;
    stored = data;
  }
  // MS-DOS attributes in the low byte: 0x10 marks a directory.
  uint32_t external = (unix_mode << 16) | (S_ISDIR(unix_mode) ? 0x10 : 0);
  uint32_t offset = static_cast<uint32_t>(out_.size());
  auto header = [&](std::string* out, bool central) {
    Put32(out, central ? 0x02014b50 : 0x04034b50);
    if (central) Put16(out, (3 << 8) | 20);  // Made by: Unix, spec 2.0.
    Put16(out, 20);                          // Needed to extract: 2.0.
    Put16(out, 1 << 11);                     // UTF-8 names.
    Put16(out, method);
    Put16(out, dos_time);
    Put16(out, dos_date);
    Put32(out, crc);
    Put32(out, static_cast<uint32_t>(stored.size()));
    Put32(out, static_cast<uint32_t>(data.size()));
    Put16(out, static_cast<uint32_t>(name.size()));
    Put16(out, 0);  // Extra field length.
    if (central) {
      Put16(out, 0);         // Comment length.
      Put16(out, 0);         // Disk number.
      Put16(out, 0);         // Internal attributes.
      Put32(out, external);  // External attributes: Unix type and mode.
      Put32(out, offset);
    }
    out->append(name);
  };
  header(&out_, false);
  out_.append(stored);
  header(&central_, true);
  ++entries_;
}

std::string ZipWriter::Finish() {
  uint32_t central_offset = static_cast<uint32_t>(out_.size());
  out_.append(central_);
  Put32(&out_, 0x06054b50);
  Put16(&out_, 0);
  Put16(&out_, 0);
  Put16(&out_, entries_);
  Put16(&out_, entries_);
  Put32(&out_, static_cast<uint32_t>(central_.size()));
  Put32(&out_, central_offset);
  Put16(&out_, 0);
  return std::move(out_);
}

StatusOr<std::string> ZipDirectory(const std::filesystem::path& root, int64_t max_input_bytes) {
  std::string root_path = root.string();
  StatusOr<UniqueFd> root_fd = OpenDirNoFollow(root_path);
  if (!root_fd.ok()) return root_fd.status();
  StatusOr<std::vector<TreeEntry>> entries = ListTreeAt(root_fd->get(), root_path);
  if (!entries.ok()) return entries.status();
  if (entries->size() > 65535) return Status::Error("more than 65,535 artifact files");
  auto too_large = [&] {
    return Status::Error("the artifacts are larger than " + std::to_string(max_input_bytes >> 20) +
                         " MiB; download files one by one");
  };
  ZipWriter zip;
  DirWalker walker = DirWalker::Reading(root_fd->get(), root_path);
  int64_t total = 0;
  for (const TreeEntry& e : *entries) {
    size_t slash = e.path.find_last_of('/');
    std::string parent = slash == std::string::npos ? "" : e.path.substr(0, slash);
    std::string name = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
    std::string shown = JoinPath(root_path, e.path);
    StatusOr<int> dir = walker.Enter(parent);
    if (!dir.ok()) return dir.status();
    struct stat st;
    if (fstatat(*dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::Error("cannot read " + shown);
    }
    int64_t mtime = st.st_mtim.tv_sec;
    if (S_ISDIR(st.st_mode)) {
      zip.AddDirectory(e.path, mtime, st.st_mode);
    } else if (S_ISLNK(st.st_mode)) {
      StatusOr<std::string> target = ReadLinkAt(*dir, name, shown);
      if (!target.ok()) return target.status();
      zip.AddSymlink(e.path, *target, mtime);
    } else if (S_ISREG(st.st_mode)) {
      total += st.st_size;
      if (total > max_input_bytes) return too_large();
      size_t budget = static_cast<size_t>(max_input_bytes - total + st.st_size);
      StatusOr<std::string> data = ReadFileBeneath(*dir, name, shown, budget);
      if (!data.ok()) return data.status();
      zip.Add(e.path, *data, mtime, st.st_mode);
    }  // Fifos, sockets, devices: not artifacts.
  }
  return zip.Finish();
}

}  // namespace slipway
