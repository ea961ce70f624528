// The TLS settings of `slipway serve --tls-cert/--tls-key` (docs/server.md,
// "HTTPS and proxies"): TLS 1.2 and 1.3 only, OpenSSL's default ciphers, no
// compression or renegotiation; the key file must be the owner's alone
// (util/private_file.h) and the certificate's own key.
#ifndef SLIPWAY_SERVER_TLS_CONTEXT_H_
#define SLIPWAY_SERVER_TLS_CONTEXT_H_

#include <openssl/ssl.h>

#include <string>

#include "util/status.h"

namespace slipway {

// Configures ctx (a server context) with the PEM certificate chain in
// cert_file and the PEM private key in key_file. Errors name the option and
// the file at fault.
Status ConfigureServerTls(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_TLS_CONTEXT_H_
