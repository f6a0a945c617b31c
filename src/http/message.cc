#include "http/message.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/cord.h"
#include "auth/retry_after.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "core/utf8.h"

namespace herald::http {
namespace {

constexpr char kDetailsUrl[] = "herald/error-details";

std::string_view CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return "invalid_argument";
    case absl::StatusCode::kUnauthenticated:
      return "unauthenticated";
    case absl::StatusCode::kPermissionDenied:
      return "permission_denied";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kAlreadyExists:
      return "already_exists";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return "conflict";
    case absl::StatusCode::kResourceExhausted:
      return "rate_limited";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    default:
      return "internal";
  }
}

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return {};
}

bool Declares(const std::vector<QueryParam>& params, std::string_view name) {
  return std::any_of(params.begin(), params.end(),
                     [&](const QueryParam& p) { return p.name == name; });
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
#ifndef NDEBUG
  if (declared_query != nullptr && !Declares(*declared_query, name)) {
    std::fprintf(stderr,
                 "http: %s %s reads query parameter '%.*s', which its route does not"
                 " declare\n",
                 method.c_str(), path.c_str(), static_cast<int>(name.size()), name.data());
    std::abort();
  }
#endif
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

Result<boost::json::object> Request::JsonBody() const {
  if (body.empty()) return absl::InvalidArgumentError("body: expected a JSON object, got nothing");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("body: not valid JSON (", ec.message(), ")"));
  if (!v.is_object()) return absl::InvalidArgumentError("body: expected a JSON object");
  return std::move(v.as_object());
}

Response Response::Json(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

int HttpStatus(const Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

Response ErrorResponse(const Status& status) {
  return ErrorResponse(status, HttpStatus(status), CodeName(status.code()));
}

Response ErrorResponse(const Status& status, int code, std::string_view code_name) {
  boost::json::object error;
  error["code"] = std::string(code_name);
  // A server fault's message may carry internals (SQL, paths): the log has it, not the client.
  error["message"] = code >= 500 && code != 503 && code != 504
                         ? std::string("internal error")
                         : core::ToValidUtf8(ToStd(status.message()));
  error["details"] = nullptr;
  if (auto details = status.GetPayload(kDetailsUrl)) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(std::string(*details), ec);
    if (!ec) error["details"] = std::move(v);
  }
  Response r = Response::Json(code, boost::json::object{{"error", std::move(error)}});
  if (code == 429 || code == 503) {
    int64_t seconds = 1;
    if (auto after = auth::GetRetryAfter(status)) {
      seconds =
          std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(*after))));
    }
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
  }
  return r;
}

void SetErrorDetails(Status& status, const boost::json::value& details) {
  status.SetPayload(kDetailsUrl, absl::Cord(boost::json::serialize(details)));
}

}  // namespace herald::http
