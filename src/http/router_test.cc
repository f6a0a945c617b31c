#include "http/router.h"

#include "gtest/gtest.h"

namespace herald::http {
namespace {

Route Named(std::string method, std::string pattern) {
  Route r;
  r.method = std::move(method);
  r.summary = r.method + " " + pattern;
  r.pattern = std::move(pattern);
  return r;
}

// The summary of the route `method path` matches, or the error's code name.
std::string MatchOf(const Router& router, std::string method, std::string path,
                    std::string* allow = nullptr) {
  Request req;
  req.method = std::move(method);
  req.path = std::move(path);
  std::string ignored;
  auto route = router.Match(req, allow != nullptr ? allow : &ignored);
  if (!route.ok()) return absl::StatusCodeToString(route.status().code());
  std::string out = (*route)->summary;
  for (const auto& [name, value] : req.params) out += " " + name + "=" + value;
  return out;
}

TEST(RouterTest, TheFirstRouteRegisteredThatMatchesWins) {
  Router router;
  router.Add(Named("GET", "/health"));
  router.Add(Named("GET", "/api/events/{id}"));
  router.Add(Named("GET", "/api/events/stats"));  // shadowed by the pattern before it
  router.Add(Named("GET", "/api/{module}/about/{what}"));
  router.Add(Named("GET", "/api/events/about/{what}"));  // shadowed too, from another list
  router.Add(Named("POST", "/api/events/{id}/tickets"));
  router.Add(Named("GET", "/{any}"));

  EXPECT_EQ(MatchOf(router, "GET", "/health"), "GET /health");
  EXPECT_EQ(MatchOf(router, "GET", "/api/events/7"), "GET /api/events/{id} id=7");
  EXPECT_EQ(MatchOf(router, "GET", "/api/events/stats"), "GET /api/events/{id} id=stats");
  EXPECT_EQ(MatchOf(router, "GET", "/api/events/about/x"),
            "GET /api/{module}/about/{what} module=events what=x");
  EXPECT_EQ(MatchOf(router, "POST", "/api/events/7/tickets"), "POST /api/events/{id}/tickets id=7");
  EXPECT_EQ(MatchOf(router, "HEAD", "//api//events/9/"), "GET /api/events/{id} id=9");
  EXPECT_EQ(MatchOf(router, "GET", "/ready"), "GET /{any} any=ready");
  EXPECT_EQ(MatchOf(router, "GET", "/api/nothing/here"), "NOT_FOUND");
  EXPECT_EQ(MatchOf(router, "GET", "/"), "NOT_FOUND");

  std::string allow;
  EXPECT_EQ(MatchOf(router, "DELETE", "/api/events/7", &allow), "FAILED_PRECONDITION");
  EXPECT_EQ(allow, "GET");
  allow.clear();
  EXPECT_EQ(MatchOf(router, "PUT", "/api/events/stats", &allow), "FAILED_PRECONDITION");
  EXPECT_EQ(allow, "GET, GET");  // both routes of that path, in order
  allow.clear();
  EXPECT_EQ(MatchOf(router, "GET", "/api/events/7/tickets", &allow), "FAILED_PRECONDITION");
  EXPECT_EQ(allow, "POST");
}

}  // namespace
}  // namespace herald::http
