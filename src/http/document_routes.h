#pragma once
// The document routes (docs/documents.h; seed 001 "POST /api/documents/generate"):
//   POST /api/documents/generate   documents:create
//   GET  /api/documents            documents:read   ?reference=&cursor=&limit=, newest first
//   GET  /api/documents/templates  documents:read   the built-in template of each kind
//   GET  /api/documents/{id}       documents:read   the PDF (?meta=1: its metadata as JSON)
//
// POST body, either one data set for several kinds (seed 001):
//   {"trigger": "BOOKING_CONFIRMED", "target": "INTERNAL_STAFF",
//    "documentTypes": ["BOOKING_CONFIRMATION", "INVOICE"], "data": {...},
//    "locale": "fr", "reference": "bookings/BK-42", "template": {...}?, "wait": false}
// or a batch of documents, each with its own data (fields left out come from the top level):
//   {"target": "CUSTOMER", "documents": [{"type": "TICKET", "data": {...}}, ...]}
// One document is made at once: 201 {"success": true, "data": {"documents": [record]}}.
// Several are made by engine jobs: 202 {"success": true, "data": {"jobId", "jobIds",
// "count"}}; GET /api/jobs/{id} then shows progress and each document's id. With
// "wait": true, up to 20 documents are made at once instead. Any invalid document refuses
// the whole request (400 naming it) and nothing is made.

#include <vector>

#include "core/status.h"
#include "docs/documents.h"
#include "http/router.h"

namespace herald::http {

void AddDocumentRoutes(Router& router, docs::Documents& documents);

// For the fuzz target: POST /api/documents/generate's body parser on `body`; OK or
// InvalidArgument (a 400).
Status ParseDocumentBody(const boost::json::object& body);

}  // namespace herald::http
