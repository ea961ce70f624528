#include "image/tar_reader.h"

#include <cstring>
#include <vector>

namespace slipway {
namespace {

constexpr size_t kBlock = 512;

// A numeric header field: octal digits (spaces and NULs around them), or
// base-256 when the first byte's high bit is set. -1 when malformed.
int64_t ParseNumber(const char* field, size_t len) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(field);
  if (len > 0 && (p[0] & 0x80) != 0) {
    if ((p[0] & 0x40) != 0) return -1;  // Negative.
    int64_t value = p[0] & 0x3f;
    for (size_t i = 1; i < len; ++i) {
      if (value > (INT64_MAX >> 8)) return -1;
      value = (value << 8) | p[i];
    }
    return value;
  }
  size_t i = 0;
  while (i < len && (field[i] == ' ' || field[i] == '\0')) ++i;
  int64_t value = 0;
  bool digits = false;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value > (INT64_MAX >> 3)) return -1;
    value = value * 8 + (field[i] - '0');
    digits = true;
  }
  for (; i < len; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return -1;
  }
  return digits ? value : 0;
}

std::string Field(const char* p, size_t len) { return std::string(p, strnlen(p, len)); }

}  // namespace

Status TarReader::Error(const std::string& why) const {
  return Status::Error(name_ + ": not a valid tar archive near byte " + std::to_string(offset_) +
                       ": " + why);
}

Status TarReader::ReadExact(char* buf, size_t n) {
  size_t have = 0;
  while (have < n) {
    StatusOr<size_t> got = in_->Read(buf + have, n - have);
    if (!got.ok()) return got.status();
    if (*got == 0) return Error("it ends in the middle of an entry");
    have += *got;
  }
  offset_ += static_cast<int64_t>(n);
  return Status::Ok();
}

Status TarReader::Skip(int64_t n) {
  char buf[8192];
  while (n > 0) {
    size_t take = static_cast<size_t>(std::min<int64_t>(n, sizeof buf));
    Status read = ReadExact(buf, take);
    if (!read.ok()) return read;
    n -= static_cast<int64_t>(take);
  }
  return Status::Ok();
}

StatusOr<std::string> TarReader::ReadBlob(int64_t size, const char* what) {
  if (size < 0 || static_cast<size_t>(size) > kMaxPaxBytes) {
    return Error(std::string("a ") + what + " larger than " + std::to_string(kMaxPaxBytes) +
                 " bytes");
  }
  std::string data(static_cast<size_t>(size), '\0');
  Status read = ReadExact(data.data(), data.size());
  if (!read.ok()) return read;
  int64_t pad = (kBlock - size % kBlock) % kBlock;
  read = Skip(pad);
  if (!read.ok()) return read;
  return data;
}

StatusOr<size_t> TarReader::ReadData(char* buf, size_t n) {
  if (left_ == 0) return size_t{0};
  size_t take = static_cast<size_t>(std::min<int64_t>(left_, static_cast<int64_t>(n)));
  Status read = ReadExact(buf, take);
  if (!read.ok()) return read;
  left_ -= static_cast<int64_t>(take);
  return take;
}

