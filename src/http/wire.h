#pragma once
// HTTP/1.1 on the wire: requests from a connection's bytes, responses to bytes. Not
// thread-safe; one RequestDecoder per connection.
//
// RequestDecoder buffers what the connection reads and cuts it into Requests, one at a time;
// bytes past a request stay buffered for the next one, so pipelined requests are safe. A
// request over the header or body limit, or a malformed one, is an error response (431, 413
// or 400) after which the connection must close; the header limit also bounds a chunked
// body's size lines and trailer part, whose fields are dropped. HTTP/1.1 and HTTP/1.0 are
// accepted; a Connection (or Proxy-Connection) field's close or keep-alive is honoured.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "boost/asio/buffer.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/basic_parser.hpp"
#include "http/message.h"

namespace herald::http {

namespace wire_internal {

// Beast's HTTP/1 request parser (it validates the syntax and enforces the limits), writing
// the request's method, target, headers (names in lower case) and body straight into a
// Request: no field container in between. One per request, as Beast requires.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(Request& out) : out_(out) {}

  int version() const { return version_; }  // 11 for HTTP/1.1, once the request line is in

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target,
                       int version, error_code&) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override;
  size_t on_body_impl(string_view body, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  Request& out_;
  int version_ = 11;
};

}  // namespace wire_internal

class RequestDecoder {
 public:
  RequestDecoder(size_t max_header_bytes, size_t max_body_bytes);
  RequestDecoder(const RequestDecoder&) = delete;  // the parser refers to pending_
  RequestDecoder& operator=(const RequestDecoder&) = delete;

  // Space for the next read from the connection; Commit(n) once n bytes were read into it.
  boost::asio::mutable_buffer Prepare();
  void Commit(size_t n);

  enum class Outcome { kNeedMore, kRequest, kError };
  // Decodes what is buffered. kRequest: `out` is the next request (method, target, path,
  // query, lower-case headers, body; the caller's other fields are reset) and `keep_alive`
  // says whether the client keeps the connection. kError: `error` is the response to send
  // before closing. kNeedMore: read more and call again.
  Outcome Next(Request& out, bool& keep_alive, Response& error);

  // Whether any byte of the next request has arrived (false: the connection is idle).
  bool Started() const;
  // Whether the next request's header block is complete (its body may still be coming).
  bool HeaderDone() const;

  // True once per request, when the client waits for kContinue before it sends the body:
  // an HTTP/1.1 request whose header is in, with "Expect: 100-continue", and whose body is
  // not (RFC 9110 10.1.1; curl sends it for bodies over 1 KiB and waits a second otherwise).
  // The caller writes kContinue, then reads on. A body over the limit is refused (413) when
  // its length is known from the header, before any kContinue.
  bool TakeContinue();

  // Whether the last request Next returned was HTTP/1.0.
  bool http10() const { return http10_; }

 private:
  void Reset();

  const size_t max_header_bytes_;
  const size_t max_body_bytes_;
  boost::beast::flat_buffer buffer_;
  Request pending_;  // the request being parsed; swapped into Next's `out` once complete
  std::optional<wire_internal::RequestParser> parser_;  // writes into pending_
  bool http10_ = false;
  bool continued_ = false;  // TakeContinue answered true for the request being read
};

// The interim response that tells a client waiting on "Expect: 100-continue" to send the body.
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Whether a response with this status carries a body: not 1xx, 204 or 304 (RFC 9110 6.4.1).
inline bool StatusHasBody(int status) { return status >= 200 && status != 204 && status != 304; }

// The status line and headers of `response` (Server, Content-Type, Content-Length,
// Connection, then the response's own headers), ending with the blank line; the body follows
// as is when StatusHasBody. A header whose name or value could split the response (CR, LF,
// NUL, or a name that is not a token) is left out, and such a content type is sent as
// application/octet-stream. `http10`: the request was HTTP/1.0, whose connections close
// unless the response says keep-alive.
std::string ResponseHead(const Response& response, bool keep_alive, bool http10 = false);

}  // namespace herald::http
