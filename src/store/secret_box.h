// Secrets at rest (docs/database.md, "Secrets"): the values the store must
// give back (webhook secrets) are kept encrypted with AES-256-GCM under a
// 32-byte key from a file outside the database, so that a copy of the
// database (a backup, a job or a user that could read it) does not reveal
// them. OpenSSL libcrypto (EVP).
//
// Sealed text form: "enc:v1:" + base64(nonce[12] || ciphertext || tag[16]),
// a fresh random 96-bit nonce per value. A context string (the column, e.g.
// "projects.webhook_secret") is authenticated with the value but not stored,
// so a value copied into another column does not open there.
#ifndef SLIPWAY_STORE_SECRET_BOX_H_
#define SLIPWAY_STORE_SECRET_BOX_H_

#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace slipway {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;

  // key must hold kKeySize bytes.
  static StatusOr<SecretBox> FromKey(std::string key);

  // The key in path: 32 raw bytes, or 64 hex digits and an optional
  // newline. None when the file does not exist. A file that others than its
  // owner may read or write is refused, as ssh refuses such a private key.
  static StatusOr<std::optional<SecretBox>> ReadKeyFile(const std::string& path);
  // Creates path (0600, exclusively) holding a new random key as hex; if
  // another process created it first, reads that one instead.
  static StatusOr<SecretBox> CreateKeyFile(const std::string& path);

  // Whether text is in the sealed form (of any key).
  static bool IsSealed(std::string_view text);

  StatusOr<std::string> Seal(std::string_view plaintext, std::string_view context) const;
  // Errors: not the sealed form, or the tag does not verify (another key,
  // another context, or the text was changed). The message names no value.
  StatusOr<std::string> Open(std::string_view sealed, std::string_view context) const;

  // 16 hex digits naming the key (SHA-256 over a label and the key): stored
  // in the database so that a server started with another key says so at
  // once. Reveals nothing usable about the key.
  std::string KeyId() const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_SECRET_BOX_H_
