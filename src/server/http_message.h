// The HTTP request and response as the API handlers see them: plain structs
// without Beast types, so that handlers are tested (and the parsing of
// requests fuzzed, http_request_fuzz.cc) without sockets. The server
// (http_server.cc) converts to and from the wire.
#ifndef SLIPWAY_SERVER_HTTP_MESSAGE_H_
#define SLIPWAY_SERVER_HTTP_MESSAGE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/percent_encode.h"  // PercentEncode, used with these.

namespace slipway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // As received: path and query, still percent-encoded.
  std::string
      path;  // target before '?', still percent-encoded (segments are decoded by the router).
  // Query parameters in order, decoded ('+' is a space). Repeated keys
  // (scope[]=a&scope[]=b) stay separate entries.
  std::vector<std::pair<std::string, std::string>> query;
  std::map<std::string, std::string> headers;  // Lower-cased names.
  std::string body;

  // The first value of a query parameter, or nullopt.
  std::optional<std::string> Query(std::string_view key) const;
  // Every value of key (and of "key[]").
  std::vector<std::string> QueryAll(std::string_view key) const;
  // A header by lower-case name, or "".
  std::string Header(std::string_view name) const;
};

// A live log stream (SSE) the server must run after sending the headers:
// the handler validated the request; the server streams job_id's log from
// offset and then what LogHub publishes.
struct LogStreamSpec {
  int64_t job_id = 0;
  int64_t offset = 0;
};

// A stream of bytes the server pushes to a client as they come, on one
// long-lived response (`Connection: close`, the body ends when the
// connection does): a remote runner's job channel (docs/runners.md).
// Implementations are thread-safe.
class PushChannel {
 public:
  virtual ~PushChannel() = default;
  // The server calls waker (from any thread, possibly after Closed) when
  // Take has something new; set once before the first Take.
  virtual void SetWaker(std::function<void()> waker) = 0;
  // What to write next ("" for nothing); *closed when the channel is done
  // and the connection should end once that is written.
  virtual std::string Take(bool* closed) = 0;
  // Written when nothing was for the server's heartbeat interval, so that
  // both ends notice a dead connection.
  virtual std::string Keepalive() = 0;
  // The connection ended (the client went away, or the server stops).
  virtual void Closed() = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Besides Content-Length.
  std::string body;
  std::string file_path;  // If set, the body is this file's content (artifact downloads).
  std::optional<LogStreamSpec> stream;
  std::shared_ptr<PushChannel> push;  // If set, the body is what it pushes.

  void SetHeader(std::string name, std::string value);
  const std::string* FindHeader(std::string_view name) const;  // Case-insensitive.
};

// Parses "path?a=1&b=2" into req->path and req->query.
void ParseTarget(std::string_view target, HttpRequest* req);
// The request from what the HTTP parser read: the target split by
// ParseTarget, header names lower-cased, a repeated header's values joined
// with ", " (RFC 9110, 5.3).
HttpRequest MakeHttpRequest(
    std::string method, std::string_view target,
    const std::vector<std::pair<std::string_view, std::string_view>>& fields, std::string body);
// Percent-decoding; plus_is_space for query strings. Invalid escapes are
// kept verbatim.
std::string PercentDecode(std::string_view s, bool plus_is_space);
// Parses an application/x-www-form-urlencoded body.
std::vector<std::pair<std::string, std::string>> ParseForm(std::string_view body);

// {"message": message} with the given status.
HttpResponse JsonError(int status, std::string_view message);
// body as application/json.
HttpResponse JsonResponse(int status, std::string body);
HttpResponse TextResponse(int status, std::string body,
                          std::string content_type = "text/plain; charset=utf-8");

// The reason phrase for a status code ("OK", "Not Found", ...).
const char* HttpReason(int status);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_HTTP_MESSAGE_H_
