// SHA-256 as hex (OpenSSL libcrypto): token hashes in the store, cache keys.
#ifndef SLIPWAY_UTIL_SHA256_H_
#define SLIPWAY_UTIL_SHA256_H_

#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX.

namespace slipway {

// Lowercase hex SHA-256 of data.
std::string Sha256Hex(std::string_view data);

// SHA-256 of data that comes in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // Lowercase hex of everything given; the hasher is spent after it.
  std::string FinishHex();

 private:
  ::evp_md_ctx_st* ctx_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_SHA256_H_
