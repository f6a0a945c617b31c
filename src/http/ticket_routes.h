#pragma once
// The event ticketing routes (seeds 002 and 003; apps/tickets/). Answers are
// {"success": true, "data": ...}; lists add "next_cursor" (null on the last page). Ids are
// integers. Times are RFC 3339.
//
// Events (events:*), their ticket types, guests, door staff and gates:
//   GET/POST /api/events                         ?cursor=&limit=
//   GET/PUT/DELETE /api/events/{id}
//   GET/POST /api/events/{id}/ticket-types
//   GET/POST /api/events/{id}/guests             one guest, or {"guests": [...]} (all or none)
//   POST /api/events/{id}/guests/import          CSV (text/csv): imports the valid rows, reports
//                                                the others by line; ?dry_run=true checks only
//   GET/PUT/DELETE /api/guests/{id}              guests:*
//   GET /api/events/{id}/gates, PUT/DELETE /api/events/{id}/gates/{gate}
//   GET /api/events/{id}/operators, PUT/DELETE /api/events/{id}/operators/{operator}
//   GET /api/events/{id}/keys, POST /api/events/{id}/keys/rotate,
//   POST /api/events/{id}/keys/{key}/revoke
// Ticket templates (seed 002: id, name, design) and tickets (tickets:*):
//   GET/POST /api/ticket-templates, GET/PUT/DELETE /api/ticket-templates/{id}
//   GET/POST /api/events/{id}/tickets            issue: one, or {"tickets": [...]}
//   GET /api/tickets/{id}, POST /api/tickets/{id}/cancel, POST /api/tickets/{id}/reissue
// Door scanning (scans:create unless said):
//   POST /api/scans/validate                     seed 002's or seed 003's body
//   POST /api/scans/offline                      offline scans uploaded later
//   POST /api/internal/scan-validation           seed 002 (the ticket already decoded)
//   POST /api/internal/validation/validate-ticket  seed 003: the checks, nothing recorded
//   POST /api/internal/scan-confirmation         seed 003: records the admission
//   GET  /api/scans                              scans:read; ?event_id=&ticket_id=&result=
//                                                &conflicts=true&cursor=&limit=
//   GET  /api/events/{id}/scan-bundle            what an offline scanner needs: public keys,
//                                                revocations (?since=), rules
//   GET  /api/events/{id}/scan-stats             scans:read; live counts per reason and gate
// A caller with the operator role scans, downloads bundles and reads counts only for events
// where they are door staff (an operator row with their user id).
//
// A scan's answer (200 whether the ticket is admitted or refused):
//   {"valid", "reason", "message" (Accept-Language fr or en), "messages": {"fr", "en"},
//    "scanId", "repeat", "conflict", "reentry", "direction", "eventId", "ticketId", "guestId",
//    "ticketCode", "ticketType", "seat", "guestName", "scanCount", "lastScanAt",
//    "firstScan": {"scanId", "at", "gate", "operatorId", "scannerId"} or null, "serverTime"}

#include <vector>

#include "apps/tickets/generation.h"
#include "apps/tickets/purchases.h"
#include "apps/tickets/scanner.h"
#include "apps/tickets/ticketing.h"
#include "boost/json/object.hpp"
#include "core/status.h"
#include "http/router.h"

namespace herald::http {

void AddTicketRoutes(Router& router, apps::tickets::Ticketing& ticketing,
                     apps::tickets::Scanner& scanner);

// Purchases (seed 003 flow 2; payments:create / payments:read):
//   POST /api/payments/process   seed 003's body {amount, currency, description, customerEmail,
//                                customerName, returnUrl, preferredGateways, metadata: {eventId,
//                                ticketIds, source}}, or {eventId, items: [{ticketTypeId,
//                                quantity}], customerEmail, ...}; header Idempotency-Key.
//                                201 {purchaseId, paymentIntentId, clientSecret, amount (units),
//                                amountMinor, currency, status, gateway, ticketIds, replayed}
//                                (200 when replayed). The amount sent is recorded, never used.
//   GET  /api/purchases/{id}, GET /api/events/{id}/purchases,
//   GET  /api/ticket-templates/{id}/purchases (templates bought, seed 002 flow 2)
void AddPurchaseRoutes(Router& router, apps::tickets::Purchases& purchases);
Result<apps::tickets::PurchaseRequest> ParsePurchase(const boost::json::object& body);

// Ticket generation (seed 002 flow 1, seed 003 flow 3):
//   POST /api/tickets/generation-jobs       tickets:update; {"ticket_ids": [...], "options":
//                                           {qrFormat, qrSize, pdfFormat, includeLogo, priority,
//                                           batch_processing, notify, locale}}; 202 and the job
//   GET  /api/tickets/generation-jobs/{id}  tickets:read; status, progress, each ticket's
//                                           result (documentId, fileUrl, qrCodeData, error)
//   GET  /api/tickets/{id}/qr               tickets:read; ?format=png|svg|base64&size=small|
//                                           medium|large: the ticket's QR code as an image
void AddGenerationRoutes(Router& router, apps::tickets::TicketGenerator& generator,
                         apps::tickets::Ticketing& ticketing);
Result<apps::tickets::GenerationRequest> ParseGenerationRequest(const boost::json::object& body);

// Exposed for tests and the fuzz target: each reads one body (InvalidArgument naming the
// field; unknown fields refused).
Result<apps::tickets::Event> ParseEvent(const boost::json::object& body);
// For the fuzz target: the bodies of ticket types, templates, guests, tickets issued, door
// staff and gates, each parsed from `body`. Each result is OK or InvalidArgument (a 400).
std::vector<Status> ParseTicketingBodies(const boost::json::object& body);
Result<apps::tickets::ScanRequest> ParseScan(const boost::json::object& body);
Result<apps::tickets::ScanRequest> ParseInternalScan(const boost::json::object& body);
Result<apps::tickets::ScanRequest> ParseScanConfirmation(const boost::json::object& body);

boost::json::object ScanResultJson(const apps::tickets::ScanResult& r, std::string_view lang);

}  // namespace herald::http
