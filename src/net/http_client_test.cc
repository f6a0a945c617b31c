#include "net/http_client.h"

#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "net/testing/fake_http_server.h"

namespace herald::net {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

// A text with an accent, '+' and '€'.
constexpr char kText[] = "Café à 10h + 1€";
constexpr char kTextForm[] = "Caf%C3%A9+%C3%A0+10h+%2B+1%E2%82%AC";
constexpr char kTextQuery[] = "Caf%C3%A9%20%C3%A0%2010h%20%2B%201%E2%82%AC";

FakeResponse Answer(int status, std::string body) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpRequest Post(const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.body = "{}";
  r.content_type = "application/json";
  r.timeout = absl::Seconds(10);
  return r;
}

TEST(HttpClient, PrivateAddressesAreRefusedWhenNotAllowed) {
  FakeHttpServer server;
  HttpClientOptions options;
  options.allow_private_addresses = false;
  HttpClient guarded(options);
  // 127.0.0.1 literally, and "localhost", which resolves to a loopback address.
  for (const std::string& url :
       {server.url() + "/hook", "http://localhost:" + std::to_string(server.port()) + "/hook"}) {
    Result<HttpResponse> r = guarded.Post(Post(url));
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  }
  EXPECT_EQ(server.request_count(), 0u);

  HttpClient open;  // the default allows them
  Result<HttpResponse> r = open.Post(Post(server.url() + "/hook"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(server.request_count(), 1u);
}

// =============================================================================================
// HttpClient
// =============================================================================================

TEST(HttpClientEncoding, FormEncodeEscapesAccentsPlusAndReservedCharacters) {
  EXPECT_EQ(FormEncode({{"Body", kText}}), std::string("Body=") + kTextForm);
  EXPECT_EQ(FormEncode({{"a b", "x&y=z"}, {"To", "+33612345678"}, {"k", ""}}),
            "a+b=x%26y%3Dz&To=%2B33612345678&k=");
  EXPECT_EQ(FormEncode({{"u", "AZaz09-._~"}}), "u=AZaz09-._~");
  EXPECT_EQ(FormEncode({}), "");
}

TEST(HttpClientEncoding, QueryAndPercentEncodeWriteSpacesAsPercent20) {
  EXPECT_EQ(QueryEncode({{"msg", kText}, {"x", "/?#"}}),
            std::string("msg=") + kTextQuery + "&x=%2F%3F%23");
  EXPECT_EQ(PercentEncode("a b+c\n"), "a%20b%2Bc%0A");
}

TEST(HttpClient, PostSendsBodyHeadersAndBasicAuthAndReadsTheResponse) {
  FakeHttpServer server;
  FakeResponse answer = Answer(201, R"({"ok":true})");
  answer.headers = {{"X-Request-Id", "abc"}, {"Content-Type", "application/json; charset=utf-8"}};
  server.Enqueue(answer);
  HttpClient client;
  HttpRequest request;
  request.url = server.url() + "/v1/things?x=1";
  request.content_type = "application/x-www-form-urlencoded";
  request.headers = {{"Accept", "application/json"}, {"X-Custom", "v"}};
  request.body = "a=1&b=2";
  request.basic_auth_user = "user";
  request.basic_auth_password = "pa:ss";
  Result<HttpResponse> response = client.Post(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->Header("x-request-id"), "abc");
  EXPECT_EQ(response->Header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(response->Header("missing"), "");

  ASSERT_EQ(server.request_count(), 1u);
  const FakeRequest r = server.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/things?x=1");
  EXPECT_EQ(r.body, "a=1&b=2");
  EXPECT_EQ(r.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.Header("accept"), "application/json");
  EXPECT_EQ(r.Header("x-custom"), "v");
  EXPECT_EQ(r.Header("authorization"), "Basic dXNlcjpwYTpzcw==");  // user:pa:ss
  EXPECT_EQ(r.Header("expect"), "");
}

TEST(HttpClient, GetSendsNoBody) {
  FakeHttpServer server;
  HttpClient client;
  HttpRequest request;
  request.url = server.url() + "/get?q=1";
  Result<HttpResponse> response = client.Get(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{}");
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].body, "");

  request.body = "x";
  EXPECT_EQ(client.Get(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpClient, NeverFollowsRedirects) {
  FakeHttpServer server;
  FakeResponse redirect = Answer(302, "");
  redirect.headers = {{"Location", server.url() + "/elsewhere"}};
  server.Enqueue(redirect);
  HttpClient client;
  HttpRequest request;
  request.url = server.url() + "/start";
  request.basic_auth_user = "u";
  request.basic_auth_password = "p";
  Result<HttpResponse> response = client.Post(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(HttpClient, ReusesTheConnectionAcrossRequests) {
  FakeHttpServer server;
  HttpClient client;
  HttpRequest request;
  request.url = server.url() + "/x";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.Post(request).ok());
  EXPECT_EQ(server.request_count(), 5u);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, WithoutAnIdlePoolEveryRequestOpensAConnection) {
  FakeHttpServer server;
  HttpClientOptions options;
  options.max_idle = 0;
  HttpClient client(options);
  HttpRequest request;
  request.url = server.url() + "/x";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Post(request).ok());
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClient, ConnectionRefusedIsUnavailable) {
  std::string url;
  {
    FakeHttpServer closed;
    url = closed.url();
  }
  HttpClient client;
  HttpRequest request;
  request.url = url + "/x";
  Result<HttpResponse> response = client.Post(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable) << response.status();
}

TEST(HttpClient, SlowServerIsDeadlineExceeded) {
  FakeHttpServer server;
  FakeResponse slow;
  slow.delay = std::chrono::milliseconds(3000);
  server.Enqueue(slow);
  HttpClient client;
  HttpRequest request;
  request.url = server.url() + "/slow";
  request.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  Result<HttpResponse> response = client.Post(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded) << response.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(HttpClient, ClosedWithoutResponseIsUnavailable) {
  FakeHttpServer server;
  FakeResponse drop;
  drop.close_without_response = true;
  server.Enqueue(drop);
  HttpClient client;
  HttpRequest request;
  request.url = server.url() + "/x";
  EXPECT_EQ(client.Post(request).status().code(), absl::StatusCode::kUnavailable);
  // The next request gets a fresh connection and succeeds.
  EXPECT_TRUE(client.Post(request).ok());
}

TEST(HttpClient, OversizedResponseIsUnavailable) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, std::string(100, 'x')));
  HttpClientOptions options;
  options.max_response_bytes = 16;
  HttpClient client(options);
  HttpRequest request;
  request.url = server.url() + "/big";
  Result<HttpResponse> response = client.Post(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
}

TEST(HttpClient, RejectsBadRequestsWithoutSendingThem) {
  FakeHttpServer server;
  HttpClient client;
  HttpRequest request;
  request.url = "ftp://127.0.0.1/x";
  EXPECT_EQ(client.Post(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.url = server.url() + "/x";
  request.headers = {{"X-Evil", "a\r\nX-Injected: 1"}};
  EXPECT_EQ(client.Post(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.headers = {};
  request.timeout = absl::ZeroDuration();
  EXPECT_EQ(client.Post(request).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.request_count(), 0u);
}

}  // namespace
}  // namespace herald::net
