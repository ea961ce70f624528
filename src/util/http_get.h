// Reading one document over HTTPS (or HTTP where the caller allows it): what
// `include:remote` and `include:template` need (HttpGet), and what an image
// registry client needs besides (HttpFetch: request headers, the response's
// headers, a body streamed to a sink). One GET, redirects followed up to a
// bound, the body bounded in size, the whole exchange bounded in time. Certificates are checked
// against the system's CA store, which SSL_CERT_FILE replaces as it does for OpenSSL and git.
//
// Credentials a URL carries (https://user:token@host/x) are sent as HTTP
// Basic authorization to that host only (a redirect to another host or port
// drops them) and never appear in an error: every message names the URL with
// its credentials masked (util/redact.h).
#ifndef SLIPWAY_UTIL_HTTP_GET_H_
#define SLIPWAY_UTIL_HTTP_GET_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace slipway {

// The CA bundle used when neither HttpGetOptions::ca_file nor SSL_CERT_FILE
// names one (Debian's and Ubuntu's system store).
inline constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

struct HttpGetOptions {
  // Plain http:// URLs (also as redirect targets) are refused unless set.
  bool allow_http = false;
  int max_redirects = 5;
  // A larger body is an error (the count is of bytes after any transfer
  // encoding is removed).
  std::size_t max_bytes = 4 << 20;
  // For everything: resolving, connecting, TLS, every redirect, the body.
  std::chrono::milliseconds timeout{30000};
  // PEM file of trusted CAs. Empty: $SSL_CERT_FILE, else kSystemCaFile.
  std::string ca_file;
  // Set: every address a host (of the URL or of a redirect) resolves to
  // must pass it, as text ("127.0.0.1", "::1"), before anything connects;
  // else the fetch fails with kAddressRefused. A server guards what its
  // users' URLs may reach with it (util/address_class.h).
  std::function<bool(const std::string& address)> allow_address;
  // Set: polled while the fetch waits (every 20 ms, as executors poll a
  // job's cancel token); once it returns true the fetch ends with
  // kCanceled, without waiting for the server. A job's image pull is
  // canceled with it.
  std::function<bool()> canceled;
};

// Why HttpGet failed, for callers that word each case differently (GitLab's
// messages for remote includes do).
enum class HttpFailure {
  kNone,
  kInvalidUrl,   // Not http(s)://host[:port]/..., or a bad port.
  kHttpRefused,  // http:// without allow_http.
  kSocket,       // Name resolution, connection, reading or writing.
  kTls,          // Handshake or certificate verification.
  kTimeout,      // options.timeout passed.
  kTooLarge,     // The body passed max_bytes.
  kTooManyRedirects,
  kProtocol,        // Not a valid HTTP response, a redirect without Location.
  kAddressRefused,  // The host resolves to an address allow_address refuses.
  kCanceled,        // options.canceled said so.
};

struct HttpGetResult {
  int status = 0;  // The final response's status (any: 404 is a result).
  std::string body;
  std::string url;  // The final URL after redirects, credentials masked.
};

// A GET with headers of the caller's, for clients of APIs (an image
// registry) rather than readers of documents.
struct HttpFetchRequest {
  std::string url;
  // An HTTP method ("GET", "POST" ...). Any other than GET sends body with
  // its Content-Length; a redirect repeats the method and body, so a caller
  // that posts usually sets HttpGetOptions::max_redirects to 0.
  std::string method = "GET";
  std::string body;
  // Sent as given. An "Authorization" header, like credentials in the URL,
  // goes to the first URL's origin only: a redirect elsewhere (a registry
  // sends blobs to a storage service) drops it.
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body of a 2xx response is handed to it piece by piece as
  // it arrives instead of being kept in HttpFetchResponse::body (whose bound,
  // max_bytes, then applies to the streamed total as well). An error it
  // returns ends the exchange and is HttpFetch's error, as it is. Bodies of
  // other statuses are kept in body, so that a caller can quote them.
  std::function<Status(std::string_view chunk)> sink;
};

struct HttpFetchResponse {
  int status = 0;
  std::string body;  // Empty when a sink took it.
  std::string url;   // The final URL after redirects, credentials masked.
  // The final response's headers, names in lower case; a repeated header's
  // values joined with ", ".
  std::map<std::string, std::string> headers;
};

// As HttpGet, with request.headers sent and the body streamed to
// request.sink when one is given.
StatusOr<HttpFetchResponse> HttpFetch(const HttpFetchRequest& request,
                                      const HttpGetOptions& options,
                                      HttpFailure* failure = nullptr);

// GETs url. A response of any status is a result; errors are what kept a
// response from arriving. *failure (when given) says which kind of error.
// Error messages name the URL with its credentials masked. Blocking; safe to
// call from several threads at once (each call has its own io_context).
StatusOr<HttpGetResult> HttpGet(const std::string& url, const HttpGetOptions& options,
                                HttpFailure* failure = nullptr);

// The parts of an http(s) URL, as HttpGet splits it. False when url is not
// one (no host, another scheme, a port that is not 1..65535).
struct HttpUrl {
  std::string scheme;    // "http" or "https", lower-case.
  std::string userinfo;  // "user:password" as written (percent-encoded), or empty.
  std::string host;      // Without brackets for IPv6.
  std::string port;      // Explicit, or the scheme's default.
  std::string target;    // Path and query, "/" at least; no fragment.
};
bool ParseHttpUrl(const std::string& url, HttpUrl* out);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_HTTP_GET_H_
