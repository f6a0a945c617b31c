// The built-in template of each document kind (kinds.h), in the DocTemplate language
// (layout.h). Labels come from the data ({{labels.*}}, set by PrepareDocument for the locale),
// so one template serves every locale.

#include <string_view>

#include "boost/json/parse.hpp"
#include "docs/kinds.h"

namespace herald::docs {
namespace {

constexpr std::string_view kTicket = R"json({
  "page": "ticket", "margin": 28, "border": true,
  "blocks": [
    {"type": "columns", "widths": [1.9, 1], "gap": 18, "columns": [
      [
        {"type": "image", "image": "logo", "width": 90},
        {"type": "text", "text": "{{organizer}}", "size": 9, "color": "#666666"},
        {"type": "heading", "text": "{{event.title}}", "size": 17},
        {"type": "fields", "labelWidth": 62, "size": 10, "items": [
          {"label": "{{labels.date}}", "value": "{{event.date}}"},
          {"label": "{{labels.location}}", "value": "{{event.location}}"},
          {"label": "{{labels.guest}}", "value": "{{guest.name}}"},
          {"label": "{{labels.type}}", "value": "{{ticket.type}}"},
          {"label": "{{labels.seat}}", "value": "{{ticket.seat}}"},
          {"label": "{{labels.price}}", "value": "{{ticket.price}}"}
        ]},
        {"type": "text", "text": "{{labels.ticketFooter}}", "size": 7.5, "color": "#777777"}
      ],
      [
        {"type": "qr", "value": "{{ticket.qr}}", "size": 165, "align": "center"},
        {"type": "text", "text": "{{ticket.code}}", "size": 9, "bold": true, "align": "center"}
      ]
    ]}
  ]
})json";

constexpr std::string_view kInvoice = R"json({
  "page": "A4", "margin": 48,
  "footer": "{{seller.name}} — {{invoice.kind}} {{invoice.number}}",
  "blocks": [
    {"type": "columns", "widths": [1, 1], "columns": [
      [
        {"type": "image", "image": "logo", "width": 110},
        {"type": "text", "text": "{{seller.name}}", "bold": true, "size": 11},
        {"type": "text", "text": "{{seller.address}}", "size": 9},
        {"type": "text", "text": "{{seller.email}}", "size": 9},
        {"type": "text", "text": "{{#seller.vatNumber}}{{labels.vatNumber}} {{seller.vatNumber}}{{/seller.vatNumber}}", "size": 9}
      ],
      [
        {"type": "heading", "text": "{{invoice.kind}}", "size": 22, "align": "right"},
        {"type": "text", "text": "{{labels.number}} {{invoice.number}}", "bold": true, "align": "right"},
        {"type": "text", "text": "{{#invoice.issueDate}}{{labels.issueDate}} : {{invoice.issueDate}}{{/invoice.issueDate}}", "size": 9, "align": "right"},
        {"type": "text", "text": "{{#invoice.dueDate}}{{labels.dueDate}} : {{invoice.dueDate}}{{/invoice.dueDate}}", "size": 9, "align": "right"}
      ]
    ]},
    {"type": "spacer", "height": 14},
    {"type": "text", "text": "{{labels.buyer}}", "size": 9, "color": "#666666"},
    {"type": "text", "text": "{{buyer.name}}", "bold": true, "size": 11},
    {"type": "text", "text": "{{buyer.address}}", "size": 9},
    {"type": "text", "text": "{{buyer.email}}", "size": 9},
    {"type": "spacer", "height": 14},
    {"type": "table", "rows": "items", "size": 9, "columns": [
      {"header": "{{labels.description}}", "value": "{{description}}", "width": 4},
      {"header": "{{labels.quantity}}", "value": "{{quantity}}", "width": 1, "align": "right"},
      {"header": "{{#invoice.pricesIncludeVat}}{{labels.unitPriceGross}}{{/invoice.pricesIncludeVat}}{{^invoice.pricesIncludeVat}}{{labels.unitPrice}}{{/invoice.pricesIncludeVat}}", "value": "{{unitPrice}}", "width": 1.6, "align": "right"},
      {"header": "{{labels.vatRate}}", "value": "{{vatRate}}", "width": 1, "align": "right"},
      {"header": "{{#invoice.pricesIncludeVat}}{{labels.lineTotalGross}}{{/invoice.pricesIncludeVat}}{{^invoice.pricesIncludeVat}}{{labels.lineTotal}}{{/invoice.pricesIncludeVat}}", "value": "{{lineTotal}}", "width": 1.6, "align": "right"}
    ]},
    {"type": "columns", "widths": [1.4, 1], "columns": [
      [{"type": "text", "text": "{{notes}}", "size": 9, "color": "#555555"}],
      [
        {"type": "fields", "labelWidth": 90, "items": [
          {"label": "{{labels.subtotal}}", "value": "{{totals.subtotal}}"}
        ]},
        {"type": "table", "rows": "totals.vat", "size": 9, "columns": [
          {"header": "{{labels.vat}}", "value": "{{label}}", "width": 1},
          {"header": "", "value": "{{amount}}", "width": 1, "align": "right"}
        ]},
        {"type": "fields", "labelWidth": 90, "size": 12, "items": [
          {"label": "{{labels.total}}", "value": "{{totals.total}}"}
        ]},
        {"type": "text", "when": "invoice.paid", "text": "{{labels.paid}}", "bold": true, "color": "#1e7d32"}
      ]
    ]}
  ]
})json";

