#include "http/json_fields.h"

#include <charconv>

#include <algorithm>

#include "core/config.h"
#include "core/rfc3339.h"
#include "core/strings.h"

namespace herald::http {

std::string Fields::Name(std::string_view field) const { return StrCat(prefix_, field); }

Status Fields::CheckKnown(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : object_) {
    std::string_view k(key.data(), key.size());
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string list;
      for (std::string_view n : known) list += list.empty() ? std::string(n) : StrCat(", ", n);
      return absl::InvalidArgumentError(
          StrCat(Name(k), ": unknown field (this route takes ", list, ")"));
    }
  }
  return absl::OkStatus();
}

const boost::json::value* Fields::Get(std::string_view name) const {
  const boost::json::value* v =
      object_.if_contains(boost::json::string_view(name.data(), name.size()));
  return v == nullptr || v->is_null() ? nullptr : v;
}

Result<std::optional<std::string>> Fields::String(std::string_view name) const {
  const boost::json::value* v = Get(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return absl::InvalidArgumentError(StrCat(Name(name), ": expected a string"));
  return std::optional<std::string>(std::string(v->as_string()));
}

Status Fields::StringInto(std::string_view name, std::string& dest) const {
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> v, String(name));
  if (v) dest = std::move(*v);
  return absl::OkStatus();
}

Result<std::optional<int64_t>> Fields::Int(std::string_view name, int64_t min, int64_t max) const {
  const boost::json::value* v = Get(name);
  if (v == nullptr) return std::optional<int64_t>();
  int64_t n;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    n = static_cast<int64_t>(v->as_uint64());
  } else {
    return absl::InvalidArgumentError(StrCat(Name(name), ": expected an integer"));
  }
  if (n < min || n > max) {
    return absl::InvalidArgumentError(StrCat(Name(name), ": must be in ", min, "..", max));
  }
  return std::optional<int64_t>(n);
}

Result<std::optional<bool>> Fields::Bool(std::string_view name) const {
  const boost::json::value* v = Get(name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool())
    return absl::InvalidArgumentError(StrCat(Name(name), ": expected true or false"));
  return std::optional<bool>(v->as_bool());
}

Result<std::optional<absl::Duration>> Fields::Duration(std::string_view name) const {
  const boost::json::value* v = Get(name);
  if (v == nullptr) return std::optional<absl::Duration>();
  if (v->is_string()) {
    auto d = core::ParseDuration(std::string_view(v->as_string().data(), v->as_string().size()));
    if (!d.ok()) return absl::InvalidArgumentError(StrCat(Name(name), ": ", d.status().message()));
    return std::optional<absl::Duration>(*d);
  }
  HERALD_ASSIGN_OR_RETURN(auto ms, Int(name, 0, int64_t{1} << 45));
  if (!ms) return std::optional<absl::Duration>();
  return std::optional<absl::Duration>(absl::Milliseconds(*ms));
}

Result<std::optional<absl::Time>> Fields::Time(std::string_view name) const {
  HERALD_ASSIGN_OR_RETURN(auto text, String(name));
  if (!text) return std::optional<absl::Time>();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) {
    return absl::InvalidArgumentError(
        StrCat(Name(name), ": expected an RFC 3339 time like 2026-03-29T01:30:00Z"));
  }
  return std::optional<absl::Time>(t);
}

std::string Rfc3339(absl::Time t) { return core::FormatRfc3339(t); }

Result<std::optional<absl::Time>> QueryTime(const Request& request, std::string_view name) {
  auto v = request.Query(name);
  if (!v) return std::optional<absl::Time>();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(*v), &t, &err)) {
    return absl::InvalidArgumentError(StrCat(name, ": expected an RFC 3339 time"));
  }
  return std::optional<absl::Time>(t);
}

boost::json::value Rfc3339OrNull(const std::optional<absl::Time>& t) {
  return t ? boost::json::value(Rfc3339(*t)) : boost::json::value(nullptr);
}

Result<std::optional<int64_t>> QueryInt(const Request& request, std::string_view name, int64_t min,
                                        int64_t max) {
  auto v = request.Query(name);
  if (!v) return std::optional<int64_t>();
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
    return absl::InvalidArgumentError(StrCat(name, ": must be an integer in ", min, "..", max));
  }
  return std::optional<int64_t>(n);
}

}  // namespace herald::http
