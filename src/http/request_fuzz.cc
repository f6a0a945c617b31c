// Fuzz target for what a client controls in a request: the raw HTTP/1.1 bytes (the server's
// RequestDecoder, and the response head built from what it decoded), the path matched
// against the router's patterns, and the JSON bodies of the job, schedule, notification,
// contact, webhook, maintenance, auth (login, validate), document and ticketing (events, ticket
// types, templates, guests, tickets, door staff, gates, scans, purchases, generation, outside
// generators' reports) routes.
// Must never crash; errors must be 4xx.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "apps/tickets/generation.h"
#include "auth/authenticator.h"
#include "boost/json/parse.hpp"
#include "http/contact_routes.h"
#include "http/document_routes.h"
#include "http/engine_routes.h"
#include "http/maintenance_routes.h"
#include "http/message.h"
#include "http/notify_routes.h"
#include "http/router.h"
#include "http/ticket_routes.h"
#include "http/webhook_routes.h"
#include "http/wire.h"

namespace {

herald::http::Router& TestRouter() {
  static herald::http::Router* router = [] {
    auto* r = new herald::http::Router();
    for (const char* pattern : {"/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/cancel",
                                "/api/queues/{name}/pause", "/api/schedules/{name}"}) {
      r->Add({"GET", pattern, "", "", [](herald::http::Request&) {
                return herald::Result<herald::http::Response>(herald::http::Response{});
              }});
    }
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // The server's decoder, fed in two reads; whatever it makes of the bytes, the response
  // head it leads to frames cleanly.
  herald::http::RequestDecoder decoder(16 << 10, 1 << 20);
  herald::http::Request decoded;
  bool keep_alive = false;
  herald::http::Response error;
  for (std::string_view part : {text.substr(0, text.size() / 2), text.substr(text.size() / 2)}) {
    auto space = decoder.Prepare();
    size_t n = std::min(space.size(), part.size());
    std::memcpy(space.data(), part.data(), n);
    decoder.Commit(n);
    for (;;) {
      auto outcome = decoder.Next(decoded, keep_alive, error);
      if (outcome == herald::http::RequestDecoder::Outcome::kNeedMore) break;
      if (outcome == herald::http::RequestDecoder::Outcome::kError) {
        if (error.status < 400 || error.status >= 500) std::abort();
        break;
      }
      herald::http::Response echo = herald::http::Response::Text(200, decoded.body, "text/plain");
      for (const auto& [name, value] : decoded.headers) echo.headers.emplace_back(name, value);
      std::string head = herald::http::ResponseHead(echo, keep_alive);
      if (head.find("\r\n\r\n") != head.size() - 4) std::abort();  // no header splits it
    }
    if (error.status >= 400) break;
  }

  herald::http::Request req;
  req.method = "GET";
  req.path = std::string(text);
  std::string allow;
  auto route = TestRouter().Match(req, &allow);
  if (!route.ok() && herald::http::HttpStatus(route.status()) >= 500) std::abort();

  boost::system::error_code jec;
  boost::json::value v = boost::json::parse(text, jec);
  if (!jec && v.is_object()) {
    auto spec = herald::http::JobSpecFromJson(v.as_object());
    if (!spec.ok() && herald::http::HttpStatus(spec.status()) != 400) std::abort();
    for (auto channel : {herald::notify::Channel::kEmail, herald::notify::Channel::kWhatsApp}) {
      auto send = herald::http::ParseSendRequest(channel, v.as_object());
      if (!send.ok() && herald::http::HttpStatus(send.status()) != 400) std::abort();
    }
    auto contact = herald::http::ParseContact(v.as_object());
    if (!contact.ok() && herald::http::HttpStatus(contact.status()) != 400) std::abort();
    // Webhook and maintenance bodies: any failure is a 400.
    const boost::json::object& o = v.as_object();
    auto is_400 = [](const auto& result) {
      return result.ok() || herald::http::HttpStatus(result.status()) == 400;
    };
    const std::string raw(text);
    if (!is_400(herald::http::ParseEndpoint(o)) || !is_400(herald::http::ParseOutboundEvent(o)) ||
        !is_400(herald::http::ParsePaymentServiceEvent(o, raw)) ||
        !is_400(herald::http::ParseTicketServiceEvent(o, raw)) ||
        !is_400(herald::http::ParseStripeEvent(o, raw)) || !is_400(herald::http::ParseMachine(o)) ||
        !is_400(herald::http::ParseUser(o)) || !is_400(herald::http::ParseTicket(o)) ||
        !is_400(herald::http::ParseEvent(o)) || !is_400(herald::http::ParseScan(o)) ||
        !is_400(herald::http::ParseInternalScan(o)) ||
        !is_400(herald::http::ParseScanConfirmation(o)) ||
        !is_400(herald::http::ParsePurchase(o)) ||
        !is_400(herald::http::ParseGenerationRequest(o)) ||
        !is_400(herald::auth::ParseLoginRequest(v)) ||
        !is_400(herald::auth::ParseValidateRequest(v))) {
      std::abort();
    }
    // Schedules, ticketing's other bodies, documents.
    std::vector<herald::Status> more = herald::http::ParseScheduleBodies(o);
    for (const herald::Status& st : herald::http::ParseTicketingBodies(o)) more.push_back(st);
    more.push_back(herald::http::ParseDocumentBody(o));
    // An outside ticket generator's report: whatever it says, what it records is sane.
    std::vector<herald::apps::tickets::OutsideTicket> made;
    herald::apps::tickets::ParseOutsideReport(o, &made);
    for (const auto& m : made) {
      if (!m.url.starts_with("http") || m.url.size() > 2048 || (m.id == 0 && m.code.empty())) {
        std::abort();
      }
    }
    for (const herald::Status& st : more) {
      if (!st.ok() && herald::http::HttpStatus(st) != 400) std::abort();
    }
  }
  herald::http::Response r =
      herald::http::ErrorResponse(absl::InvalidArgumentError(std::string(text)));
  boost::json::parse(r.body, jec);
  if (jec) std::abort();  // the error body is always valid JSON
  return 0;
}
