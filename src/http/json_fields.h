#pragma once
// Strict readers for JSON request bodies: each names the offending field in its error
// (InvalidArgument "priority: expected an integer or one of high, normal, low"), and
// Fields::CheckKnown rejects fields a route does not take, so a typo is an error.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "boost/json/value.hpp"
#include "core/status.h"
#include "http/message.h"

namespace herald::http {

class Fields {
 public:
  explicit Fields(const boost::json::object& object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  Status CheckKnown(std::initializer_list<std::string_view> known) const;

  const boost::json::value* Get(std::string_view name) const;
  Result<std::optional<std::string>> String(std::string_view name) const;
  // String, stored into `dest` when the field is present (left as it is otherwise).
  Status StringInto(std::string_view name, std::string& dest) const;
  Result<std::optional<int64_t>> Int(std::string_view name, int64_t min, int64_t max) const;
  Result<std::optional<bool>> Bool(std::string_view name) const;
  // A duration: a number of milliseconds, or a string such as "30s" or "5m".
  Result<std::optional<absl::Duration>> Duration(std::string_view name) const;
  // An RFC 3339 time such as "2026-03-29T01:30:00Z" or with an offset.
  Result<std::optional<absl::Time>> Time(std::string_view name) const;

  std::string Name(std::string_view field) const;

 private:
  const boost::json::object& object_;
  std::string prefix_;
};

// RFC 3339 with milliseconds, in UTC ("2026-01-30T03:00:00.000Z").
std::string Rfc3339(absl::Time t);
// Rfc3339, or JSON null when there is no time.
boost::json::value Rfc3339OrNull(const std::optional<absl::Time>& t);

// Query parameters (InvalidArgument naming the parameter; nullopt when absent): an RFC 3339
// time, and an integer within [min, max].
Result<std::optional<absl::Time>> QueryTime(const Request& request, std::string_view name);
Result<std::optional<int64_t>> QueryInt(const Request& request, std::string_view name, int64_t min,
                                        int64_t max);

}  // namespace herald::http
