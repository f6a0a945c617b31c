#pragma once
// Routes of the webhooks module (docs/WEBHOOKS.md):
//   outbound: /api/webhooks/endpoints, /api/webhooks/deliveries, /api/webhooks/events;
//   inbound:  POST /api/webhooks/stripe (Stripe-Signature; public at the router),
//             POST /api/webhooks/inbound/{name} (Standard Webhooks signature), seed 002's
//             POST /api/payment-webhook-routes/ and POST /api/ticket-webhook-routes/, seed 003's
//             POST /api/internal/payment-webhook (service credentials: API key, signed request
//             or token with payments:update / tickets:update);
//   views:    /api/webhooks/inbox, /api/webhooks/payments/{id}.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "core/clock.h"
#include "core/status.h"
#include "http/router.h"
#include "webhooks/dispatcher.h"
#include "webhooks/inbox.h"

namespace herald::http {

struct WebhookRouteOptions {
  // Stripe endpoint secrets ("whsec_..."), several during a rotation. Empty: the Stripe route
  // answers 503 (an unverified payment webhook is never accepted).
  std::vector<std::string> stripe_secrets;
  absl::Duration stripe_tolerance = absl::Seconds(300);
  // Standard Webhooks senders, by source name: the secrets ("whsec_...") their signatures may
  // use. POST /api/webhooks/inbound/{name} answers 404 for a source not listed.
  std::map<std::string, std::vector<std::string>, std::less<>> inbound_sources;
  absl::Duration inbound_tolerance = absl::Seconds(300);
  const core::Clock* clock = &core::Clock::Real();
};

void AddWebhookRoutes(Router& router, webhooks::Dispatcher& dispatcher, webhooks::Inbox& inbox,
                      WebhookRouteOptions options);

// webhooks.inbound_sources: "name=whsec_...,name=whsec_..." (a name may repeat: rotation).
// Names are [a-z0-9_-]{1,64} and not a provider Herald translates itself (stripe,
// payment-service, ticket-service); secrets are valid Standard Webhooks secrets.
// InvalidArgument naming the item, never quoting a secret.
Result<std::map<std::string, std::vector<std::string>, std::less<>>> ParseInboundSources(
    std::string_view spec);

// Body parsers, exposed for the fuzz target. InvalidArgument naming the field.
Result<webhooks::Endpoint> ParseEndpoint(const boost::json::object& body);
Result<webhooks::OutboundEvent> ParseOutboundEvent(const boost::json::object& body);
// The seeds' payment and ticket service bodies into an inbox event (payload = `raw`).
Result<webhooks::InboundEvent> ParsePaymentServiceEvent(const boost::json::object& body,
                                                        std::string raw);
Result<webhooks::InboundEvent> ParseTicketServiceEvent(const boost::json::object& body,
                                                       std::string raw);
// A Stripe event body (id, type, created) into an inbox event.
Result<webhooks::InboundEvent> ParseStripeEvent(const boost::json::object& body, std::string raw);

}  // namespace herald::http
