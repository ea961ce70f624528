// Test helper (header-only, tests and fuzz targets only, no GoogleTest):
// tar archives written entry by entry, including entries no honest tool
// writes ("../x", a file beneath a symlink, a hard link to /etc/passwd).
#ifndef SLIPWAY_IMAGE_TEST_TAR_H_
#define SLIPWAY_IMAGE_TEST_TAR_H_

#include <cstdio>
#include <cstring>
#include <string>

namespace slipway {

// A tar archive built entry by entry (ustar; names up to 100 bytes).
class TarBuilder {
 public:
  TarBuilder& File(const std::string& path, const std::string& content, int mode = 0644) {
    return Add('0', path, "", content, mode);
  }
  TarBuilder& Dir(const std::string& path, int mode = 0755) { return Add('5', path, "", "", mode); }
  TarBuilder& Symlink(const std::string& path, const std::string& target) {
    return Add('2', path, target, "", 0777);
  }
  TarBuilder& HardLink(const std::string& path, const std::string& target) {
    return Add('1', path, target, "", 0644);
  }
  TarBuilder& CharDevice(const std::string& path) { return Add('3', path, "", "", 0666); }
  TarBuilder& Add(char type, const std::string& path, const std::string& link,
                  const std::string& content, int mode) {
    char h[512] = {};
    std::snprintf(h, 100, "%s", path.c_str());
    std::snprintf(h + 100, 8, "%07o", mode);
    std::snprintf(h + 108, 8, "%07o", 1000);
    std::snprintf(h + 116, 8, "%07o", 1000);
    std::snprintf(h + 124, 12, "%011o", static_cast<unsigned>(content.size()));
    std::snprintf(h + 136, 12, "%011o", 1700000000u);
    h[156] = type;
    std::snprintf(h + 157, 100, "%s", link.c_str());
    std::memcpy(h + 257, "ustar", 6);  // Magic "ustar\0", then version "00".
    std::memcpy(h + 263, "00", 2);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    data_.append(h, 512);
    data_ += content;
    data_.append((512 - content.size() % 512) % 512, '\0');
    return *this;
  }
  std::string Take() const { return data_ + std::string(1024, '\0'); }

 private:
  std::string data_;
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_TEST_TAR_H_
