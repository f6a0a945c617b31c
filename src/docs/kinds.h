#pragma once
// The document kinds Herald generates and who may receive them. Each kind is a built-in
// DocTemplate (builtin_templates.cc) plus a data preparation step that checks the caller's
// data, computes what must not be taken from the caller (invoice totals), formats dates and
// money for the locale, and, for a restricted audience, keeps only what that audience may see.
//
//   TICKET                event ticket (seed 002): event, guest, type, seat, code, QR
//   INVOICE               invoice or receipt (seed 002 "Création facture PDF")
//   BOOKING_CONFIRMATION  booking with full data, for staff and the customer (seed 001)
//   MISSION_PROPOSAL      restricted proposal for an external provider (seed 001): customer
//                         as "J. Doe", city only, estimated amount, accept and refuse links
//   DELTA_REPORT          what an API sync added, changed and removed (seed 000)
//
// Audiences: INTERNAL_STAFF (everything), CUSTOMER (no internal notes), EXTERNAL_PROVIDER
// (MISSION_PROPOSAL only). The restriction is a projection: the restricted data is built
// field by field from an allow-list, so a field the caller adds can never reach the PDF.
// The field-by-field data shapes are in docs/DOCUMENTS.md.

#include <string>
#include <string_view>

#include "boost/json/value.hpp"
#include "core/status.h"
#include "docs/layout.h"

namespace herald::docs {

enum class DocumentType { kTicket, kInvoice, kBookingConfirmation, kMissionProposal, kDeltaReport };
enum class Audience { kInternalStaff, kCustomer, kExternalProvider };

// "TICKET", "INVOICE" ... (case-insensitive). InvalidArgument listing the kinds otherwise.
Result<DocumentType> ParseDocumentType(std::string_view name);
std::string_view DocumentTypeName(DocumentType type);
// "INTERNAL_STAFF", "CUSTOMER", "EXTERNAL_PROVIDER" (also "EXTERNAL", case-insensitive).
Result<Audience> ParseAudience(std::string_view name);
std::string_view AudienceName(Audience audience);

// Whether `audience` may receive `type`.
bool AudienceMayReceive(Audience audience, DocumentType type);

struct PreparedDocument {
  boost::json::value data;  // what the template sees
  std::string filename;     // "ticket-TKT-2026-000123.pdf"
  std::string title;        // for the PDF's information dictionary
};

// Checks and prepares `data` for `type` and `audience` in `locale` ("fr" or "en").
// InvalidArgument naming the field for data that does not fit; PermissionDenied when the
// audience may not receive the kind.
Result<PreparedDocument> PrepareDocument(DocumentType type, Audience audience,
                                         const boost::json::value& data, std::string_view locale);

// The built-in template of `type` (parsed once), and its JSON description.
const DocTemplate& BuiltinTemplate(DocumentType type);
std::string_view BuiltinTemplateSource(DocumentType type);

// Money in minor units (cents) as the locale writes it: "1 250,00 €" / "€1,250.00"; the
// currency is an ISO 4217 code (EUR, USD, GBP, CHF … others are written after the amount).
std::string FormatMoney(int64_t cents, std::string_view currency, std::string_view locale);

}  // namespace herald::docs