constexpr std::string_view kBooking = R"json({
  "page": "A4", "margin": 48,
  "footer": "{{labels.booking}} {{booking.reference}}",
  "blocks": [
    {"type": "image", "image": "logo", "width": 110},
    {"type": "heading", "text": "{{labels.booking}}", "size": 20},
    {"type": "text", "text": "{{labels.reference}} {{booking.reference}}", "bold": true},
    {"type": "rule"},
    {"type": "fields", "labelWidth": 150, "items": [
      {"label": "{{labels.service}}", "value": "{{booking.serviceType}}"},
      {"label": "{{labels.serviceDate}}", "value": "{{booking.serviceDate}} {{booking.serviceTime}}"},
      {"label": "{{labels.status}}", "value": "{{booking.status}}"}
    ]},
    {"type": "text", "text": "{{labels.customer}}", "bold": true, "size": 12},
    {"type": "fields", "labelWidth": 150, "items": [
      {"label": "{{labels.name}}", "value": "{{customer.name}}"},
      {"label": "{{labels.email}}", "value": "{{customer.email}}"},
      {"label": "{{labels.phone}}", "value": "{{customer.phone}}"},
      {"label": "{{labels.address}}", "value": "{{customer.address}}"}
    ]},
    {"type": "text", "text": "{{labels.amount}}", "bold": true, "size": 12},
    {"type": "fields", "labelWidth": 150, "items": [
      {"label": "{{labels.estimatedAmount}}", "value": "{{quote.estimatedAmount}}"},
      {"label": "{{labels.total}}", "value": "{{quote.total}}"},
      {"label": "{{labels.payment}}", "value": "{{payment.status}} {{payment.method}} {{payment.amount}}"}
    ]},
    {"type": "fields", "labelWidth": 150, "items": [
      {"label": "{{labels.notes}}", "value": "{{booking.notes}}"},
      {"label": "{{labels.internalNotes}}", "value": "{{booking.internalNotes}}"}
    ]}
  ]
})json";

constexpr std::string_view kMission = R"json({
  "page": "A4", "margin": 48,
  "footer": "{{labels.mission}} {{booking.reference}}",
  "blocks": [
    {"type": "image", "image": "logo", "width": 110},
    {"type": "heading", "text": "{{labels.mission}}", "size": 20},
    {"type": "text", "text": "{{labels.reference}} {{booking.reference}}", "bold": true},
    {"type": "text", "text": "{{professional.companyName}}", "color": "#555555"},
    {"type": "rule"},
    {"type": "fields", "labelWidth": 150, "items": [
      {"label": "{{labels.service}}", "value": "{{booking.serviceType}}"},
      {"label": "{{labels.serviceDate}}", "value": "{{booking.serviceDate}} {{booking.serviceTime}}"},
      {"label": "{{labels.customer}}", "value": "{{customer.name}}"},
      {"label": "{{labels.city}}", "value": "{{location.city}}"},
      {"label": "{{labels.estimatedAmount}}", "value": "{{quote.estimatedAmount}}"},
      {"label": "{{labels.respondBefore}}", "value": "{{timeoutDate}}"}
    ]},
    {"type": "spacer", "height": 8},
    {"type": "columns", "widths": [1, 1], "columns": [
      [{"type": "link", "text": "{{labels.accept}}", "url": "{{acceptUrl}}", "size": 12, "color": "#1e7d32"}],
      [{"type": "link", "text": "{{labels.refuse}}", "url": "{{refuseUrl}}", "size": 12, "color": "#b3261e"}]
    ]},
    {"type": "spacer", "height": 8},
    {"type": "text", "text": "{{labels.restricted}}", "size": 8.5, "color": "#666666"}
  ]
})json";

