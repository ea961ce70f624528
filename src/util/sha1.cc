#include "util/sha1.h"

namespace slipway {
namespace {

uint32_t Rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

}  // namespace

Sha1::Sha1() : h_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u} {}

void Sha1::Block(const uint8_t* block) {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = (uint32_t{block[4 * i]} << 24) | (uint32_t{block[4 * i + 1]} << 16) |
           (uint32_t{block[4 * i + 2]} << 8) | uint32_t{block[4 * i + 3]};
  }
  for (int i = 16; i < 80; ++i) w[i] = Rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
  for (int i = 0; i < 80; ++i) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999u;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1u;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    uint32_t t = Rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = Rotl(b, 30);
    b = a;
    a = t;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
}

void Sha1::Update(std::string_view data) {
  length_ += data.size();
  for (char ch : data) {
    buffer_[buffered_++] = static_cast<uint8_t>(ch);
    if (buffered_ == 64) {
      Block(buffer_.data());
      buffered_ = 0;
    }
  }
}

std::string Sha1::HexDigest() {
  uint64_t bits = length_ * 8;
  std::string pad(1, '\x80');
  size_t after = (buffered_ + 1) % 64;
  pad.append(after <= 56 ? 56 - after : 120 - after, '\0');
  for (int i = 7; i >= 0; --i) pad += static_cast<char>((bits >> (8 * i)) & 0xFF);
  Update(pad);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint32_t word : h_) {
    for (int i = 28; i >= 0; i -= 4) out += kHex[(word >> i) & 0xF];
  }
  return out;
}

std::string Sha1Hex(std::string_view data) {
  Sha1 sha;
  sha.Update(data);
  return sha.HexDigest();
}

std::string GitBlobId(std::string_view content) {
  Sha1 sha;
  sha.Update("blob " + std::to_string(content.size()));
  sha.Update(std::string_view("\0", 1));
  sha.Update(content);
  return sha.HexDigest();
}

}  // namespace slipway
