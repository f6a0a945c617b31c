#pragma once
// What every provider over an HTTP API shares (SMS gateways, WhatsApp, chat webhooks): option
// checks, turning a transport failure into a retryable result, and reading JSON answers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "core/status.h"
#include "net/http_client.h"
#include "notify/provider.h"

namespace herald::notify {

// Provider text kept in a result: at most kMaxProviderText bytes, made valid UTF-8.
inline constexpr size_t kMaxProviderText = 300;
std::string ClipProviderText(std::string_view s);

// Options every HTTP provider shares. Normalises the base URL (no trailing '/').
// InvalidArgument, naming `provider`, for a URL that is not http(s) or a non-positive timeout.
Status CheckHttpProviderOptions(std::string& base_url, absl::Duration timeout,
                                std::string_view provider);
// InvalidArgument "<provider>: <what> is required" when `value` is empty.
Status RequireOption(const std::string& value, std::string_view provider, std::string_view what);

// An HttpClient error as a retryable result: "timeout" (DeadlineExceeded), "connection"
// (Unavailable) or "http_client", with curl's message (which names the host, never the path or
// query of the URL).
SendResult TransportFailure(const Status& status);

// The body as a JSON object, or nullopt.
std::optional<boost::json::object> ParseJsonObject(std::string_view body);
// A string or integer member as text; "" when absent or of another type.
std::string JsonField(const boost::json::object& o, std::string_view key);
// An integer member; nullopt when absent, of another type or out of int64 range.
std::optional<int64_t> JsonIntField(const boost::json::object& o, std::string_view key);

inline bool Is2xx(int status) { return status >= 200 && status < 300; }
// "HTTP <status>: <clipped body>".
std::string HttpStatusText(const net::HttpResponse& r);

}  // namespace herald::notify
