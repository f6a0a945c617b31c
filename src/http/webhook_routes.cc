#include "http/webhook_routes.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

#include "boost/json/array.hpp"
#include "boost/json/serialize.hpp"
#include "core/log.h"
#include "core/strings.h"
#include "http/json_fields.h"
#include "webhooks/signatures.h"

namespace herald::http {
namespace {

namespace json = boost::json;
using webhooks::Delivery;
using webhooks::Endpoint;

json::object Ok(json::value data) {
  return json::object{{"success", true}, {"data", std::move(data)}};
}

// The secret is shown only when it was just made (create, rotate).
json::object EndpointJson(const Endpoint& e, bool with_secret) {
  json::array types;
  for (const std::string& t : e.event_types) types.emplace_back(t);
  json::object o{{"id", e.id},
                 {"url", e.url},
                 {"description", e.description},
                 {"eventTypes", std::move(types)},
                 {"enabled", e.enabled},
                 {"disabledReason", e.disabled_reason},
                 {"minIntervalMs", absl::ToInt64Milliseconds(e.min_interval)},
                 {"timeoutMs", absl::ToInt64Milliseconds(e.timeout)},
                 {"failingSince", Rfc3339OrNull(e.failing_since)},
                 {"createdAt", Rfc3339(e.created_at)},
                 {"updatedAt", Rfc3339(e.updated_at)}};
  if (with_secret) o["secret"] = e.secret;
  return o;
}

json::object DeliveryJson(const Delivery& d) {
  json::object o{{"id", d.id},
                 {"messageId", d.message_id},
                 {"endpointId", d.endpoint_id},
                 {"eventType", d.event_type},
                 {"status", webhooks::DeliveryStatusName(d.status)},
                 {"attempts", d.attempts},
                 {"nextAttemptAt", Rfc3339OrNull(d.next_attempt_at)},
                 {"lastStatusCode", d.last_status_code},
                 {"lastError", d.last_error},
                 {"createdAt", Rfc3339(d.created_at)},
                 {"updatedAt", Rfc3339(d.updated_at)}};
  if (!d.attempt_log.empty()) {
    json::array log;
    for (const webhooks::Attempt& a : d.attempt_log) {
      log.push_back(json::object{{"number", a.number},
                                 {"at", Rfc3339(a.at)},
                                 {"statusCode", a.status_code},
                                 {"latencyMs", absl::ToInt64Microseconds(a.latency) / 1000.0},
                                 {"error", a.error},
                                 {"responseBody", a.response_body}});
    }
    o["attemptLog"] = std::move(log);
  }
  return o;
}

Result<std::vector<std::string>> StringArray(const Fields& f, std::string_view name) {
  std::vector<std::string> out;
  const json::value* v = f.Get(name);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array())
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected an array"));
  for (const json::value& item : v->as_array()) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected strings"));
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

// A required non-empty string, or one of two spellings (the seeds mix snake and camel case).
Result<std::string> RequiredString(const Fields& f, std::string_view a, std::string_view b = {}) {
  for (std::string_view name : {a, b}) {
    if (name.empty()) continue;
    HERALD_ASSIGN_OR_RETURN(std::optional<std::string> v, f.String(name));
    if (v && !v->empty()) return std::move(*v);
  }
  return absl::InvalidArgumentError(StrCat(f.Name(a), ": required"));
}

// An id the seeds send as a number or a string ("ticket_id": "ticket-123456" or 789).
Result<std::string> RequiredId(const Fields& f, std::string_view a, std::string_view b = {}) {
  for (std::string_view name : {a, b}) {
    if (name.empty()) continue;
    const json::value* v = f.Get(name);
    if (v == nullptr || v->is_null()) continue;
    if (v->is_string() && !v->as_string().empty()) return std::string(v->as_string());
    if (v->is_int64()) return std::to_string(v->as_int64());
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected a string or an integer"));
  }
  return absl::InvalidArgumentError(StrCat(f.Name(a), ": required"));
}

// "created" (Unix seconds) or "timestamp"/"generated_at" (RFC 3339), else `fallback`.
Result<absl::Time> EventTime(const Fields& f, absl::Time fallback) {
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> created, f.Int("created", 0, 1LL << 40));
  if (created) return absl::FromUnixSeconds(*created);
  for (std::string_view name : {"timestamp", "generated_at", "generatedAt"}) {
    HERALD_ASSIGN_OR_RETURN(std::optional<absl::Time> t, f.Time(name));
    if (t) return *t;
  }
  return fallback;
}

}  // namespace

