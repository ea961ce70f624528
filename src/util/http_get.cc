// HttpGet with Boost.Beast over asio::ssl (OpenSSL). The exchange runs as one
// coroutine on a private io_context that is run for at most the timeout:
// when it stops early, whatever was pending is abandoned with it.
#include "util/http_get.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>  // Before asio's awaitable header (GCC 12).
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "util/base64.h"
#include "util/redact.h"

namespace slipway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The TLS client context trusting ca_file, parsed once per content of the
// file: parsing a system store (~140 certificates) costs tens of
// milliseconds of CPU, and an image pull makes a request per blob, while
// reading the file to compare costs a few microseconds. A file changed in
// any way is parsed again. Shared by threads: an SSL_CTX set up once may
// make SSL objects on several at once, and nothing changes it afterwards.
StatusOr<std::shared_ptr<asio::ssl::context>> ClientContext(const std::string& ca_file) {
  struct Loaded {
    std::string content;
    std::shared_ptr<asio::ssl::context> context;
  };
  static std::mutex mu;
  static auto* cache = new std::map<std::string, Loaded>();  // GUARDED_BY(mu); kept until exit.
  std::ifstream in(ca_file, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool read = in.good() || in.eof();
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(ca_file);
  if (read && it != cache->end() && it->second.content == content) return it->second.context;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  context->load_verify_file(ca_file, ec);
  if (ec) {
    return Status::Error("cannot load the CA certificates `" + ca_file + "`: " + ec.message());
  }
  // What was read, not what OpenSSL read after it: a file changed in
  // between differs from this next time and is parsed again.
  if (read) (*cache)[ca_file] = Loaded{std::move(content), context};
  return context;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The URL a Location header leads to from base (absolute, scheme-relative,
// absolute-path or relative-path references).
std::string ResolveLocation(const HttpUrl& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  std::string origin = base.scheme + "://" + base.host + ":" + base.port;
  if (base.host.find(':') != std::string::npos) {
    origin = base.scheme + "://[" + base.host + "]:" + base.port;
  }
  if (location.rfind("//", 0) == 0) return base.scheme + ":" + location;
  if (!location.empty() && location[0] == '/') return origin + location;
  std::string dir = base.target.substr(0, base.target.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return origin + dir + location;
}

struct Outcome {
  HttpFailure failure = HttpFailure::kNone;
  std::string detail;
  std::optional<Status> sink_error;  // What the sink returned, as it is.
  int status = 0;
  std::string body;
  std::string location;  // Of a redirect.
  std::map<std::string, std::string> headers;
};

// Reads one response from stream into *out: the header, then the body in
// pieces into out->body or, for a 2xx status, the sink. Never throws.
template <typename Stream>
asio::awaitable<void> ReadResponse(Stream& stream, const HttpGetOptions& options,
                                   const std::function<Status(std::string_view)>& sink,
                                   Outcome* out) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  // Beast reads max(512, free capacity) bytes at a time: without room
  // reserved, a body arrives 512 bytes per read (30,000 reads for 15 MB).
  buffer.reserve(64 << 10);
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // Counted below.
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out->failure = HttpFailure::kSocket;
    out->detail = "cannot read the response: " + ec.message();
    co_return;
  }
  const auto& header = parser.get();
  out->status = static_cast<int>(header.result_int());
  for (const auto& field : header) {
    std::string name = Lower(std::string(field.name_string()));
    std::string& value = out->headers[name];
    if (!value.empty()) value += ", ";
    value += std::string(field.value());
  }
  out->location = std::string(header[http::field::location]);
  bool to_sink = sink && out->status / 100 == 2;
  std::vector<char> piece(64 << 10);
  size_t total = 0;
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    // Some: a body streamed as it is written (a runner's job channel) is
    // handed on as it comes, not once 64 KiB gathered.
    co_await http::async_read_some(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    // A TLS server that closes without close_notify has still sent a whole,
    // length-delimited response; the parser says whether it is complete.
    if (ec == asio::ssl::error::stream_truncated && parser.is_done()) ec = {};
    if (ec) {
      out->failure = HttpFailure::kSocket;
      out->detail = "cannot read the response: " + ec.message();
      co_return;
    }
    size_t n = piece.size() - parser.get().body().size;
    total += n;
    if (total > options.max_bytes) {
      out->failure = HttpFailure::kTooLarge;
      out->detail = "the response is larger than " + std::to_string(options.max_bytes) + " bytes";
      co_return;
    }
    if (n == 0) continue;
    if (to_sink) {
      Status taken = sink(std::string_view(piece.data(), n));
      if (!taken.ok()) {
        out->sink_error = taken;
        co_return;
      }
    } else {
      out->body.append(piece.data(), n);
    }
  }
}

// One request to url's host; fills *out. Never throws.
asio::awaitable<void> Exchange(const HttpUrl& url, bool same_origin, const HttpFetchRequest& spec,
                               const HttpGetOptions& options, asio::ssl::context* tls,
                               Outcome* out) {
  auto executor = co_await asio::this_coro::executor;
  beast::error_code ec;
  auto fail = [&](HttpFailure kind, const std::string& what) {
    out->failure = kind;
    out->detail = what + ": " + ec.message();
  };
  // An address needs no resolver (Asio's runs getaddrinfo on a thread it
  // starts for each request).
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code literal_ec;
  asio::ip::address literal = asio::ip::make_address(url.host, literal_ec);
  if (!literal_ec) {
    endpoints.emplace_back(literal, static_cast<unsigned short>(std::stoi(url.port)));
  } else {
    tcp::resolver resolver(executor);
    auto resolved = co_await resolver.async_resolve(url.host, url.port,
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(HttpFailure::kSocket, "cannot resolve " + url.host);
    for (const auto& entry : resolved) endpoints.push_back(entry.endpoint());
  }
  if (options.allow_address) {
    for (const tcp::endpoint& endpoint : endpoints) {
      std::string address = endpoint.address().to_string();
      if (options.allow_address(address)) continue;
      out->failure = HttpFailure::kAddressRefused;
      out->detail = url.host + " is " + address + ", an address this server does not fetch from";
      co_return;
    }
  }

  http::verb verb = http::string_to_verb(spec.method);
  if (verb == http::verb::unknown) {
    out->failure = HttpFailure::kInvalidUrl;
    out->detail = "unknown HTTP method " + spec.method;
    co_return;
  }
  http::request<http::string_body> request{verb, url.target, 11};
  if (verb != http::verb::get) {
    request.body() = spec.body;
    request.prepare_payload();
  }
  // Host names the port unless it is the scheme's default (RFC 9110 7.2):
  // servers that build URLs from it (a registry's token realm) need it.
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  bool default_port =
      (url.scheme == "https" && url.port == "443") || (url.scheme == "http" && url.port == "80");
  if (!default_port) host += ":" + url.port;
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "slipway");
  request.set(http::field::accept_encoding, "identity");
  for (const auto& [name, value] : spec.headers) {
    if (!same_origin && Lower(name) == "authorization") continue;
    request.insert(name, value);
  }
  if (same_origin && !url.userinfo.empty()) {
    request.set(http::field::authorization, "Basic " + Base64Encode(PercentDecode(url.userinfo)));
  }

  if (url.scheme == "http") {
    beast::tcp_stream stream(executor);
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(HttpFailure::kSocket, "cannot connect to " + url.host + ":" + url.port);
    co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(HttpFailure::kSocket, "cannot send the request");
    co_await ReadResponse(stream, options, spec.sink, out);
    co_return;
  }

  beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
  SSL* ssl = stream.native_handle();
  // SNI, and the name (or address) the certificate must carry.
  boost::system::error_code address_ec;
  asio::ip::make_address(url.host, address_ec);
  if (address_ec) {
    SSL_set_tlsext_host_name(ssl, url.host.c_str());
    SSL_set1_host(ssl, url.host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str());
  }
  stream.set_verify_mode(asio::ssl::verify_peer);
  co_await beast::get_lowest_layer(stream).async_connect(
      endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(HttpFailure::kSocket, "cannot connect to " + url.host + ":" + url.port);
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      out->failure = HttpFailure::kTls;
      out->detail =
          std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
      co_return;
    }
    co_return fail(HttpFailure::kTls, "TLS handshake failed");
  }
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(HttpFailure::kSocket, "cannot send the request");
  co_await ReadResponse(stream, options, spec.sink, out);
}

}  // namespace

