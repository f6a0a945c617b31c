#pragma once
// The notification routes (seed 003 flow 4 and "Services Externes"; docs/NOTIFICATIONS.md):
//   POST /api/notifications/{email|sms|whatsapp|chat}  notifications:create  201
//   POST /api/notifications/bulk                       notifications:create  201
//   GET  /api/notifications/{id}/status                notifications:read
//   POST /api/notifications/{id}/retry                 notifications:create
//   GET  /api/notifications/history                    notifications:read
//   GET  /api/notifications/statistics                 notifications:read
//   GET  /api/notifications/outbox                     notifications:read (log provider)
//   GET  /api/notifications/providers                  notifications:read
//   POST /api/notifications/callbacks/twilio           X-Twilio-Signature (public route)
//   GET  /api/templates                                templates:read
//   GET  /api/templates/{id}                           templates:read (every version)
//   PUT  /api/templates/{id}                           templates:update (a new version)
//   POST /api/templates/{id}/preview                   templates:read
// An Idempotency-Key header (or the body's idempotencyKey) makes a repeated request answer
// the first result (with "Idempotent-Replayed: true") and send nothing more.

#include "boost/json/value.hpp"
#include "http/router.h"
#include "notify/notifier.h"
#include "notify/template_store.h"
#include "store/store.h"

namespace herald::http {

void AddNotifyRoutes(Router& router, notify::Notifier& notifier, notify::TemplateStore& templates,
                     store::Store& store);

// Prometheus text for the notifier: herald_notify_provider_calls_total{channel,provider,outcome},
// herald_notify_provider_latency_seconds (histogram), herald_notify_circuit_open{...} (0 closed,
// 1 half-open, 2 open). For OpsDeps::module_metrics.
std::string NotifyMetricsText(const notify::Notifier& notifier);

// Seed 003's body for POST /api/notifications/{channel}, with seed 002's aliases:
// {"to", "template" | "template_id", "data" | "variables", "locale", "subject", "replyTo",
//  "options": {"priority": "high"|"normal", "scheduledAt", "locale"}, "priority",
//  "scheduled_at", "idempotencyKey", "attachments": [{"filename", "content" (base64),
//  "contentType" | "mimeType"}], "metadata", "eventId"}. InvalidArgument naming the field.
Result<notify::SendRequest> ParseSendRequest(notify::Channel channel,
                                             const boost::json::object& body);

}  // namespace herald::http
