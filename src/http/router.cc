#include "http/router.h"

#include "core/strings.h"

namespace herald::http {
namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end;
  }
  return out;
}

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(Route route) {
  compiled_.push_back({Split(route.pattern)});
  routes_.push_back(std::move(route));
}

Result<const Route*> Router::Match(Request& request, std::string* allow) const {
  // HEAD is GET without the body (RFC 9110 9.3.2): the server leaves the body out.
  std::string_view method = request.method;
  if (method == "HEAD") method = "GET";
  std::vector<std::string> segments = Split(request.path);
  bool path_matched = false;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const std::vector<std::string>& pattern = compiled_[i].segments;
    if (pattern.size() != segments.size()) continue;
    std::map<std::string, std::string, std::less<>> params;
    bool ok = true;
    for (size_t k = 0; k < pattern.size() && ok; ++k) {
      if (IsParam(pattern[k])) {
        params[pattern[k].substr(1, pattern[k].size() - 2)] = segments[k];
      } else {
        ok = pattern[k] == segments[k];
      }
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
    request.params = std::move(params);
    return &routes_[i];
  }
  if (path_matched) {
    return absl::FailedPreconditionError(
        StrCat("method ", request.method, " is not allowed on ", request.path));
  }
  return absl::NotFoundError(StrCat("no route for ", request.method, " ", request.path));
}

}  // namespace herald::http