bool ParseHttpUrl(const std::string& url, HttpUrl* out) {
  size_t colon = url.find("://");
  if (colon == std::string::npos) return false;
  out->scheme = Lower(url.substr(0, colon));
  if (out->scheme != "http" && out->scheme != "https") return false;
  size_t start = colon + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  std::string rest = end == std::string::npos ? "" : url.substr(end);
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty() || rest[0] != '/') rest = "/" + rest;
  out->target = rest;
  size_t at = authority.rfind('@');
  out->userinfo = at == std::string::npos ? "" : authority.substr(0, at);
  std::string hostport = at == std::string::npos ? authority : authority.substr(at + 1);
  std::string port;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string::npos) return false;
    out->host = hostport.substr(1, close - 1);
    std::string tail = hostport.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':') return false;
      port = tail.substr(1);
    }
  } else {
    size_t c = hostport.rfind(':');
    out->host = hostport.substr(0, c);
    if (c != std::string::npos) port = hostport.substr(c + 1);
  }
  if (out->host.empty()) return false;
  if (port.empty()) port = out->scheme == "https" ? "443" : "80";
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  int number = std::stoi(port);
  if (number < 1 || number > 65535) return false;
  out->port = std::to_string(number);
  return true;
}

StatusOr<HttpGetResult> HttpGet(const std::string& url, const HttpGetOptions& options,
                                HttpFailure* failure) {
  HttpFetchRequest request;
  request.url = url;
  StatusOr<HttpFetchResponse> got = HttpFetch(request, options, failure);
  if (!got.ok()) return got.status();
  HttpGetResult result;
  result.status = got->status;
  result.body = std::move(got->body);
  result.url = std::move(got->url);
  return result;
}