constexpr std::string_view kDelta = R"json({
  "page": "A4", "margin": 40,
  "footer": "{{report.source}} · {{labels.delta}}",
  "blocks": [
    {"type": "heading", "text": "{{labels.delta}}{{#report.title}} — {{report.title}}{{/report.title}}", "size": 18},
    {"type": "fields", "labelWidth": 130, "items": [
      {"label": "{{labels.source}}", "value": "{{report.source}}"},
      {"label": "{{labels.syncedAt}}", "value": "{{report.syncedAt}}"},
      {"label": "{{labels.added}}", "value": "{{report.addedCount}}"},
      {"label": "{{labels.changed}}", "value": "{{report.changedCount}}"},
      {"label": "{{labels.removed}}", "value": "{{report.removedCount}}"}
    ]},
    {"type": "text", "when": "added", "text": "{{labels.added}} ({{report.addedCount}})",
                           "bold" : true, "size" : 12
},
    {"type": "table", "rows": "added", "size": 8.5, "columns": [
      {"header": "{{labels.id}}", "value": "{{id}}", "width": 1},
      {"header": "{{labels.name}}", "value": "{{name}}", "width": 3}
    ]},
    {"type": "text", "when": "changed", "text": "{{labels.changed}} ({{report.changedCount}})", "bold": true, "size": 12},
    {"type": "table", "rows": "changed", "size": 8.5, "columns": [
      {"header": "{{labels.id}}", "value": "{{id}}", "width": 1},
      {"header": "{{labels.name}}", "value": "{{name}}", "width": 1.6},
      {"header": "{{labels.field}}", "value": "{{field}}", "width": 1.2},
      {"header": "{{labels.before}}", "value": "{{before}}", "width": 1.6},
      {"header": "{{labels.after}}", "value": "{{after}}", "width": 1.6}
    ]},
    {"type": "text", "when": "removed", "text": "{{labels.removed}} ({{report.removedCount}})", "bold": true, "size": 12},
    {"type": "table", "rows": "removed", "size": 8.5, "columns": [
      {"header": "{{labels.id}}", "value": "{{id}}", "width": 1},
      {"header": "{{labels.name}}", "value": "{{name}}", "width": 3}
    ]}
  ]
})json";

DocTemplate ParseBuiltin(std::string_view source) {
  Result<DocTemplate> t = DocTemplate::Parse(boost::json::parse(source));
  if (!t.ok()) std::abort();  // a built-in template is wrong: caught by every documents test
  return *std::move(t);
}

}  // namespace

std::string_view BuiltinTemplateSource(DocumentType type) {
  switch (type) {
    case DocumentType::kTicket:
      return kTicket;
    case DocumentType::kInvoice:
      return kInvoice;
    case DocumentType::kBookingConfirmation:
      return kBooking;
    case DocumentType::kMissionProposal:
      return kMission;
    case DocumentType::kDeltaReport:
      return kDelta;
  }
  return kTicket;
}

const DocTemplate& BuiltinTemplate(DocumentType type) {
  static const DocTemplate* const kTemplates[] = {
      new DocTemplate(ParseBuiltin(kTicket)), new DocTemplate(ParseBuiltin(kInvoice)),
      new DocTemplate(ParseBuiltin(kBooking)), new DocTemplate(ParseBuiltin(kMission)),
      new DocTemplate(ParseBuiltin(kDelta))};
  return *kTemplates[static_cast<int>(type)];
}

}  // namespace herald::docs
