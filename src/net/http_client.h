#pragma once
// HttpClient: a small blocking HTTP/1.1 client over libcurl, for the providers that speak to
// a third-party HTTP API (SMS gateways, webhooks). One call is one request and its response.
//
// - Only http:// and https:// URLs; redirects are never followed (a 3xx is returned as is, so
//   credentials never leave for another host). Certificates are always verified, against
//   `ca_file` when set, else the system store.
// - Connections are reused: a finished request puts its curl handle (and the connection curl
//   keeps open in it) back in a small idle pool, up to `max_idle` handles; a request that finds
//   the pool empty opens a new one, so concurrent callers never wait for each other.
// - The response body is capped at `max_response_bytes`.
// - Nothing is logged: requests carry credentials.
//
// Errors (as values): InvalidArgument for a request that cannot be sent (a URL that is not
// http(s), a header with a line break, a non-positive timeout); DeadlineExceeded when the
// request did not complete within its timeout (connecting included); Unavailable for any other
// transport failure (refused or reset connection, DNS, TLS, an empty or oversized response),
// with curl's message; PermissionDenied when allow_private_addresses is false and the host is
// not public. An HTTP error status is not an error: it is a response.
//
// Thread-safe.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/status.h"

namespace herald::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string url;           // http:// or https://, query included
  HttpHeaders headers;       // sent as given, after Content-Type
  std::string body;          // POST only
  std::string content_type;  // the Content-Type header when not empty
  // Non-empty user: "Authorization: Basic base64(user:password)".
  std::string basic_auth_user;
  std::string basic_auth_password;
  absl::Duration timeout = absl::Seconds(30);  // whole request, connecting included
};

struct HttpResponse {
  int status = 0;
  std::string body;
  HttpHeaders headers;  // names lower-cased, in the order received

  // Value of the first header named `lower_name` (lower case), or "" if there is none.
  std::string_view Header(std::string_view lower_name) const;
};

struct HttpClientOptions {
  int max_idle = 8;                         // idle connections kept for reuse (0: none)
  size_t max_response_bytes = 1024 * 1024;  // larger bodies fail with Unavailable
  std::string ca_file;                      // PEM bundle to trust instead of the system store
  std::string user_agent = "herald";
  // False: refuse to connect to any address that is not public (net/ip_address.h), checked on
  // the address actually connected to, after DNS; proxies from the environment are ignored.
  // Such a refusal is PermissionDenied. For URLs that users supply (webhook endpoints).
  bool allow_private_addresses = true;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POST `request.body`. Errors: see the top of this file.
  Result<HttpResponse> Post(const HttpRequest& request);
  // GET `request.url`; `request.body` and `content_type` must be empty (InvalidArgument).
  Result<HttpResponse> Get(const HttpRequest& request);

 private:
  struct Handle;
  enum class Method { kGet, kPost };
  Result<HttpResponse> Perform(Method method, const HttpRequest& request);
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);

  const HttpClientOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_ ABSL_GUARDED_BY(mu_);
};

// `s` percent-encoded for a URL path segment or query component: RFC 3986 unreserved
// characters (A-Z a-z 0-9 - . _ ~) are kept, every other byte becomes %XX (upper-case hex),
// space included ("%20").
std::string PercentEncode(std::string_view s);

// Runs curl_global_init once for the process (it is not thread-safe): every libcurl user in
// this module calls it before creating a handle.
void EnsureCurlInitialized();

// An application/x-www-form-urlencoded body: name=value pairs joined by '&', in the given
// order, each side percent-encoded as above except that a space becomes '+'.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// A URL query string (without the leading '?'): like FormEncode but with spaces as "%20",
// which every server decodes, whether or not it treats '+' as a space in a query.
std::string QueryEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// Parses an application/x-www-form-urlencoded body ('+' is a space, %XX a byte), keeping the
// order and repeated names. InvalidArgument for a malformed escape, a pair without '=', or a
// body over 1 MiB.
Result<std::vector<std::pair<std::string, std::string>>> FormDecode(std::string_view body);

}  // namespace herald::net
