#include "server/tls_context.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/private_file.h"

namespace slipway {

namespace {

std::string OpenSslError() {
  unsigned long code = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type.
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

// The private key's PEM text, read from an open descriptor so that the mode
// checked is the mode of the file read.
StatusOr<std::string> ReadPrivateKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error("--tls-key " + path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (Status checked = CheckPrivateFile(fd, "--tls-key " + path); !checked.ok()) return checked;
  std::string pem;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    pem.append(buf, static_cast<size_t>(n));
    if (pem.size() > (1 << 20)) return Status::Error("--tls-key " + path + ": larger than 1 MiB");
  }
  if (n < 0) return Status::Error("--tls-key " + path + ": " + std::strerror(errno));
  return pem;
}

}  // namespace

Status ConfigureServerTls(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  StatusOr<std::string> key = ReadPrivateKeyFile(key_file);
  if (!key.ok()) return key.status();
  // TLS 1.2 and 1.3 only; OpenSSL's default cipher list otherwise.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    std::string error = OpenSslError();
    return Status::Error("--tls-cert " + cert_file + ": not a PEM certificate chain (" + error +
                         ")");
  }
  BIO* bio = BIO_new_mem_buf(key->data(), static_cast<int>(key->size()));
  EVP_PKEY* pkey =
      bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  OPENSSL_cleanse(key->data(), key->size());
  if (pkey == nullptr) {
    std::string error = OpenSslError();
    return Status::Error("--tls-key " + key_file + ": not a PEM private key (" + error + ")");
  }
  int used = SSL_CTX_use_PrivateKey(ctx, pkey);
  EVP_PKEY_free(pkey);
  if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    std::string error = OpenSslError();
    return Status::Error("--tls-key " + key_file +
                         " is not the key of the certificate in --tls-cert " + cert_file + " (" +
                         error + ")");
  }
  return Status::Ok();
}

}  // namespace slipway