Result<Endpoint> ParseEndpoint(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown(
      {"url", "description", "eventTypes", "enabled", "minIntervalMs", "timeoutMs", "secret"}));
  Endpoint e;
  HERALD_ASSIGN_OR_RETURN(e.url, RequiredString(f, "url"));
  HERALD_RETURN_IF_ERROR(f.StringInto("description", e.description));
  HERALD_ASSIGN_OR_RETURN(e.event_types, StringArray(f, "eventTypes"));
  HERALD_ASSIGN_OR_RETURN(std::optional<bool> enabled, f.Bool("enabled"));
  e.enabled = enabled.value_or(true);
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> interval, f.Int("minIntervalMs", 0, 3'600'000));
  if (interval) e.min_interval = absl::Milliseconds(*interval);
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> timeout, f.Int("timeoutMs", 1000, 60'000));
  if (timeout) e.timeout = absl::Milliseconds(*timeout);
  HERALD_RETURN_IF_ERROR(f.StringInto("secret", e.secret));
  return e;
}

Result<webhooks::OutboundEvent> ParseOutboundEvent(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"type", "data", "dedupeKey", "dedupeWindow"}));
  webhooks::OutboundEvent e;
  HERALD_ASSIGN_OR_RETURN(e.type, RequiredString(f, "type"));
  const json::value* data = f.Get("data");
  if (data == nullptr || !data->is_object()) {
    return absl::InvalidArgumentError("data: expected an object");
  }
  e.payload_json = json::serialize(*data);
  HERALD_RETURN_IF_ERROR(f.StringInto("dedupeKey", e.dedupe_key));
  HERALD_ASSIGN_OR_RETURN(std::optional<absl::Duration> window, f.Duration("dedupeWindow"));
  if (window) e.dedupe_window = *window;
  if (!e.dedupe_key.empty() && !window) {
    return absl::InvalidArgumentError("dedupeWindow: required with dedupeKey (\"24h\")");
  }
  return e;
}

namespace {

// A refund's amount is what was refunded so far, which grows with each refund: it is part of
// the event's id (":49.99"), so a second partial refund is a new event and a resent one is
// not. Empty for other events.
std::string RefundedSoFar(std::string_view type, const json::value* amount) {
  if (type != "payment.refunded" || amount == nullptr || !amount->is_number()) return "";
  return StrCat(":", json::serialize(*amount));
}

}  // namespace

Result<webhooks::InboundEvent> ParsePaymentServiceEvent(const json::object& body, std::string raw) {
  Fields f(body);
  webhooks::InboundEvent e;
  e.provider = std::string(webhooks::kPaymentService);
  HERALD_ASSIGN_OR_RETURN(e.type, RequiredString(f, "event_type", "eventType"));
  if (body.contains("paymentIntentId")) {
    // Seed 003: one event of each type per payment intent.
    HERALD_ASSIGN_OR_RETURN(std::string intent, RequiredString(f, "paymentIntentId"));
    const json::value* data = body.if_contains("data");
    e.event_id = StrCat(e.type, ":", intent,
                        RefundedSoFar(e.type, data != nullptr && data->is_object()
                                                  ? data->as_object().if_contains("amount")
                                                  : nullptr));
  } else {
    // Seed 002: the sender's webhook id, else one event of each type per payment.
    HERALD_ASSIGN_OR_RETURN(std::string payment, RequiredString(f, "payment_id"));
    HERALD_ASSIGN_OR_RETURN(std::optional<std::string> webhook_id, f.String("webhook_id"));
    e.event_id =
        webhook_id && !webhook_id->empty()
            ? *webhook_id
            : StrCat(e.type, ":", payment, RefundedSoFar(e.type, body.if_contains("amount")));
  }
  HERALD_ASSIGN_OR_RETURN(e.created, EventTime(f, absl::UnixEpoch()));
  e.payload = std::move(raw);
  return e;
}

