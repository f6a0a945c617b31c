#include "notify/http_provider.h"

#include <utility>

#include "absl/status/status.h"
#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"
#include "core/utf8.h"

namespace herald::notify {

namespace json = boost::json;

std::string ClipProviderText(std::string_view s) {
  if (s.size() > kMaxProviderText) s = s.substr(0, kMaxProviderText);
  return core::ToValidUtf8(s);
}

Status CheckHttpProviderOptions(std::string& base_url, absl::Duration timeout,
                                std::string_view provider) {
  while (base_url.ends_with('/')) base_url.pop_back();
  if (!base_url.starts_with("http://") && !base_url.starts_with("https://")) {
    return absl::InvalidArgumentError(
        StrCat(provider, ": the base URL must start with http:// or https://"));
  }
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(StrCat(provider, ": the timeout must be positive"));
  }
  return absl::OkStatus();
}

Status RequireOption(const std::string& value, std::string_view provider, std::string_view what) {
  if (value.empty())
    return absl::InvalidArgumentError(StrCat(provider, ": ", what, " is required"));
  return absl::OkStatus();
}

SendResult TransportFailure(const Status& status) {
  std::string text = ClipProviderText(ToStd(status.message()));
  if (absl::IsDeadlineExceeded(status)) return SendResult::Retryable("timeout", std::move(text));
  if (absl::IsUnavailable(status)) return SendResult::Retryable("connection", std::move(text));
  return SendResult::Retryable("http_client", std::move(text));
}

std::optional<json::object> ParseJsonObject(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string JsonField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "";
  if (const json::string* s = v->if_string()) return std::string(s->data(), s->size());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return "";
}

std::optional<int64_t> JsonIntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->as_uint64());
  }
  return std::nullopt;
}

std::string HttpStatusText(const net::HttpResponse& r) {
  return StrCat("HTTP ", r.status, r.body.empty() ? "" : ": ", ClipProviderText(r.body));
}

}  // namespace herald::notify
