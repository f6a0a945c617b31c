#include "http/wire.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "boost/beast/http/status.hpp"
#include "boost/url/parse.hpp"
#include "core/strings.h"

namespace herald::http {
namespace {

namespace bhttp = boost::beast::http;

constexpr size_t kReadChunk = 16 << 10;

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool IsFieldValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace

namespace wire_internal {

void RequestParser::on_request_impl(boost::beast::http::verb, string_view method,
                                    string_view target, int version, error_code&) {
  version_ = version;
  // A new request: `out_` may hold an earlier one's parts (their capacity is reused).
  out_.method.assign(method.data(), method.size());
  out_.target.assign(target.data(), target.size());
  out_.path.clear();
  out_.query.clear();
  out_.headers.clear();
  out_.params.clear();
  out_.body.clear();
  out_.request_id.clear();
  out_.client_ip.clear();
  out_.principal = {};
}

void RequestParser::on_field_impl(boost::beast::http::field, string_view name, string_view value,
                                  error_code&) {
  // Trailer fields (after a chunked body) are dropped, as RFC 9110 6.5.1 allows: a proxy
  // that checks or sets headers may pass trailers through, and Header() answers the last
  // field of a name.
  if (is_header_done()) return;
  auto& [n, v] = out_.headers.emplace_back(std::string(name.data(), name.size()),
                                           std::string(value.data(), value.size()));
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) {
  // The parser has checked the length against the body limit already.
  if (length) out_.body.reserve(static_cast<size_t>(*length));
}

size_t RequestParser::on_body_impl(string_view body, error_code&) {
  out_.body.append(body.data(), body.size());
  return body.size();
}

size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) {
  return on_body_impl(body, ec);
}

}  // namespace wire_internal

RequestDecoder::RequestDecoder(size_t max_header_bytes, size_t max_body_bytes)
    : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {
  Reset();
}

void RequestDecoder::Reset() {
  parser_.emplace(pending_);
  parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(max_header_bytes_, UINT32_MAX)));
  parser_->body_limit(max_body_bytes_);
  parser_->eager(true);
  continued_ = false;
}

bool RequestDecoder::TakeContinue() {
  if (continued_ || !parser_->is_header_done() || parser_->is_done() || parser_->version() < 11) {
    return false;
  }
  for (const auto& [name, value] : pending_.headers) {
    if (name == "expect" &&
        absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(ToAbsl(value)), "100-continue")) {
      continued_ = true;
      return true;
    }
  }
  return false;
}

boost::asio::mutable_buffer RequestDecoder::Prepare() { return buffer_.prepare(kReadChunk); }

void RequestDecoder::Commit(size_t n) { buffer_.commit(n); }

bool RequestDecoder::Started() const { return buffer_.size() > 0 || parser_->got_some(); }

bool RequestDecoder::HeaderDone() const { return parser_->is_header_done(); }

RequestDecoder::Outcome RequestDecoder::Next(Request& out, bool& keep_alive, Response& error) {
  boost::beast::error_code ec;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more || (!ec && used == 0)) {
      // What the parser cannot use yet is a header block, a chunk's size line or the
      // trailer part (bodies are taken as they come). Beast bounds only the first: the
      // header limit bounds them all, or a client could make the buffer grow until the
      // read timeout.
      if (buffer_.size() <= max_header_bytes_) return Outcome::kNeedMore;
      ec = bhttp::error::header_limit;
    }
    if (ec) break;
  }
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      error = ErrorResponse(
          absl::InvalidArgumentError(StrCat("body: larger than ", max_body_bytes_, " bytes")), 413,
          "payload_too_large");
    } else if (ec == bhttp::error::header_limit) {
      error = ErrorResponse(
          absl::InvalidArgumentError(StrCat("request header fields (or a chunk's size line or "
                                            "trailer) larger than ",
                                            max_header_bytes_, " bytes")),
          431, "header_too_large");
    } else {
      error =
          ErrorResponse(absl::InvalidArgumentError(StrCat("malformed request: ", ec.message())));
    }
    return Outcome::kError;
  }
  if (!parser_->is_done()) return Outcome::kNeedMore;

  auto url = boost::urls::parse_origin_form(
      boost::core::string_view(pending_.target.data(), pending_.target.size()));
  if (!url) {
    error = ErrorResponse(absl::InvalidArgumentError("malformed request target"));
    return Outcome::kError;
  }
  pending_.path.assign(url->path());
  for (auto p : url->params()) pending_.query[std::string(p.key)] = std::string(p.value);
  keep_alive = parser_->keep_alive();
  http10_ = parser_->version() == 10;
  std::swap(out, pending_);
  Reset();
  return Outcome::kRequest;
}

std::string ResponseHead(const Response& response, bool keep_alive, bool http10) {
  std::string_view reason = bhttp::obsolete_reason(bhttp::int_to_status(response.status));
  if (reason.empty() || reason.front() == '<') reason = "Unknown";
  std::string head;
  head.reserve(160 + response.headers.size() * 48);
  StrAppend(&head, "HTTP/1.1 ", response.status, " ", reason, "\r\nServer: herald\r\n");
  if (StatusHasBody(response.status)) {
    std::string_view type = "application/octet-stream";
    if (IsFieldValue(response.content_type)) type = response.content_type;
    StrAppend(&head, "Content-Type: ", type, "\r\nContent-Length: ", response.body.size(), "\r\n");
  }
  if (!keep_alive) head += "Connection: close\r\n";
  if (keep_alive && http10) head += "Connection: keep-alive\r\n";
  for (const auto& [name, value] : response.headers) {
    if (!IsToken(name) || !IsFieldValue(value)) continue;
    StrAppend(&head, name, ": ", value, "\r\n");
  }
  head += "\r\n";
  return head;
}

}  // namespace herald::http