Result<webhooks::InboundEvent> ParseTicketServiceEvent(const json::object& body, std::string raw) {
  Fields f(body);
  webhooks::InboundEvent e;
  e.provider = std::string(webhooks::kTicketService);
  HERALD_ASSIGN_OR_RETURN(e.type, RequiredString(f, "event_type", "eventType"));
  HERALD_ASSIGN_OR_RETURN(std::string ticket, RequiredId(f, "ticket_id", "jobId"));
  HERALD_ASSIGN_OR_RETURN(e.created, EventTime(f, absl::UnixEpoch()));
  // With its time: a ticket generated again later is a new event, its redelivery is not.
  e.event_id = StrCat(e.type, ":", ticket, ":", absl::ToUnixMillis(e.created));
  e.payload = std::move(raw);
  return e;
}

Result<webhooks::InboundEvent> ParseStripeEvent(const json::object& body, std::string raw) {
  Fields f(body);
  webhooks::InboundEvent e;
  e.provider = std::string(webhooks::kStripe);
  HERALD_ASSIGN_OR_RETURN(e.event_id, RequiredString(f, "id"));
  HERALD_ASSIGN_OR_RETURN(e.type, RequiredString(f, "type"));
  HERALD_ASSIGN_OR_RETURN(std::optional<int64_t> created, f.Int("created", 0, 1LL << 40));
  if (!created) return absl::InvalidArgumentError("created: required");
  e.created = absl::FromUnixSeconds(*created);
  e.payload = std::move(raw);
  return e;
}

Result<std::map<std::string, std::vector<std::string>, std::less<>>> ParseInboundSources(
    std::string_view spec) {
  std::map<std::string, std::vector<std::string>, std::less<>> out;
  int position = 0;
  for (absl::string_view item : absl::StrSplit(ToAbsl(spec), ',', absl::SkipWhitespace())) {
    ++position;
    item = absl::StripAsciiWhitespace(item);
    const size_t eq = item.find('=');
    const std::string label = StrCat("webhooks.inbound_sources: item ", position);
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(StrCat(label, " is not name=whsec_..."));
    }
    const std::string name(ToStd(item.substr(0, eq)));
    const std::string secret(ToStd(item.substr(eq + 1)));
    const bool valid_name = webhooks::IsValidSourceName(name);
    if (!valid_name || name == webhooks::kStripe || name == webhooks::kPaymentService ||
        name == webhooks::kTicketService) {
      return absl::InvalidArgumentError(
          StrCat(label, ": the name must be [a-z0-9_-]{1,64}, not a built-in provider"));
    }
    if (!webhooks::DecodeStandardSecret(secret).ok()) {
      return absl::InvalidArgumentError(
          StrCat(label, " (", name, "): not a whsec_ secret of 24 to 64 bytes"));
    }
    out[name].push_back(secret);
  }
  return out;
}

