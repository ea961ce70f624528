#include "util/address_class.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>

namespace slipway {
namespace {

// An address as 16 bytes (IPv4 in the first 4) and its family's length.
struct Parsed {
  std::array<uint8_t, 16> bytes{};
  int bits = 0;  // 32 or 128; 0: not an address.
};

Parsed Parse(std::string_view text) {
  Parsed p;
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), p.bytes.data()) == 1) {
    p.bits = 32;
  } else if (inet_pton(AF_INET6, s.c_str(), p.bytes.data()) == 1) {
    p.bits = 128;
  }
  return p;
}

// Whether the first len bits of a and b agree.
bool SamePrefix(const uint8_t* a, const uint8_t* b, int len) {
  for (int i = 0; i < len / 8; ++i) {
    if (a[i] != b[i]) return false;
  }
  int rest = len % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[len / 8] & mask) == (b[len / 8] & mask);
}

bool InternalV4(const uint8_t* a) {
  uint8_t x = a[0], y = a[1];
  return x == 0 || x == 10 || x == 127 || (x == 100 && (y & 0xc0) == 64) ||
         (x == 169 && y == 254) || (x == 172 && (y & 0xf0) == 16) || (x == 192 && y == 168) ||
         (x == 192 && y == 0 && a[2] == 0) || (x == 198 && (y & 0xfe) == 18) || x >= 224;
}

}  // namespace

bool IsInternalAddress(std::string_view ip) {
  Parsed p = Parse(ip);
  const uint8_t* a = p.bytes.data();
  if (p.bits == 32) return InternalV4(a);
  if (p.bits != 128) return true;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (SamePrefix(a, kMapped, 96)) return InternalV4(a + 12);
  // ::/96 holds :: and ::1 and the deprecated IPv4-compatible addresses.
  return SamePrefix(a, std::array<uint8_t, 16>{}.data(), 96) ||
         (a[0] & 0xfe) == 0xfc ||                    // fc00::/7, unique local.
         (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||  // fe80::/10, link-local.
         a[0] == 0xff;                               // Multicast.
}

bool AddressInNetwork(std::string_view ip, std::string_view network) {
  size_t slash = network.find('/');
  Parsed net = Parse(network.substr(0, slash));
  Parsed addr = Parse(ip);
  if (net.bits == 0 || addr.bits != net.bits) return false;
  int len = net.bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = network.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    len = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      len = len * 10 + (c - '0');
    }
    if (len > net.bits) return false;
  }
  return SamePrefix(addr.bytes.data(), net.bytes.data(), len);
}

}  // namespace slipway
