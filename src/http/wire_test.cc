#include "http/wire.h"

#include <cstring>

#include "core/strings.h"
#include "gtest/gtest.h"

namespace herald::http {
namespace {

// Hands `bytes` to the decoder as one read from the connection.
void Feed(RequestDecoder& d, std::string_view bytes) {
  auto space = d.Prepare();
  ASSERT_GE(space.size(), bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  d.Commit(bytes.size());
}

TEST(RequestDecoderTest, PipelinedRequestsArriveOneByteAtATime) {
  RequestDecoder d(16 << 10, 1 << 20);
  const std::string wire =
      "POST /api/jobs?queue=a%20b&x=1 HTTP/1.1\r\nHost: h\r\nX-Request-ID: one\r\n"
      "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
      "GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  std::vector<Request> got;
  std::vector<bool> keep;
  Request req;
  bool keep_alive = false;
  Response error;
  EXPECT_FALSE(d.Started());
  for (char c : wire) {
    Feed(d, std::string_view(&c, 1));
    EXPECT_TRUE(d.Started());
    for (;;) {
      auto outcome = d.Next(req, keep_alive, error);
      ASSERT_NE(outcome, RequestDecoder::Outcome::kError) << error.body;
      if (outcome == RequestDecoder::Outcome::kNeedMore) break;
      got.push_back(req);
      keep.push_back(keep_alive);
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/api/jobs?queue=a%20b&x=1");
  EXPECT_EQ(got[0].path, "/api/jobs");
  EXPECT_EQ(got[0].query.at("queue"), "a b");
  EXPECT_EQ(got[0].Header("x-request-id"), "one");
  EXPECT_EQ(got[0].body, "{\"a\":1}");
  EXPECT_TRUE(keep[0]);
  EXPECT_EQ(got[1].method, "GET");
  EXPECT_EQ(got[1].path, "/health");
  EXPECT_TRUE(got[1].body.empty());
  EXPECT_TRUE(got[1].query.empty());
  EXPECT_FALSE(keep[1]);
  EXPECT_FALSE(d.Started());
}

TEST(RequestDecoderTest, ChunkedBodiesHttp10AndNothingLeftFromTheRequestBefore) {
  RequestDecoder d(16 << 10, 100);
  Feed(d,
       "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Mixed-CASE: v\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n"
       "GET /b HTTP/1.0\r\n\r\n");
  // What `req` holds before is never part of a request the decoder returns (the decoder
  // reuses the object for a later request, so both requests check it).
  Request req;
  req.params["id"] = "stale";
  req.request_id = "stale";
  req.headers = {{"stale", "stale"}};
  req.query["stale"] = "stale";
  req.body = "stale";
  req.client_ip = "stale";
  bool keep_alive = false;
  Response error;
  ASSERT_EQ(d.Next(req, keep_alive, error), RequestDecoder::Outcome::kRequest) << error.body;
  EXPECT_EQ(req.body, "abcdefg");
  EXPECT_EQ(req.Header("x-mixed-case"), "v");
  EXPECT_EQ(req.headers.size(), 3u);
  EXPECT_EQ(req.query.at("x"), "1");
  EXPECT_TRUE(req.params.empty());
  EXPECT_TRUE(req.request_id.empty());
  EXPECT_TRUE(keep_alive);
  EXPECT_FALSE(d.http10());
  ASSERT_EQ(d.Next(req, keep_alive, error), RequestDecoder::Outcome::kRequest) << error.body;
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/b");
  EXPECT_EQ(req.path, "/b");
  EXPECT_TRUE(req.body.empty());
  EXPECT_TRUE(req.query.empty());
  EXPECT_TRUE(req.headers.empty());
  EXPECT_TRUE(req.params.empty());
  EXPECT_TRUE(req.request_id.empty());
  EXPECT_TRUE(req.client_ip.empty());
  EXPECT_FALSE(keep_alive);  // HTTP/1.0 without keep-alive
  EXPECT_TRUE(d.http10());

  // A chunked body past the limit is refused like a declared one.
  RequestDecoder small(16 << 10, 5);
  Feed(small,
       "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n");
  EXPECT_EQ(small.Next(req, keep_alive, error), RequestDecoder::Outcome::kError);
  EXPECT_EQ(error.status, 413);
}

TEST(RequestDecoderTest, TrailersAreDroppedAndBoundedByTheHeaderLimit) {
  {
    RequestDecoder d(16 << 10, 100);
    Feed(d,
         "POST /a HTTP/1.1\r\nHost: h\r\nX-Request-ID: mine\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-Request-ID: trailer\r\n\r\n");
    Request req;
    bool keep_alive = false;
    Response error;
    ASSERT_EQ(d.Next(req, keep_alive, error), RequestDecoder::Outcome::kRequest) << error.body;
    EXPECT_EQ(req.body, "ab");
    EXPECT_EQ(req.Header("x-request-id"), "mine");
  }
  // A trailer part or a chunk's size line that never ends: refused once past the header
  // limit, not buffered until the read timeout.
  for (std::string_view endless : {"0\r\nX-Long: ", "5;ext="}) {
    RequestDecoder d(256, 100);
    Feed(d, "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    Feed(d, endless);
    Request req;
    bool keep_alive = false;
    Response error;
    RequestDecoder::Outcome outcome = d.Next(req, keep_alive, error);
    for (int i = 0; i < 100 && outcome == RequestDecoder::Outcome::kNeedMore; ++i) {
      Feed(d, std::string(100, 'x'));
      outcome = d.Next(req, keep_alive, error);
    }
    ASSERT_EQ(outcome, RequestDecoder::Outcome::kError) << endless;
    EXPECT_EQ(error.status, 431) << endless;
  }
}

TEST(RequestDecoderTest, ExpectContinueIsAnsweredOncePerRequestBeforeItsBody) {
  RequestDecoder d(16 << 10, 100);
  Request req;
  bool keep_alive = false;
  Response error;
  auto next = [&] { return d.Next(req, keep_alive, error); };
  using Outcome = RequestDecoder::Outcome;
  EXPECT_FALSE(d.TakeContinue());  // nothing read yet
  Feed(d, "POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(next(), Outcome::kNeedMore);
  EXPECT_TRUE(d.TakeContinue());
  EXPECT_FALSE(d.TakeContinue());  // once
  Feed(d, "ab");
  EXPECT_EQ(next(), Outcome::kNeedMore);
  EXPECT_FALSE(d.TakeContinue());
  Feed(d, "c");
  ASSERT_EQ(next(), Outcome::kRequest);
  EXPECT_EQ(req.body, "abc");
  EXPECT_FALSE(d.TakeContinue());

  // No Expect field, a body that came with its header, HTTP/1.0: nothing to answer.
  Feed(d, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(next(), Outcome::kNeedMore);
  EXPECT_FALSE(d.TakeContinue());
  Feed(d, "abc");
  ASSERT_EQ(next(), Outcome::kRequest);
  Feed(d, "POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_EQ(next(), Outcome::kRequest);
  EXPECT_FALSE(d.TakeContinue());
  Feed(d, "POST /a HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(next(), Outcome::kNeedMore);
  EXPECT_FALSE(d.TakeContinue());
  Feed(d, "abc");
  ASSERT_EQ(next(), Outcome::kRequest);

  // A body over the limit is refused from its header: the client never sends it.
  Feed(d, "POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n");
  EXPECT_EQ(next(), Outcome::kError);
  EXPECT_EQ(error.status, 413);
}

TEST(RequestDecoderTest, ConnectionFieldsDecideKeepAlive) {
  const struct {
    std::string_view head;
    bool keep_alive;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\n", true},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n", false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: x-other\r\nConnection: close\r\n", false},
      {"GET / HTTP/1.1\r\nHost: h\r\nProxy-Connection: close\r\n", false},
      {"GET / HTTP/1.0\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n", true},
  };
  for (const auto& c : cases) {
    RequestDecoder d(16 << 10, 100);
    Feed(d, StrCat(c.head, "\r\n"));
    Request req;
    bool keep_alive = !c.keep_alive;
    Response error;
    ASSERT_EQ(d.Next(req, keep_alive, error), RequestDecoder::Outcome::kRequest) << c.head;
    EXPECT_EQ(keep_alive, c.keep_alive) << c.head;
  }
}

TEST(RequestDecoderTest, LimitsAndMalformedRequestsAreErrorResponses) {
  struct Case {
    std::string wire;
    int status;
  } cases[] = {
      {"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", 413},
      {"GET /a HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(300, 'x') + "\r\n\r\n", 431},
      {"THIS IS NOT HTTP\r\n\r\n", 400},
      {"GET http://example.com/a HTTP/1.1\r\nHost: h\r\n\r\n", 400},  // not origin-form
      {"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    RequestDecoder d(256, 100);
    Feed(d, c.wire);
    Request req;
    bool keep_alive = true;
    Response error;
    ASSERT_EQ(d.Next(req, keep_alive, error), RequestDecoder::Outcome::kError) << c.wire;
    EXPECT_EQ(error.status, c.status) << c.wire;
    EXPECT_NE(error.body.find("\"error\""), std::string::npos);
  }
}

TEST(ResponseHeadTest, FramesTheBodyAndLeavesOutHeadersThatWouldSplitTheResponse) {
  Response r = Response::Text(201, "hello", "text/plain");
  r.headers = {{"Location", "/api/jobs/1"},
               {"X-Evil", "a\r\nSet-Cookie: x=1"},
               {"Bad Name", "v"},
               {"X-Null", std::string("a\0b", 3)}};
  EXPECT_EQ(ResponseHead(r, true),
            "HTTP/1.1 201 Created\r\nServer: herald\r\nContent-Type: text/plain\r\n"
            "Content-Length: 5\r\nLocation: /api/jobs/1\r\n\r\n");
  EXPECT_EQ(ResponseHead(Response::Text(200, "", "text/plain\r\nX: y"), true),
            "HTTP/1.1 200 OK\r\nServer: herald\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(ResponseHead(Response::Text(200, "", "text/plain"), true, /*http10=*/true),
            "HTTP/1.1 200 OK\r\nServer: herald\r\nContent-Type: text/plain\r\n"
            "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(ResponseHead(Response::Text(204, "", "text/plain"), false),
            "HTTP/1.1 204 No Content\r\nServer: herald\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(StatusHasBody(204));
  EXPECT_FALSE(StatusHasBody(304));
  EXPECT_TRUE(StatusHasBody(200));
  EXPECT_EQ(ResponseHead(Response::Text(299, "", "text/plain"), true).substr(0, 21),
            "HTTP/1.1 299 Unknown\r");
}

}  // namespace
}  // namespace herald::http