StatusOr<bool> TarReader::Next(TarEntry* entry) {
  Status skipped = Skip(left_ + padding_);
  if (!skipped.ok()) return skipped;
  left_ = padding_ = 0;
  std::string long_name, long_link, pax_path, pax_link;
  int64_t pax_size = -1;
  while (true) {
    char header[kBlock];
    size_t have = 0;
    while (have < kBlock) {
      StatusOr<size_t> got = in_->Read(header + have, kBlock - have);
      if (!got.ok()) return got.status();
      if (*got == 0) break;
      have += *got;
    }
    if (have == 0) return false;  // No end blocks: tolerated, as GNU tar does.
    if (have < kBlock) return Error("it ends in the middle of a header");
    bool zero = true;
    for (char c : header) zero = zero && c == '\0';
    if (zero) return false;  // The end-of-archive blocks; what follows is not read.
    int64_t stored = ParseNumber(header + 148, 8);
    int64_t sum = 0, signed_sum = 0;
    for (size_t i = 0; i < kBlock; ++i) {
      unsigned char c = (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
      sum += c;
      signed_sum += static_cast<signed char>(c);
    }
    if (stored < 0 || (stored != sum && stored != signed_sum)) {
      return Error("a header's checksum is wrong");
    }
    int64_t size = ParseNumber(header + 124, 12);
    if (size < 0) return Error("a header's size is not a number");
    offset_ += kBlock;  // The header's own bytes (read without ReadExact).
    char type = header[156];
    if (type == 'L' || type == 'K') {
      StatusOr<std::string> name = ReadBlob(size, "GNU long name");
      if (!name.ok()) return name.status();
      (type == 'L' ? long_name : long_link) = Field(name->data(), name->size());
      continue;
    }
    if (type == 'x' || type == 'g') {
      StatusOr<std::string> records = ReadBlob(size, "PAX header");
      if (!records.ok()) return records.status();
      if (type == 'g') continue;  // Global defaults: nothing layers rely on.
      // "<length> <key>=<value>\n" records.
      size_t at = 0;
      while (at < records->size()) {
        size_t space = records->find(' ', at);
        if (space == std::string::npos) return Error("a malformed PAX record");
        size_t length = 0;
        for (size_t i = at; i < space; ++i) {
          char c = (*records)[i];
          if (c < '0' || c > '9' || length > kMaxPaxBytes) return Error("a malformed PAX record");
          length = length * 10 + static_cast<size_t>(c - '0');
        }
        if (length <= space - at + 1 || at + length > records->size() ||
            (*records)[at + length - 1] != '\n') {
          return Error("a malformed PAX record");
        }
        std::string record = records->substr(space + 1, at + length - space - 2);
        size_t eq = record.find('=');
        if (eq == std::string::npos) return Error("a malformed PAX record");
        std::string key = record.substr(0, eq), value = record.substr(eq + 1);
        if (key == "path") pax_path = value;
        if (key == "linkpath") pax_link = value;
        if (key == "size") {
          pax_size = 0;
          for (char c : value) {
            if (c < '0' || c > '9' || pax_size > (INT64_MAX / 10 - 10)) {
              return Error("a PAX size that is not a number");
            }
            pax_size = pax_size * 10 + (c - '0');
          }
        }
        at += length;
      }
      continue;
    }
    *entry = TarEntry();
    std::string name = Field(header, 100);
    if (std::memcmp(header + 257, "ustar", 5) == 0) {
      std::string prefix = Field(header + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    entry->path = !pax_path.empty() ? pax_path : !long_name.empty() ? long_name : name;
    entry->link_target = !pax_link.empty()    ? pax_link
                         : !long_link.empty() ? long_link
                                              : Field(header + 157, 100);
    if (entry->path.size() > kMaxPathBytes || entry->link_target.size() > kMaxPathBytes) {
      return Error("a name longer than " + std::to_string(kMaxPathBytes) + " bytes");
    }
    if (pax_size >= 0) size = pax_size;
    int64_t mode = ParseNumber(header + 100, 8);
    entry->mode = static_cast<mode_t>(mode < 0 ? 0644 : mode & 07777);
    int64_t mtime = ParseNumber(header + 136, 12);
    entry->mtime = mtime < 0 ? 0 : mtime;
    switch (type) {
      case '0':
      case '\0':
      case '7':
        entry->type = TarEntry::Type::kFile;
        break;
      case '1':
        entry->type = TarEntry::Type::kHardLink;
        break;
      case '2':
        entry->type = TarEntry::Type::kSymlink;
        break;
      case '3':
        entry->type = TarEntry::Type::kCharDevice;
        break;
      case '4':
        entry->type = TarEntry::Type::kBlockDevice;
        break;
      case '5':
        entry->type = TarEntry::Type::kDirectory;
        break;
      case '6':
        entry->type = TarEntry::Type::kFifo;
        break;
      default:
        return Error("`" + entry->path + "` has the unknown entry type '" + std::string(1, type) +
                     "'");
    }
    // Only regular files carry data here (a hard link's size is 0 in
    // practice; whatever is there is skipped).
    entry->size = entry->type == TarEntry::Type::kFile ? size : 0;
    left_ = size;
    padding_ = (kBlock - size % kBlock) % kBlock;
    return true;
  }
}

}  // namespace slipway
