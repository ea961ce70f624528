#include "store/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "store/token_hash.h"
#include "util/private_file.h"

namespace slipway {
namespace {

constexpr std::string_view kPrefix = "enc:v1:";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
int Size(std::string_view s) { return static_cast<int>(s.size()); }

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(Bytes(out), Bytes(data), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Strict: the length a multiple of 4, only the alphabet, '=' only at the end,
// and canonical (the unused bits of the last digit zero): one value has one
// text, so no changed character still opens.
std::optional<std::string> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i + padding < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(Bytes(out), Bytes(text), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);  // DecodeBlock counts the padding as zeros.
  if (Base64(out) != text) return std::nullopt;
  return out;
}

std::optional<std::string> FromHex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    int value = 0;
    for (char c : text.substr(i, 2)) {
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) return std::nullopt;
      value = value * 16 + digit;
    }
    out += static_cast<char>(value);
  }
  return out;
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::Error("cannot " + what + " the secrets key file '" + path +
                       "': " + std::strerror(errno));
}

}  // namespace

StatusOr<SecretBox> SecretBox::FromKey(std::string key) {
  if (key.size() != kKeySize) {
    return Status::Error("a secrets key has " + std::to_string(kKeySize) + " bytes, not " +
                         std::to_string(key.size()));
  }
  return SecretBox(std::move(key));
}

StatusOr<std::optional<SecretBox>> SecretBox::ReadKeyFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<SecretBox>();
    return Errno("open", path);
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (Status checked = CheckPrivateFile(fd, "the secrets key file '" + path + "'"); !checked.ok()) {
    return checked;
  }
  std::string text(kKeySize * 2 + 2, '\0');
  ssize_t n = read(fd, text.data(), text.size());
  if (n < 0) return Errno("read", path);
  text.resize(static_cast<size_t>(n));
  if (text.size() == kKeySize) return std::optional<SecretBox>(SecretBox(text));
  std::string_view hex = text;
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  std::optional<std::string> key = hex.size() == kKeySize * 2 ? FromHex(hex) : std::nullopt;
  if (!key) {
    return Status::Error("the secrets key file '" + path + "' must hold " +
                         std::to_string(kKeySize) + " bytes, or " + std::to_string(kKeySize * 2) +
                         " hex digits and a newline (`openssl rand -hex 32`)");
  }
  return std::optional<SecretBox>(SecretBox(std::move(*key)));
}

StatusOr<SecretBox> SecretBox::CreateKeyFile(const std::string& path) {
  std::string key(kKeySize, '\0');
  if (RAND_bytes(Bytes(key), static_cast<int>(key.size())) != 1) {
    return Status::Error("cannot make a secrets key: the random number generator failed");
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    StatusOr<std::optional<SecretBox>> existing = ReadKeyFile(path);
    if (!existing.ok()) return existing.status();
    if (*existing) return **existing;
  }
  if (fd < 0) return Errno("create", path);
  std::string text;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : key) {
    text += kDigits[c >> 4];
    text += kDigits[c & 0xf];
  }
  text += '\n';
  bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  if (!written) {
    unlink(path.c_str());
    errno = saved;
    return Errno("write", path);
  }
  return SecretBox(std::move(key));
}

bool SecretBox::IsSealed(std::string_view text) { return text.starts_with(kPrefix); }

StatusOr<std::string> SecretBox::Seal(std::string_view plaintext, std::string_view context) const {
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  unsigned char* nonce = Bytes(out);
  unsigned char* cipher = nonce + kNonceSize;
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) {
    return Status::Error("cannot encrypt a secret: the random number generator failed");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  EVP_CIPHER_CTX* c = ctx.get();
  int n = 0;
  bool ok = c != nullptr;
  ok = ok && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, Bytes(key_), nonce) == 1;
  ok = ok && EVP_EncryptUpdate(c, nullptr, &n, Bytes(context), Size(context)) == 1;  // AAD
  ok = ok && EVP_EncryptUpdate(c, cipher, &n, Bytes(plaintext), Size(plaintext)) == 1;
  ok = ok && EVP_EncryptFinal_ex(c, cipher + n, &n) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                                 cipher + plaintext.size()) == 1;
  if (!ok) return Status::Error("cannot encrypt a secret: OpenSSL's AES-256-GCM failed");
  return std::string(kPrefix) + Base64(out);
}

StatusOr<std::string> SecretBox::Open(std::string_view sealed, std::string_view context) const {
  if (!IsSealed(sealed)) return Status::Error("the value is not encrypted (enc:v1:…)");
  std::optional<std::string> raw = FromBase64(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonceSize + kTagSize) {
    return Status::Error("the encrypted value is malformed");
  }
  size_t size = raw->size() - kNonceSize - kTagSize;
  unsigned char* nonce = Bytes(*raw);
  unsigned char* cipher = nonce + kNonceSize;
  std::string plain(size, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  EVP_CIPHER_CTX* c = ctx.get();
  int n = 0;
  bool ok = c != nullptr;
  ok = ok && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, Bytes(key_), nonce) == 1;
  ok = ok && EVP_DecryptUpdate(c, nullptr, &n, Bytes(context), Size(context)) == 1;  // AAD
  ok = ok && EVP_DecryptUpdate(c, Bytes(plain), &n, cipher, static_cast<int>(size)) == 1;
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), cipher + size) == 1;
  ok = ok && EVP_DecryptFinal_ex(c, Bytes(plain) + n, &n) == 1;  // Checks the tag.
  if (!ok) {
    return Status::Error(
        "the encrypted value does not decrypt with this key (another key, or "
        "the value was changed)");
  }
  return plain;
}

std::string SecretBox::KeyId() const {
  return Sha256Hex("slipway secrets key id\n" + key_).substr(0, 16);
}

}  // namespace slipway