StatusOr<HttpFetchResponse> HttpFetch(const HttpFetchRequest& request,
                                      const HttpGetOptions& options, HttpFailure* failure) {
  const std::string& url = request.url;
  HttpFailure ignored;
  if (failure == nullptr) failure = &ignored;
  *failure = HttpFailure::kNone;
  auto error = [&](HttpFailure kind, const std::string& current, const std::string& why) {
    *failure = kind;
    return Status::Error(RedactUrlCredentials(current) + ": " + RedactUrlCredentials(why));
  };

  std::string ca_file = options.ca_file;
  if (ca_file.empty()) {
    const char* env = std::getenv("SSL_CERT_FILE");
    ca_file = env != nullptr && *env != '\0' ? env : kSystemCaFile;
  }
  // At the first https:// URL only: a plain HTTP request (a registry on
  // loopback) needs no certificates.
  std::shared_ptr<asio::ssl::context> tls;

  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::string current = url;
  HttpUrl first;
  bool have_first = false;
  for (int hop = 0;; ++hop) {
    HttpUrl parsed;
    if (!ParseHttpUrl(current, &parsed)) {
      return error(HttpFailure::kInvalidUrl, current, "not an http(s) URL");
    }
    if (parsed.scheme == "http" && !options.allow_http) {
      return error(HttpFailure::kHttpRefused, current,
                   "plain HTTP is refused (only HTTPS is read unless HTTP is allowed)");
    }
    if (parsed.scheme == "https" && !tls) {
      StatusOr<std::shared_ptr<asio::ssl::context>> loaded = ClientContext(ca_file);
      if (!loaded.ok()) {
        *failure = HttpFailure::kTls;
        return loaded.status();
      }
      tls = std::move(*loaded);
    }
    if (!have_first) {
      first = parsed;
      have_first = true;
    }
    // Credentials go only where the user sent them.
    bool same_origin = parsed.scheme == first.scheme && Lower(parsed.host) == Lower(first.host) &&
                       parsed.port == first.port;
    if (!same_origin) {
      parsed.userinfo.clear();
    } else if (parsed.userinfo.empty()) {
      parsed.userinfo = first.userinfo;  // A relative redirect on the same server.
    }

    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      return error(HttpFailure::kTimeout, current, "timed out");
    }
    Outcome outcome;
    asio::io_context io;
    bool done = false;
    asio::co_spawn(io, Exchange(parsed, same_origin, request, options, tls.get(), &outcome),
                   [&](std::exception_ptr e) {
                     done = true;
                     if (e && outcome.failure == HttpFailure::kNone) {
                       outcome.failure = HttpFailure::kSocket;
                       outcome.detail = "connection failed";
                     }
                   });
    if (!options.canceled) {
      io.run_for(left);
    } else {
      // In slices, to look at the caller's flag between them.
      constexpr auto kPoll = std::chrono::milliseconds(20);
      while (!done && !io.stopped()) {
        if (options.canceled()) return error(HttpFailure::kCanceled, current, "canceled");
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        io.run_for(std::min<std::chrono::steady_clock::duration>(deadline - now, kPoll));
      }
    }
    if (!done) {
      return error(HttpFailure::kTimeout, current,
                   "timed out after " + std::to_string(options.timeout.count()) + " ms");
    }
    if (outcome.sink_error) return *outcome.sink_error;
    if (outcome.failure != HttpFailure::kNone) {
      return error(outcome.failure, current, outcome.detail);
    }
    bool redirect = outcome.status == 301 || outcome.status == 302 || outcome.status == 303 ||
                    outcome.status == 307 || outcome.status == 308;
    if (!redirect) {
      HttpFetchResponse result;
      result.status = outcome.status;
      result.body = std::move(outcome.body);
      result.url = RedactUrlCredentials(current);
      result.headers = std::move(outcome.headers);
      return result;
    }
    if (outcome.location.empty()) {
      return error(HttpFailure::kProtocol, current,
                   "redirect " + std::to_string(outcome.status) + " without a Location");
    }
    if (hop >= options.max_redirects) {
      return error(HttpFailure::kTooManyRedirects, url,
                   "more than " + std::to_string(options.max_redirects) + " redirects");
    }
    current = ResolveLocation(parsed, outcome.location);
  }
}

}  // namespace slipway
