#pragma once
// Request and Response: what a route handler sees and returns. Bodies are JSON unless a
// handler says otherwise. Error responses always have the shape
//   {"error":{"code":"...","message":"...","details":...}}
// and are built from a Status by ErrorResponse (the one Status-to-HTTP mapping).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "auth/principal.h"
#include "boost/json/value.hpp"
#include "core/status.h"

namespace herald::http {

// A query parameter a route takes: the OpenAPI document lists it, and the server refuses a
// request with any other (a misspelt filter must not answer the unfiltered list).
struct QueryParam {
  std::string name;
  std::string description;
  std::string type = "string";  // its OpenAPI schema type: "string", "integer", "boolean"
};
// True when `params` has one named `name`.
bool Declares(const std::vector<QueryParam>& params, std::string_view name);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query, still encoded (what signatures cover)
  std::string path;    // without the query string, percent-decoded
  std::map<std::string, std::string, std::less<>> query;  // decoded
  // Names in lower case, in the order received (a handful: a list beats a tree here).
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string, std::less<>> params;  // from the route pattern
  std::string body;
  std::string request_id;
  std::string client_ip;
  auth::PrincipalRef principal;  // who is calling, once authenticated
  // The query parameters the matched route declares, once routed. A handler reading another
  // is a bug: builds with assertions abort on it (so tests find it).
  const std::vector<QueryParam>* declared_query = nullptr;

  // Lower-case name; "" if absent; the last of a repeated field.
  std::string_view Header(std::string_view name) const;
  std::optional<std::string_view> Query(std::string_view name) const;
  // Parses the body as a JSON object; InvalidArgument naming the problem otherwise.
  Result<boost::json::object> JsonBody() const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, const boost::json::value& body);
  static Response Text(int status, std::string body, std::string content_type);
};

// The HTTP status for a Status code: InvalidArgument/OutOfRange 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists/FailedPrecondition/Aborted 409,
// ResourceExhausted 429, Unavailable 503 (both with Retry-After), DeadlineExceeded 504,
// everything else 500 (with a generic message: internal details are logged, not returned).
int HttpStatus(const Status& status);

// The JSON error response for `status`. A details payload (SetErrorDetails) becomes the
// body's "details"; a retry-after payload (auth/retry_after.h) the Retry-After header.
Response ErrorResponse(const Status& status);

// The same for an HTTP status that no Status code maps to (405, 413, 431): `status`'s message
// and details under `http_status` and `code`.
Response ErrorResponse(const Status& status, int http_status, std::string_view code);

// Attaches JSON details to an error status (kept through Status copies).
void SetErrorDetails(Status& status, const boost::json::value& details);

}  // namespace herald::http
