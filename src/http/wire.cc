#include "http/wire.h"

#include <algorithm>
#include <cctype>

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

RequestDecoder::RequestDecoder(size_t max_header_bytes, size_t max_body_bytes)
    : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {
  Reset();
}

void RequestDecoder::Reset() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(max_header_bytes_, UINT32_MAX)));
  parser_->body_limit(max_body_bytes_);
  parser_->eager(true);
}

boost::asio::mutable_buffer RequestDecoder::Prepare() { return buffer_.prepare(kReadChunk); }

void RequestDecoder::Commit(size_t n) { buffer_.commit(n); }

bool RequestDecoder::Started() const { return buffer_.size() > 0 || parser_->got_some(); }

RequestDecoder::Outcome RequestDecoder::Next(Request& out, bool& keep_alive, Response& error) {
  boost::beast::error_code ec;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) return Outcome::kNeedMore;
    if (ec) break;
    if (used == 0) return Outcome::kNeedMore;
  }
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      error = ErrorResponse(
          absl::InvalidArgumentError(StrCat("body: larger than ", max_body_bytes_, " bytes")));
      error.status = 413;
    } else {
      error =
          ErrorResponse(absl::InvalidArgumentError(StrCat("malformed request: ", ec.message())));
      if (ec == bhttp::error::header_limit) error.status = 431;
    }
    return Outcome::kError;
  }
  if (!parser_->is_done()) return Outcome::kNeedMore;

  auto& msg = parser_->get();
  std::string_view target(msg.target().data(), msg.target().size());
  auto url = boost::urls::parse_origin_form(boost::core::string_view(target.data(), target.size()));
  if (!url) {
    error = ErrorResponse(absl::InvalidArgumentError("malformed request target"));
    return Outcome::kError;
  }
  out = Request{};
  out.method = std::string(msg.method_string());
  out.target = std::string(target);
  out.path = std::string(url->path());
  for (auto p : url->params()) out.query[std::string(p.key)] = std::string(p.value);
  out.headers.reserve(std::distance(msg.begin(), msg.end()));
  for (const auto& f : msg) {
    auto& [name, value] =
        out.headers.emplace_back(std::string(f.name_string().data(), f.name_string().size()),
                                 std::string(f.value().data(), f.value().size()));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  out.body = std::move(msg.body());
  keep_alive = msg.keep_alive();
  http10_ = msg.version() == 10;
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