void AddWebhookRoutes(Router& router, webhooks::Dispatcher& d, webhooks::Inbox& inbox,
                      WebhookRouteOptions options) {
  const std::string tag = "webhooks";
  // --- outbound ---------------------------------------------------------------------------
  router.Add({"GET", "/api/webhooks/endpoints", "webhooks:read",
              "Outbound webhook endpoints (secrets are not shown)",
              [&d](Request&) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(std::vector<Endpoint> list, d.ListEndpoints());
                json::array data;
                for (const Endpoint& e : list) data.push_back(EndpointJson(e, false));
                return Response::Json(200, Ok(std::move(data)));
              },
              200, tag});
  router.Add({"POST", "/api/webhooks/endpoints", "webhooks:create",
              "Register an endpoint: url, eventTypes, minIntervalMs (default 200), timeoutMs; "
              "answers its signing secret once",
              [&d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(Endpoint e, ParseEndpoint(body));
                HERALD_ASSIGN_OR_RETURN(Endpoint created, d.CreateEndpoint(std::move(e)));
                return Response::Json(201, Ok(EndpointJson(created, true)));
              },
              201, tag});
  router.Add({"GET", "/api/webhooks/endpoints/{id}", "webhooks:read", "An endpoint",
              [&d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(Endpoint e, d.GetEndpoint(req.params.at("id")));
                return Response::Json(200, Ok(EndpointJson(e, false)));
              },
              200, tag});
  router.Add({"PUT", "/api/webhooks/endpoints/{id}", "webhooks:update",
              "Replace an endpoint's settings (enabled: true re-enables a disabled one)",
              [&d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                if (body.contains("secret")) {
                  return absl::InvalidArgumentError("secret: use rotate-secret to change it");
                }
                HERALD_ASSIGN_OR_RETURN(Endpoint e, ParseEndpoint(body));
                e.id = req.params.at("id");
                HERALD_ASSIGN_OR_RETURN(Endpoint updated, d.UpdateEndpoint(e));
                return Response::Json(200, Ok(EndpointJson(updated, false)));
              },
              200, tag});
  router.Add({"DELETE", "/api/webhooks/endpoints/{id}", "webhooks:delete",
              "Delete an endpoint; its pending deliveries stop",
              [&d](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(d.DeleteEndpoint(req.params.at("id")));
                return Response::Json(200, json::object{{"deleted", req.params.at("id")}});
              },
              200, tag});
  router.Add({"POST", "/api/webhooks/endpoints/{id}/rotate-secret", "webhooks:update",
              "A new signing secret, answered once",
              [&d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(Endpoint e, d.RotateSecret(req.params.at("id")));
                return Response::Json(200, Ok(EndpointJson(e, true)));
              },
              200, tag});
  router.Add({"POST", "/api/webhooks/events", "webhooks:create",
              "Publish an event to the subscribed endpoints: {type, data, dedupeKey, "
              "dedupeWindow}",
              [&d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(webhooks::OutboundEvent e, ParseOutboundEvent(body));
                HERALD_ASSIGN_OR_RETURN(webhooks::PublishResult r, d.Publish(e));
                json::array deliveries;
                for (const std::string& id : r.delivery_ids) deliveries.emplace_back(id);
                json::object data{{"messageId", r.message_id},
                                  {"deduplicated", r.deduplicated},
                                  {"deliveries", std::move(deliveries)}};
                if (r.deduplicated) data["dedupeMessageId"] = r.dedupe_message_id;
                return Response::Json(r.deduplicated ? 200 : 202, Ok(std::move(data)));
              },
              202, tag});
  router.Add(
      {"GET", "/api/webhooks/deliveries", "webhooks:read",
       "Deliveries, newest first; filters endpointId, status, cursor, limit",
       [&d](Request& req) -> Result<Response> {
         webhooks::DeliveryFilter f;
         if (auto v = req.Query("endpointId")) f.endpoint_id = std::string(*v);
         if (auto v = req.Query("cursor")) f.before_id = std::string(*v);
         if (auto v = req.Query("status")) {
           if (*v == "pending") {
             f.status = webhooks::DeliveryStatus::kPending;
           } else if (*v == "succeeded") {
             f.status = webhooks::DeliveryStatus::kSucceeded;
           } else if (*v == "failed") {
             f.status = webhooks::DeliveryStatus::kFailed;
           } else {
             return absl::InvalidArgumentError("status: pending, succeeded or failed");
           }
         }
         HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
         if (limit) f.limit = static_cast<int>(*limit);
         HERALD_ASSIGN_OR_RETURN(std::vector<Delivery> list, d.ListDeliveries(f));
         json::array data;
         for (const Delivery& x : list) data.push_back(DeliveryJson(x));
         json::value next = nullptr;
         if (static_cast<int>(list.size()) == f.limit) next = json::value(list.back().id);
         return Response::Json(
             200, json::object{{"success", true}, {"data", std::move(data)}, {"nextCursor", next}});
       },
       200, tag,
       PageQuery({{"endpointId", "only this endpoint's deliveries"},
                  {"status", "only deliveries in this status"}})});
  router.Add({"GET", "/api/webhooks/deliveries/{id}", "webhooks:read",
              "A delivery with its attempt log",
              [&d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(Delivery x, d.GetDelivery(req.params.at("id")));
                return Response::Json(200, Ok(DeliveryJson(x)));
              },
              200, tag});
  router.Add({"POST", "/api/webhooks/deliveries/{id}/redeliver", "webhooks:update",
              "Send a delivery again now (same webhook-id)",
              [&d](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(Delivery x, d.Redeliver(req.params.at("id")));
                return Response::Json(202, Ok(DeliveryJson(x)));
              },
              202, tag});

  // --- inbound ----------------------------------------------------------------------------
  router.Add({"GET",
              "/api/webhooks/inbox",
              "webhooks:read",
              "Received events, newest first; filters provider, limit",
              [&inbox](Request& req) -> Result<Response> {
                std::string provider;
                if (auto v = req.Query("provider")) provider = std::string(*v);
                HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
                HERALD_ASSIGN_OR_RETURN(
                    std::vector<webhooks::StoredEvent> list,
                    inbox.List(provider, limit ? static_cast<int>(*limit) : 50));
                json::array data;
                for (const webhooks::StoredEvent& e : list) {
                  data.push_back(json::object{{"provider", e.provider},
                                              {"eventId", e.event_id},
                                              {"type", e.type},
                                              {"created", Rfc3339(e.created)},
                                              {"receivedAt", Rfc3339(e.received_at)},
                                              {"status", e.status},
                                              {"outcome", e.outcome}});
                }
                return Response::Json(200, Ok(std::move(data)));
              },
              200,
              tag,
              {{"provider", "only this provider's events"},
               {"limit", "the most events to return", "integer"}}});
  router.Add({"GET", "/api/webhooks/payments/{id}", "payments:read",
              "A payment's state as the payment webhooks left it",
              [&inbox](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(std::optional<webhooks::PaymentState> p,
                                        inbox.GetPayment(req.params.at("id")));
                if (!p) return absl::NotFoundError("no payment with this key");
                return Response::Json(200, Ok(json::object{{"key", p->key},
                                                           {"state", p->state},
                                                           {"amount", p->amount},
                                                           {"amountRefunded", p->amount_refunded},
                                                           {"currency", p->currency},
                                                           {"lastEventId", p->last_event_id},
                                                           {"updatedAt", Rfc3339(p->updated_at)}}));
              },
              200, tag});

  auto accepted = [](const webhooks::AcceptResult& r) {
    return Response::Json(200, json::object{{"received", true}, {"duplicate", r.duplicate}});
  };
  router.Add({"POST", "/api/webhooks/stripe", "",
              "Stripe webhook (seed 001): Stripe-Signature checked, event stored once and handled",
              [&inbox, options, accepted](Request& req) -> Result<Response> {
                if (options.stripe_secrets.empty()) {
                  return absl::UnavailableError(
                      "Stripe webhooks are not configured (webhooks.stripe_secrets)");
                }
                const Status verified = webhooks::VerifyStripeSignature(
                    req.Header("stripe-signature"), req.body, options.stripe_secrets,
                    options.clock->Now(), options.stripe_tolerance);
                if (!verified.ok()) {
                  core::LogWarn("stripe webhook refused", {{"request_id", req.request_id},
                                                           {"reason", ToStd(verified.message())}});
                  return verified;
                }
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(webhooks::InboundEvent e, ParseStripeEvent(body, req.body));
                HERALD_ASSIGN_OR_RETURN(webhooks::AcceptResult r, inbox.Accept(e));
                return accepted(r);
              },
              200, tag});
  // Decoded once: the keys of each Standard Webhooks source.
  std::map<std::string, std::vector<std::string>, std::less<>> source_keys;
  for (const auto& [name, secrets] : options.inbound_sources) {
    for (const std::string& secret : secrets) {
      Result<std::string> key = webhooks::DecodeStandardSecret(secret);
      if (key.ok()) source_keys[name].push_back(std::move(*key));
    }
  }
  router.Add(
      {"POST", "/api/webhooks/inbound/{name}", "",
       "Standard Webhooks sender (webhook-id, webhook-timestamp, webhook-signature): the event "
       "is stored once and relayed as a domain event of its type",
       [&inbox, options, accepted,
        keys = std::move(source_keys)](Request& req) -> Result<Response> {
         const std::string& source = req.params.at("name");
         auto it = keys.find(source);
         if (it == keys.end()) return absl::NotFoundError("no inbound webhook source of this name");
         const Status verified = webhooks::VerifyStandardWebhook(
             {req.Header("webhook-id"), req.Header("webhook-timestamp"),
              req.Header("webhook-signature")},
             req.body, it->second, options.clock->Now(), options.inbound_tolerance);
         if (!verified.ok()) {
           core::LogWarn("inbound webhook refused", {{"request_id", req.request_id},
                                                     {"source", source},
                                                     {"reason", ToStd(verified.message())}});
           return verified;
         }
         HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
         Fields f(body);
         webhooks::InboundEvent e;
         e.provider = source;
         e.event_id = std::string(req.Header("webhook-id"));
         HERALD_ASSIGN_OR_RETURN(e.type, RequiredString(f, "type"));
         int64_t seconds = 0;
         absl::SimpleAtoi(ToAbsl(req.Header("webhook-timestamp")), &seconds);  // verified above
         e.created = absl::FromUnixSeconds(seconds);
         e.payload = req.body;
         HERALD_ASSIGN_OR_RETURN(webhooks::AcceptResult r, inbox.Accept(e));
         return accepted(r);
       },
       200, tag});
  auto payment = [&inbox, accepted](Request& req) -> Result<Response> {
    HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
    HERALD_ASSIGN_OR_RETURN(webhooks::InboundEvent e, ParsePaymentServiceEvent(body, req.body));
    HERALD_ASSIGN_OR_RETURN(webhooks::AcceptResult r, inbox.Accept(e));
    return accepted(r);
  };
  router.Add({"POST", "/api/payment-webhook-routes/", "payments:update",
              "Payment service webhook (seed 002 flow 2)", payment, 200, tag});
  router.Add({"POST", "/api/internal/payment-webhook", "payments:update",
              "Payment service webhook (seed 003 flow 2)", payment, 200, tag});
  auto ticket = [&inbox, accepted](Request& req) -> Result<Response> {
    HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
    HERALD_ASSIGN_OR_RETURN(webhooks::InboundEvent e, ParseTicketServiceEvent(body, req.body));
    HERALD_ASSIGN_OR_RETURN(webhooks::AcceptResult r, inbox.Accept(e));
    return accepted(r);
  };
  router.Add({"POST", "/api/ticket-webhook-routes/", "tickets:update",
              "Ticket generator webhook (seed 002 flow 4)", ticket, 200, tag});
  router.Add({"POST", "/api/internal/ticket-generation-webhook", "tickets:update",
              "Ticket generator webhook (seed 003 flow 3)", ticket, 200, tag});
}

}  // namespace herald::http
