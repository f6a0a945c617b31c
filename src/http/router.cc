#include "http/router.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "core/strings.h"

namespace herald::http {
namespace {

// The non-empty segments of a path, as views into it.
absl::InlinedVector<std::string_view, 8> Split(std::string_view path) {
  absl::InlinedVector<std::string_view, 8> out;
  size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end;
  }
  return out;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// The index key of a path of these segments: their count and the first two.
template <typename Segments>
std::string PrefixKey(const Segments& segments) {
  std::string key = StrCat(segments.size());
  for (size_t k = 0; k < segments.size() && k < 2; ++k) StrAppend(&key, "/", segments[k]);
  return key;
}

}  // namespace

void Router::Add(Route route) {
  const auto segments = Split(route.pattern);
  const size_t index = routes_.size();
  if (std::any_of(segments.begin(), segments.begin() + std::min<size_t>(segments.size(), 2),
                  IsParam)) {
    anywhere_.push_back(index);
  } else {
    by_prefix_[PrefixKey(segments)].push_back(index);
  }
  compiled_.push_back({std::vector<std::string>(segments.begin(), segments.end())});
  routes_.push_back(std::move(route));
}

std::vector<QueryParam> PageQuery(std::vector<QueryParam> more) {
  more.push_back({"cursor", "where the previous page ended (its next_cursor)"});
  more.push_back({"limit", "the most items to return", "integer"});
  return more;
}

Status CheckQuery(const Route& route, const Request& req) {
  for (const auto& [name, value] : req.query) {
    if (Declares(route.query, name)) continue;
    std::string takes;
    for (const QueryParam& p : route.query) StrAppend(&takes, takes.empty() ? "" : ", ", p.name);
    return absl::InvalidArgumentError(
        StrCat("query parameter '", name, "' is unknown: ",
               takes.empty() ? "this route takes none" : StrCat("this route takes ", takes)));
  }
  return absl::OkStatus();
}

Result<const Route*> Router::Match(Request& request, std::string* allow) const {
  // HEAD is GET without the body (RFC 9110 9.3.2): the server leaves the body out.
  std::string_view method = request.method;
  if (method == "HEAD") method = "GET";
  const auto segments = Split(request.path);
  static const std::vector<size_t> kNone;
  const auto listed = by_prefix_.find(PrefixKey(segments));
  const std::vector<size_t>& candidates = listed == by_prefix_.end() ? kNone : listed->second;
  bool path_matched = false;
  // The candidates and anywhere_ in registration order: the first route that matches wins.
  for (size_t a = 0, b = 0; a < candidates.size() || b < anywhere_.size();) {
    const size_t i =
        b == anywhere_.size() || (a < candidates.size() && candidates[a] < anywhere_[b])
            ? candidates[a++]
            : anywhere_[b++];
    const std::vector<std::string>& pattern = compiled_[i].segments;
    if (pattern.size() != segments.size()) continue;
    bool ok = true;
    for (size_t k = 0; k < pattern.size() && ok; ++k) {
      ok = IsParam(pattern[k]) || pattern[k] == segments[k];
    }
    if (!ok) continue;
    path_matched = true;
    if (routes_[i].method != method) {
      if (allow != nullptr) {
        if (!allow->empty()) *allow += ", ";
        *allow += routes_[i].method;
      }
      continue;
    }
    request.params.clear();
    for (size_t k = 0; k < pattern.size(); ++k) {
      if (IsParam(pattern[k])) {
        request.params[pattern[k].substr(1, pattern[k].size() - 2)] = segments[k];
      }
    }
    return &routes_[i];
  }
  if (path_matched) {
    return absl::FailedPreconditionError(
        StrCat("method ", request.method, " is not allowed on ", request.path));
  }
  return absl::NotFoundError(StrCat("no route for ", request.method, " ", request.path));
}

}  // namespace herald::http
