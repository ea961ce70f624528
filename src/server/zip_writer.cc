#include "server/zip_writer.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

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

void ZipWriter::Add(std::string_view name, std::string_view data, int64_t mtime_unix) {
  time_t t = static_cast<time_t>(mtime_unix);
  struct tm tm;
  gmtime_r(&t, &tm);
  uint32_t dos_time = static_cast<uint32_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  uint32_t dos_date = static_cast<uint32_t>((std::max(tm.tm_year - 80, 0) << 9) |
                                            ((tm.tm_mon + 1) << 5) | tm.tm_mday);
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  std::string compressed = Deflate(data);
  uint16_t method = 8;
  std::string_view stored = compressed;
  if (compressed.size() >= data.size()) {  // Incompressible: store as is.
    method = 0;
    stored = data;
  }
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
      Put16(out, 0);                 // Comment length.
      Put16(out, 0);                 // Disk number.
      Put16(out, 0);                 // Internal attributes.
      Put32(out, 0100644u << 16);    // External attributes: a regular file, rw-r--r--.
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
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  int64_t total = 0;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    total += static_cast<int64_t>(it->file_size(ec));
    files.push_back(it->path());
  }
  if (ec) return Status::Error("cannot list " + root.string() + ": " + ec.message());
  if (total > max_input_bytes) {
    return Status::Error("the artifacts are larger than " + std::to_string(max_input_bytes >> 20) +
                         " MiB; download files one by one");
  }
  if (files.size() > 65535) return Status::Error("more than 65,535 artifact files");
  std::sort(files.begin(), files.end());
  ZipWriter zip;
  for (const fs::path& file : files) {
    StatusOr<std::string> data = ReadFile(file.string(), static_cast<size_t>(max_input_bytes));
    if (!data.ok()) return Status::Error("cannot read " + file.string());
    auto mtime = fs::last_write_time(file, ec);
    int64_t unix_time = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                            .count();
    zip.Add(fs::relative(file, root).generic_string(), *data, unix_time);
  }
  return zip.Finish();
}

}  // namespace slipway
