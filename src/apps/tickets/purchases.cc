#include "apps/tickets/purchases.h"

#include <algorithm>
#include <map>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "auth/crypto.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/log.h"
#include "core/strings.h"
#include "engine/job_table.h"

namespace herald::apps::tickets {
namespace {

namespace json = boost::json;
using engine::table::FromMicros;
using engine::table::OptTime;
using engine::table::RowTime;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "purchases", R"sql(
CREATE TABLE ticket_purchases (
  id                INTEGER PRIMARY KEY,
  event_id          INTEGER NOT NULL,
  guest_id          INTEGER NOT NULL,
  customer_email    TEXT NOT NULL,
  customer_name     TEXT NOT NULL,
  amount            INTEGER NOT NULL,
  currency          TEXT NOT NULL,
  status            TEXT NOT NULL,
  gateway           TEXT NOT NULL,
  payment_intent_id TEXT NOT NULL,
  amount_refunded   INTEGER NOT NULL,
  client_amount     INTEGER,
  last_error        TEXT NOT NULL,
  idempotency_key   TEXT,
  fingerprint       TEXT NOT NULL,
  description       TEXT NOT NULL,
  return_url        TEXT NOT NULL,
  paid_at           INTEGER,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX ticket_purchases_key ON ticket_purchases (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX ticket_purchases_intent ON ticket_purchases (payment_intent_id)
  WHERE payment_intent_id <> '';
CREATE INDEX ticket_purchases_event ON ticket_purchases (event_id, id);
)sql"},
    // Whether the purchase made its tickets (items) or buys existing pending ones (ticketIds):
    // what its expiry cancels or releases.
    {2, "purchases_made_tickets", R"sql(
ALTER TABLE ticket_purchases ADD COLUMN made_tickets INTEGER NOT NULL DEFAULT 0;
-- Existing tickets that had no guest and were given the buyer: released without one.
ALTER TABLE ticket_purchases ADD COLUMN guest_given TEXT NOT NULL DEFAULT '[]';
)sql"},
    // Templates bought through the payment service (seed 002 flow 2), one per payment.
    {3, "template_purchases", R"sql(
CREATE TABLE ticket_template_purchases (
  id             INTEGER PRIMARY KEY,
  payment_key    TEXT NOT NULL UNIQUE,
  template_id    INTEGER NOT NULL,
  event_id       INTEGER NOT NULL,
  user_id        TEXT NOT NULL,
  ticket_count   INTEGER NOT NULL,
  amount         INTEGER NOT NULL,
  currency       TEXT NOT NULL,
  customer_email TEXT NOT NULL,
  customer_name  TEXT NOT NULL,
  active         INTEGER NOT NULL,
  paid_at        INTEGER NOT NULL
);
CREATE INDEX ticket_template_purchases_template ON ticket_template_purchases (template_id, id);
)sql"},
    // Why a template payment unlocked nothing; the licences (tickets migration 2, which runs
    // first) of the templates bought before there were any.
    {4, "template_purchase_errors", R"sql(
ALTER TABLE ticket_template_purchases ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
INSERT INTO ticket_template_licences (template_id, event_id, tickets)
  SELECT template_id, event_id, SUM(ticket_count) FROM ticket_template_purchases
  WHERE active = 1 AND event_id > 0 AND ticket_count > 0 GROUP BY template_id, event_id;
)sql"},
};

constexpr std::string_view kStatusNames[] = {"pending",  "paid",   "failed", "partially_refunded",
                                             "refunded", "expired"};

constexpr std::string_view kColumns =
    "id, event_id, guest_id, customer_email, customer_name, amount, currency, status, gateway,"
    " payment_intent_id, amount_refunded, client_amount, last_error, paid_at, created_at,"
    " updated_at";

constexpr int64_t kMaxQuantity = 100;
constexpr int64_t kMaxLicensedTickets = 1'000'000;
constexpr size_t kMaxLines = 50;

Result<Purchase> PurchaseFromRow(const Row& r) {
  Purchase p;
  p.id = r.Int(0);
  p.event_id = r.Int(1);
  p.guest_id = r.Int(2);
  p.customer_email = r.Text(3);
  p.customer_name = r.Text(4);
  p.amount = r.Int(5);
  p.currency = r.Text(6);
  HERALD_ASSIGN_OR_RETURN(p.status, ParsePurchaseStatus(r.Text(7)));
  p.gateway = r.Text(8);
  p.payment_intent_id = r.Text(9);
  p.amount_refunded = r.Int(10);
  if (!r.IsNull(11)) p.client_amount = r.Int(11);
  p.last_error = r.Text(12);
  p.paid_at = RowTime(r, 13);
  p.created_at = FromMicros(r.Int(14));
  p.updated_at = FromMicros(r.Int(15));
  return p;
}

Result<std::optional<Purchase>> LoadPurchase(Txn& txn, std::string_view where, Value key) {
  static const std::string kById =
      StrCat("SELECT ", kColumns, " FROM ticket_purchases WHERE id = ?");
  static const std::string kByIntent =
      StrCat("SELECT ", kColumns, " FROM ticket_purchases WHERE payment_intent_id = ?");
  std::optional<Purchase> out;
  const Value p[] = {key};
  HERALD_RETURN_IF_ERROR(store::QueryEach(txn, where == "id" ? kById : kByIntent, p,
                                          PurchaseFromRow, [&](Purchase&& v) {
                                            out = std::move(v);
                                            return false;
                                          }));
  if (out) {
    HERALD_RETURN_IF_ERROR(txn.Query("SELECT id FROM tickets WHERE purchase_id = ? ORDER BY id",
                                     {out->id}, [&](const Row& r) {
                                       out->ticket_ids.push_back(r.Int(0));
                                       return true;
                                     }));
  }
  return out;
}

Status Validate(const PurchaseRequest& r) {
  if (r.event_id <= 0) return absl::InvalidArgumentError("eventId: required");
  if (r.lines.empty() == r.ticket_ids.empty()) {
    return absl::InvalidArgumentError(
        "items: give either items (ticket types and quantities) or metadata.ticketIds");
  }
  if (r.lines.size() > kMaxLines || r.ticket_ids.size() > kMaxLines * kMaxQuantity) {
    return absl::InvalidArgumentError("items: too many tickets in one purchase");
  }
  for (size_t i = 0; i < r.lines.size(); ++i) {
    if (r.lines[i].ticket_type_id <= 0) {
      return absl::InvalidArgumentError(StrCat("items[", i, "].ticketTypeId: required"));
    }
    if (r.lines[i].quantity < 1 || r.lines[i].quantity > kMaxQuantity) {
      return absl::InvalidArgumentError(
          StrCat("items[", i, "].quantity: expected 1 to ", kMaxQuantity));
    }
  }
  std::vector<int64_t> ids = r.ticket_ids;
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return absl::InvalidArgumentError("metadata.ticketIds: a ticket is listed twice");
  }
  if (r.customer_email.empty()) return absl::InvalidArgumentError("customerEmail: required");
  if (!r.idempotency_key.empty() && !IsIdempotencyKey(r.idempotency_key)) {
    return absl::InvalidArgumentError(
        "Idempotency-Key: expected 1 to 255 visible ASCII characters");
  }
  if (r.description.size() > 1000 || r.return_url.size() > 2000 || r.customer_name.size() > 200) {
    return absl::InvalidArgumentError("description, returnUrl or customerName: too long");
  }
  return absl::OkStatus();
}

// What makes two requests "the same purchase" for an idempotency key.
std::string Fingerprint(const PurchaseRequest& r) {
  std::vector<std::pair<int64_t, int64_t>> lines;
  for (const PurchaseLine& l : r.lines) lines.emplace_back(l.ticket_type_id, l.quantity);
  std::sort(lines.begin(), lines.end());
  std::vector<int64_t> ids = r.ticket_ids;
  std::sort(ids.begin(), ids.end());
  std::string text = StrCat(r.event_id, "|", absl::AsciiStrToLower(ToAbsl(r.customer_email)), "|");
  for (const auto& [type, n] : lines) text += StrCat(type, "x", n, ",");
  text += "|";
  for (int64_t id : ids) text += StrCat(id, ",");
  return auth::Sha256Hex(text);
}

constexpr std::string_view kTicketsQueue = "tickets";

// The job that expires purchase `id`'s hold at `at`.
engine::JobSpec ExpireJob(int64_t id, absl::Time at) {
  engine::JobSpec spec;
  spec.queue = std::string(kTicketsQueue);
  spec.type = std::string(kExpireJobType);
  spec.run_at = at;
  spec.max_attempts = 20;  // the gateway may be down for a while
  spec.payload = json::serialize(json::object{{"purchase", id}});
  return spec;
}

// An intent whose payment is under way: its outcome is on its way.
bool Paying(const PaymentIntent& intent) {
  return intent.status == "succeeded" || intent.status == "processing" ||
         intent.status == "requires_capture";
}

// A payment.refunded domain event's "full" flag.
bool IsFullRefund(const json::object& d) {
  const json::value* full = d.if_contains("full");
  return full != nullptr && full->is_bool() && full->as_bool();
}

}  // namespace

std::string_view PurchaseStatusName(PurchaseStatus s) { return kStatusNames[static_cast<int>(s)]; }

Result<PurchaseStatus> ParsePurchaseStatus(std::string_view name) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (kStatusNames[i] == name) return static_cast<PurchaseStatus>(i);
  }
  return absl::InvalidArgumentError(
      "status: expected pending, paid, failed, partially_refunded or refunded");
}

Status Purchases::Migrate(store::Store& store) {
  return store.Migrate("tickets-purchases", kMigrations);
}

Purchases::Purchases(store::Store& store, Ticketing& ticketing, PaymentGateway& gateway,
                     const core::Clock& clock, PurchaseFollowUp follow_up)
    : store_(store),
      ticketing_(ticketing),
      gateway_(gateway),
      clock_(clock),
      follow_(std::move(follow_up)) {}

Result<std::unique_ptr<Purchases>> Purchases::Create(store::Store& store, Ticketing& ticketing,
                                                     PaymentGateway& gateway,
                                                     webhooks::Inbox& inbox,
                                                     const core::Clock& clock,
                                                     PurchaseFollowUp follow_up) {
  std::unique_ptr<Purchases> p(
      new Purchases(store, ticketing, gateway, clock, std::move(follow_up)));
  Purchases* self = p.get();
  if (self->follow_.engine != nullptr) {
    self->follow_.engine->RegisterHandler(
        std::string(kExpireJobType), [self](engine::JobContext& job) { return self->Expire(job); });
    self->follow_.engine->RegisterHandler(
        std::string(kRetireIntentJobType),
        [self](engine::JobContext& job) { return self->RetireIntent(job); });
  }
  if (self->confirms()) {
    self->follow_.engine->RegisterHandler(
        std::string(kConfirmJobType),
        [self](engine::JobContext& job) { return self->Confirm(job); });
  }
  for (const char* type : {"payment.succeeded", "payment.failed", "payment.refunded"}) {
    inbox.Subscribe(
        type, [self](Txn& txn, const webhooks::DomainEvent& e) { return self->OnPayment(txn, e); });
  }
  return p;
}

Result<ProcessResult> Purchases::Process(const PurchaseRequest& req) {
  HERALD_RETURN_IF_ERROR(Validate(req));
  const std::string fingerprint = Fingerprint(req);
  const absl::Time now = clock_.Now();
  ProcessResult out;
  int64_t id = 0;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    id = 0;
    out.replayed = false;
    if (!req.idempotency_key.empty()) {
      HERALD_ASSIGN_OR_RETURN(id,
                              IdempotentReplay(txn,
                                               "SELECT id, fingerprint FROM ticket_purchases WHERE"
                                               " idempotency_key = ?",
                                               req.idempotency_key, fingerprint, "purchase"));
      if (id != 0) {
        out.replayed = true;
        return absl::OkStatus();
      }
    }
    HERALD_ASSIGN_OR_RETURN(std::optional<Event> event, LoadEvent(txn, req.event_id));
    if (!event) return absl::NotFoundError(StrCat("no event ", req.event_id));
    if (event->status != EventStatus::kActive) {
      return absl::FailedPreconditionError(
          StrCat("event ", event->id, " is ", EventStatusName(event->status), ": not on sale"));
    }
    if (!req.currency.empty() && absl::AsciiStrToUpper(ToAbsl(req.currency)) != event->currency) {
      return absl::InvalidArgumentError(
          StrCat("currency: event ", event->id, " sells in ", event->currency));
    }
    int64_t amount = 0;
    for (size_t i = 0; i < req.lines.size(); ++i) {
      HERALD_ASSIGN_OR_RETURN(std::optional<TicketType> type,
                              LoadTicketType(txn, req.lines[i].ticket_type_id));
      if (!type || type->event_id != event->id) {
        return absl::InvalidArgumentError(StrCat("items[", i, "].ticketTypeId: no ticket type ",
                                                 req.lines[i].ticket_type_id, " in event ",
                                                 event->id));
      }
      amount += type->price * req.lines[i].quantity;
    }
    json::array guest_given;  // existing tickets without a guest: they get the buyer
    for (size_t i = 0; i < req.ticket_ids.size(); ++i) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, req.ticket_ids[i]));
      if (!t || t->event_id != event->id) {
        return absl::InvalidArgumentError(StrCat("metadata.ticketIds[", i, "]: no ticket ",
                                                 req.ticket_ids[i], " in event ", event->id));
      }
      if (t->status != TicketStatus::kPending || t->purchase_id != 0) {
        return absl::FailedPreconditionError(
            StrCat("ticket ", t->id, " is not a pending ticket awaiting purchase"));
      }
      if (t->guest_id == 0) guest_given.emplace_back(t->id);
      if (t->ticket_type_id != 0) {
        HERALD_ASSIGN_OR_RETURN(std::optional<TicketType> type,
                                LoadTicketType(txn, t->ticket_type_id));
        if (type) amount += type->price;
      }
    }
    if (amount <= 0) {
      return absl::FailedPreconditionError(
          "these tickets are free: issue them with POST /api/events/{id}/tickets");
    }
    if (amount > kMaxAmount) {
      return absl::FailedPreconditionError(
          StrCat("the amount ", amount, " is above the payment gateway's limit"));
    }
    Guest g;
    g.event_id = event->id;
    g.email = req.customer_email;
    const size_t space = req.customer_name.rfind(' ');
    if (space == std::string::npos) {
      g.last_name =
          req.customer_name.empty() ? req.customer_email.substr(0, 100) : req.customer_name;
    } else {
      g.first_name = req.customer_name.substr(0, space);
      g.last_name = req.customer_name.substr(space + 1);
    }
    HERALD_ASSIGN_OR_RETURN(Guest guest, ticketing_.EnsureGuest(txn, std::move(g)));
    HERALD_ASSIGN_OR_RETURN(
        id, txn.Insert(
                "INSERT INTO ticket_purchases (event_id, guest_id, customer_email, customer_name,"
                " amount, currency, status, gateway, payment_intent_id, amount_refunded,"
                " client_amount, last_error, idempotency_key, fingerprint, description,"
                " return_url, made_tickets, guest_given, created_at, updated_at) VALUES (?, ?, ?,"
                " ?, ?, ?, 'pending', ?, '', 0, ?, '', ?, ?, ?, ?, ?, ?, ?, ?)",
                {event->id, guest.id, guest.email, req.customer_name, amount, event->currency,
                 gateway_.name(), req.client_amount ? Value(*req.client_amount) : Value(),
                 req.idempotency_key.empty() ? Value() : Value(req.idempotency_key), fingerprint,
                 req.description, req.return_url, int64_t{req.lines.empty() ? 0 : 1},
                 json::serialize(guest_given), ToMicros(now), ToMicros(now)}));
    std::vector<IssueRequest> issue;
    for (const PurchaseLine& l : req.lines) {
      for (int64_t n = 0; n < l.quantity; ++n) {
        IssueRequest r;
        r.guest_id = guest.id;
        r.ticket_type_id = l.ticket_type_id;
        r.purchase_id = id;
        r.status = TicketStatus::kPending;
        issue.push_back(std::move(r));
      }
    }
    if (!issue.empty())
      HERALD_RETURN_IF_ERROR(ticketing_.IssueTickets(txn, event->id, issue).status());
    for (int64_t ticket : req.ticket_ids) {
      HERALD_RETURN_IF_ERROR(txn.Exec("UPDATE tickets SET purchase_id = ?, guest_id ="
                                      " CASE WHEN guest_id = 0 THEN ? ELSE guest_id END,"
                                      " updated_at = ? WHERE id = ?",
                                      {id, guest.id, ToMicros(now), ticket})
                                 .status());
    }
    if (follow_.engine == nullptr || follow_.hold_for <= absl::ZeroDuration()) {
      return absl::OkStatus();
    }
    return follow_.engine->Enqueue(txn, ExpireJob(id, now + follow_.hold_for)).status();
  }));
  HERALD_ASSIGN_OR_RETURN(out.purchase, Get(id));
  if (!out.purchase.payment_intent_id.empty()) {
    // The purchase has its intent: never a second one (the gateway's idempotency keys expire).
    Result<PaymentIntent> intent = gateway_.GetIntent(out.purchase.payment_intent_id);
    if (!intent.ok()) {
      if (intent.status().code() != absl::StatusCode::kNotFound) return intent.status();
      return absl::FailedPreconditionError(
          StrCat("purchase ", id, ": the gateway no longer knows its payment intent"));
    }
    out.client_secret = std::move(intent->client_secret);
    return out;
  }
  if (out.purchase.status != PurchaseStatus::kPending) {
    return absl::FailedPreconditionError(
        StrCat("purchase ", id, " is ", PurchaseStatusName(out.purchase.status)));
  }
  // The gateway's key is the purchase's: a retry after a gateway failure gets the same intent.
  IntentRequest ir;
  ir.amount = out.purchase.amount;
  ir.currency = out.purchase.currency;
  ir.description =
      req.description.empty() ? StrCat("Tickets, event ", out.purchase.event_id) : req.description;
  ir.customer_email = out.purchase.customer_email;
  ir.customer_name = out.purchase.customer_name;
  ir.metadata = {{"purchase_id", StrCat(id)},
                 {"event_id", StrCat(out.purchase.event_id)},
                 {"source", "herald"}};
  ir.idempotency_key = StrCat("herald-purchase-", id);
  HERALD_ASSIGN_OR_RETURN(PaymentIntent intent, gateway_.CreateIntent(ir));
  if (intent.amount != out.purchase.amount) {
    return absl::InternalError(
        StrCat("the gateway's intent ", intent.id, " is for another amount"));
  }
  int64_t changed = 0;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        changed, txn.Exec("UPDATE ticket_purchases SET payment_intent_id = ?, gateway = ?,"
                          " updated_at = ? WHERE id = ? AND payment_intent_id = ''"
                          " AND status IN ('pending', 'failed')",
                          {intent.id, intent.gateway, ToMicros(clock_.Now()), id}));
    return absl::OkStatus();
  }));
  if (changed == 0) {
    // Expired meanwhile (or another request attached its intent): this one is never paid.
    HERALD_ASSIGN_OR_RETURN(Purchase now, Get(id));
    if (now.status == PurchaseStatus::kExpired) {
      (void)gateway_.CancelIntent(intent.id);  // best effort: it is not handed out
      return absl::FailedPreconditionError(StrCat("purchase ", id, " expired"));
    }
    return absl::AbortedError(StrCat("purchase ", id, " is being paid by a concurrent request"));
  }
  out.purchase.payment_intent_id = intent.id;
  out.purchase.gateway = intent.gateway;
  out.client_secret = std::move(intent.client_secret);
  return out;
}

Result<Purchase> Purchases::Get(int64_t id) {
  std::optional<Purchase> p;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(p, LoadPurchase(txn, "id", id));
    return absl::OkStatus();
  }));
  if (!p) return absl::NotFoundError(StrCat("no purchase ", id));
  return *std::move(p);
}

Result<std::vector<Purchase>> Purchases::List(int64_t event_id, const PageFilter& page) {
  std::vector<Purchase> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    std::vector<int64_t> ids;
    HERALD_RETURN_IF_ERROR(txn.Query(
        "SELECT id FROM ticket_purchases WHERE event_id = ? AND id > ? ORDER BY id LIMIT ?",
        {event_id, page.after_id, int64_t{std::clamp(page.limit, 1, 1000)}}, [&](const Row& r) {
          ids.push_back(r.Int(0));
          return true;
        }));
    for (int64_t id : ids) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Purchase> p, LoadPurchase(txn, "id", id));
      if (p) out.push_back(*std::move(p));
    }
    return absl::OkStatus();
  }));
  return out;
}

Status Purchases::OnPayment(Txn& txn, const webhooks::DomainEvent& e) {
  boost::system::error_code ec;
  json::value data = json::parse(e.data_json, ec);
  if (ec || !data.is_object()) return absl::OkStatus();  // not ours to judge
  const json::object& d = data.as_object();
  HERALD_ASSIGN_OR_RETURN(std::optional<Purchase> p, LoadPurchase(txn, "intent", e.entity_id));
  // The purchase's own intent, when another payment pays it: a Checkout Session created for
  // it (metadata.purchase_id) pays through an intent of its own.
  std::string replaced_intent;
  if (!p) {
    const json::value* md = d.if_contains("metadata");
    const int64_t id =
        md != nullptr && md->is_object() ? JsonInt(md->as_object(), "purchase_id") : 0;
    if (id != 0) {
      HERALD_ASSIGN_OR_RETURN(p, LoadPurchase(txn, "id", id));
      // A purchase tied to another payment is this payment's only while it is unpaid and
      // this payment succeeded; otherwise the other payment is its own.
      if (p && !p->payment_intent_id.empty() && p->payment_intent_id != e.entity_id) {
        const bool unpaid = p->status == PurchaseStatus::kPending ||
                            p->status == PurchaseStatus::kFailed ||
                            p->status == PurchaseStatus::kExpired;  // noted, not issued
        if (e.type == "payment.succeeded" && unpaid) {
          replaced_intent = p->payment_intent_id;
        } else if (e.type == "payment.succeeded") {
          // Paid already, through its own intent: this second payment is to be refunded.
          // (Refunding it issues and cancels nothing: its intent is not the purchase's.)
          return txn
              .Exec("UPDATE ticket_purchases SET last_error = ?, updated_at = ? WHERE id = ?",
                    {StrCat("paid twice: ", e.entity_id, " after ", p->payment_intent_id,
                            "; refund ", e.entity_id),
                     ToMicros(clock_.Now()), p->id})
              .status();
        } else {
          p.reset();
        }
      }
    }
  }
  if (!p) return OnOtherPayment(txn, e, d);
  const int64_t now = ToMicros(clock_.Now());
  auto set = [&](PurchaseStatus s, std::string_view error) {
    return txn
        .Exec(
            "UPDATE ticket_purchases SET status = ?, last_error = ?, updated_at = ?,"
            " payment_intent_id = CASE WHEN payment_intent_id = '' THEN ? ELSE"
            " payment_intent_id END WHERE id = ?",
            {PurchaseStatusName(s), error, now, e.entity_id, p->id})
        .status();
  };
  if (e.type == "payment.succeeded") {
    if (p->status == PurchaseStatus::kExpired) {
      return set(p->status, StrCat("paid after its hold expired (", JsonInt(d, "amount"), " ",
                                   JsonString(d, "currency"),
                                   "): its tickets were released; refund the payment"));
    }
    if (p->status != PurchaseStatus::kPending && p->status != PurchaseStatus::kFailed) {
      return absl::OkStatus();
    }
    const int64_t paid = JsonInt(d, "amount");
    const std::string currency = JsonString(d, "currency");
    // A payment that does not say what it paid issues nothing either.
    if (paid < p->amount ||
        (!currency.empty() && absl::AsciiStrToUpper(ToAbsl(currency)) != p->currency)) {
      return set(p->status, StrCat("paid ", paid, " ", currency, " for ", p->amount, " ",
                                   p->currency, ": tickets not issued"));
    }
    HERALD_RETURN_IF_ERROR(set(PurchaseStatus::kPaid, ""));
    HERALD_RETURN_IF_ERROR(
        txn.Exec("UPDATE ticket_purchases SET paid_at = ? WHERE id = ?", {now, p->id}).status());
    if (!replaced_intent.empty()) {
      // This payment is the purchase's now (its refunds name it); its first intent must not
      // be paid as well.
      HERALD_RETURN_IF_ERROR(txn.Exec("UPDATE ticket_purchases SET payment_intent_id = ? WHERE"
                                      " id = ?",
                                      {e.entity_id, p->id})
                                 .status());
      if (follow_.engine != nullptr) {
        engine::JobSpec spec;
        spec.queue = std::string(kTicketsQueue);
        spec.type = std::string(kRetireIntentJobType);
        spec.max_attempts = 20;  // the gateway may be down for a while
        spec.payload =
            json::serialize(json::object{{"purchase", p->id}, {"intent", replaced_intent}});
        HERALD_RETURN_IF_ERROR(follow_.engine->Enqueue(txn, spec).status());
      }
    }
    for (int64_t ticket : p->ticket_ids) {
      HERALD_RETURN_IF_ERROR(ticketing_.MarkIssued(txn, ticket));
    }
    return FollowUp(txn, *p);
  }
  if (e.type == "payment.failed") {
    if (p->status != PurchaseStatus::kPending) return absl::OkStatus();
    return set(PurchaseStatus::kFailed, "the payment failed");
  }
  if (e.type == "payment.refunded") {
    const bool full = IsFullRefund(d);
    const int64_t refunded = JsonInt(d, "amountRefunded");
    if (p->status == PurchaseStatus::kRefunded) return absl::OkStatus();
    if (p->status != PurchaseStatus::kPaid && p->status != PurchaseStatus::kPartiallyRefunded) {
      // Nothing was issued (or its hold released the tickets): nothing to take back.
      return set(p->status, StrCat("refunded ", refunded, " while ", PurchaseStatusName(p->status),
                                   ": nothing issued, nothing cancelled"));
    }
    HERALD_RETURN_IF_ERROR(
        set(full ? PurchaseStatus::kRefunded : PurchaseStatus::kPartiallyRefunded, ""));
    HERALD_RETURN_IF_ERROR(txn.Exec("UPDATE ticket_purchases SET amount_refunded = ? WHERE id = ?",
                                    {std::max(refunded, p->amount_refunded), p->id})
                               .status());
    if (!full) return absl::OkStatus();
    for (int64_t ticket : p->ticket_ids) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, ticket));
      // A ticket already used at the door stays used; the others are revoked.
      if (t && t->status != TicketStatus::kUsed) {
        HERALD_RETURN_IF_ERROR(ticketing_.CancelTicket(txn, ticket, "refunded"));
      }
    }
  }
  return absl::OkStatus();
}

namespace {

constexpr std::string_view kTemplatePurchaseColumns =
    "id, payment_key, template_id, event_id, user_id, ticket_count, amount, currency,"
    " customer_email, customer_name, active, paid_at, last_error";

TemplatePurchase TemplatePurchaseFromRow(const Row& r) {
  TemplatePurchase t;
  t.id = r.Int(0);
  t.payment_key = r.Text(1);
  t.template_id = r.Int(2);
  t.event_id = r.Int(3);
  t.user_id = r.Text(4);
  t.ticket_count = r.Int(5);
  t.amount = r.Int(6);
  t.currency = r.Text(7);
  t.customer_email = r.Text(8);
  t.customer_name = r.Text(9);
  t.active = r.Int(10) != 0;
  t.paid_at = FromMicros(r.Int(11));
  t.last_error = r.Text(12);
  return t;
}

// A text field of a payment's sub-object, cut to `max` bytes; "" when absent or not text.
std::string ObjectText(const json::object& o, std::string_view object, std::string_view key,
                       size_t max) {
  const json::value* v = o.if_contains(object);
  if (v == nullptr || !v->is_object()) return "";
  std::string text = JsonString(v->as_object(), key);
  return text.size() > max ? "" : text;
}

}  // namespace

Status Purchases::OnOtherPayment(Txn& txn, const webhooks::DomainEvent& e, const json::object& d) {
  // Only payment providers sell templates (and refund them): a Standard Webhooks source relays
  // events of its own naming, which are not payments Herald can vouch for.
  if (e.provider != webhooks::kPaymentService && e.provider != webhooks::kStripe) {
    return absl::OkStatus();
  }
  if (e.type == "payment.refunded") {
    if (!IsFullRefund(d)) return absl::OkStatus();
    // The licence it granted goes with it (tickets already issued stay).
    std::optional<TemplatePurchase> t;
    static const std::string kSql = StrCat(
        "UPDATE ticket_template_purchases SET active = 0 WHERE payment_key = ?"
        " AND active = 1 RETURNING ",
        kTemplatePurchaseColumns);
    HERALD_RETURN_IF_ERROR(txn.Query(kSql, {e.entity_id}, [&](const Row& r) {
      t = TemplatePurchaseFromRow(r);
      return false;
    }));
    if (!t || t->event_id == 0 || t->ticket_count == 0) return absl::OkStatus();
    return ticketing_.AddTemplateLicence(txn, t->template_id, t->event_id, -t->ticket_count);
  }
  if (e.type != "payment.succeeded") return absl::OkStatus();
  const json::value* md = d.if_contains("metadata");
  if (md == nullptr || !md->is_object()) return absl::OkStatus();
  const json::object& m = md->as_object();
  const int64_t template_id = JsonInt(m, "template_id");
  if (template_id <= 0) return absl::OkStatus();
  HERALD_ASSIGN_OR_RETURN(std::optional<TicketTemplate> tmpl, LoadTemplate(txn, template_id));
  if (!tmpl) return absl::OkStatus();  // a template of another system
  std::string user_id;
  if (const json::value* u = m.if_contains("user_id")) {
    if (u->is_int64()) user_id = StrCat(u->as_int64());
    if (u->is_string() && u->as_string().size() <= 128) user_id = std::string(u->as_string());
  }
  std::string email = absl::AsciiStrToLower(ObjectText(d, "customer", "email", 254));
  if (email.find('@') == std::string::npos) email.clear();  // nobody to confirm to
  const std::string name = ObjectText(d, "customer", "name", 200);
  const std::string currency = absl::AsciiStrToUpper(JsonString(d, "currency"));
  const int64_t amount = JsonInt(d, "amount");
  if (amount <= 0 || currency.size() != 3 || !absl::c_all_of(currency, absl::ascii_isupper)) {
    core::LogWarn("template payment ignored: no amount or currency",
                  {{"payment", e.entity_id}, {"template", template_id}});
    return absl::OkStatus();
  }
  // What it buys: a licence of ticket_count tickets for event_id. A payment that names an
  // event or a count that is not one, or that pays less than a premium template costs, is
  // recorded with the reason and unlocks nothing.
  const auto present = [&](std::string_view key) {
    const json::value* v = m.if_contains(json::string_view(key.data(), key.size()));
    return v != nullptr && !v->is_null();
  };
  const int64_t event_id = JsonInt(m, "event_id");
  const int64_t count = JsonInt(m, "ticket_count");
  std::string problem;
  if (present("event_id") && event_id <= 0) {
    problem = "metadata.event_id: expected an event id";
  } else if (present("ticket_count") && (count <= 0 || count > kMaxLicensedTickets)) {
    problem = StrCat("metadata.ticket_count: expected 1 to ", kMaxLicensedTickets);
  } else if (event_id > 0) {
    HERALD_ASSIGN_OR_RETURN(std::optional<Event> event, LoadEvent(txn, event_id));
    if (!event) problem = StrCat("metadata.event_id: no event ", event_id);
  }
  if (problem.empty() && tmpl->premium()) {
    if (event_id <= 0 || count <= 0) {
      problem = "a premium template is bought for an event: metadata.event_id and ticket_count";
    } else if (currency != tmpl->currency || amount < tmpl->price * count) {
      problem = StrCat("paid ", amount, " ", currency, " for ", count, " ticket(s) at ",
                       tmpl->price, " ", tmpl->currency, ": nothing unlocked; refund the payment");
    }
  }
  if (!problem.empty()) {
    core::LogWarn("template payment unlocked nothing",
                  {{"payment", e.entity_id}, {"template", template_id}, {"reason", problem}});
  }
  const Value p[] = {e.entity_id,
                     template_id,
                     std::max<int64_t>(event_id, 0),
                     std::string_view(user_id),
                     std::clamp<int64_t>(count, 0, kMaxLicensedTickets),
                     amount,
                     std::string_view(currency),
                     std::string_view(email),
                     std::string_view(name),
                     int64_t{problem.empty()},
                     ToMicros(clock_.Now()),
                     std::string_view(problem)};
  int64_t id = 0;  // 0: this payment was recorded before
  HERALD_RETURN_IF_ERROR(txn.Query(
      "INSERT INTO ticket_template_purchases (payment_key, template_id, event_id, user_id,"
      " ticket_count, amount, currency, customer_email, customer_name, active, paid_at,"
      " last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (payment_key)"
      " DO NOTHING RETURNING id",
      p, [&](const Row& r) {
        id = r.Int(0);
        return true;
      }));
  if (id == 0 || !problem.empty()) return absl::OkStatus();
  if (event_id > 0 && count > 0) {
    HERALD_RETURN_IF_ERROR(ticketing_.AddTemplateLicence(txn, template_id, event_id, count));
  }
  if (email.empty()) return absl::OkStatus();
  return EnqueueConfirmation(txn, {{"templatePurchase", id}});
}

Result<std::vector<TemplatePurchase>> Purchases::TemplatePurchases(int64_t template_id,
                                                                   std::string_view user_id,
                                                                   const PageFilter& page) {
  static const std::string kSql =
      StrCat("SELECT ", kTemplatePurchaseColumns,
             " FROM ticket_template_purchases WHERE template_id = ? AND (? = '' OR user_id = ?)"
             " AND id > ? ORDER BY id LIMIT ?");
  std::vector<TemplatePurchase> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<TicketTemplate> t, LoadTemplate(txn, template_id));
    if (!t) return absl::NotFoundError(StrCat("no ticket template ", template_id));
    const Value p[] = {template_id, user_id, user_id, page.after_id,
                       int64_t{std::clamp(page.limit, 1, 1000)}};
    return txn.Query(kSql, p, [&](const Row& r) {
      out.push_back(TemplatePurchaseFromRow(r));
      return true;
    });
  }));
  return out;
}

Status Purchases::FollowUp(Txn& txn, const Purchase& p) {
  if (follow_.generator != nullptr) {
    GenerationRequest g;
    g.purchase_id = p.id;
    g.options.priority = 10;  // the buyer is waiting for them
    g.created_by = StrCat("purchase ", p.id);
    // The tickets the payment issued: one cancelled by the organiser meanwhile stays so.
    for (int64_t id : p.ticket_ids) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, id));
      if (t && t->status == TicketStatus::kIssued) g.ticket_ids.push_back(id);
    }
    if (!g.ticket_ids.empty()) HERALD_RETURN_IF_ERROR(follow_.generator->Start(txn, g).status());
  }
  return EnqueueConfirmation(txn, {{"purchase", p.id}});
}

Status Purchases::EnqueueConfirmation(Txn& txn, const json::object& payload) {
  if (!confirms()) return absl::OkStatus();
  engine::JobSpec spec;
  spec.queue = std::string(docs::kDocumentsQueue);
  spec.type = std::string(kConfirmJobType);
  spec.priority = 10;
  spec.max_attempts = 5;
  spec.payload = json::serialize(payload);
  return follow_.engine->Enqueue(txn, spec).status();
}

// What the confirmation email and its invoice say, for a purchase or a template bought.
struct Purchases::Invoice {
  std::string number;     // INV-000042 (purchases) or INV-T000007 (templates): two series
  std::string reference;  // purchases/42 or template-purchases/7: also the email's key
  std::string doc_id;
  std::string created_by;
  json::object result;  // the job's result, before the invoice and notification ids
  int64_t amount = 0;
  std::string currency;
  absl::Time issued;
  std::string timezone = "UTC";
  std::string title;  // what was paid for, in the email
  std::string buyer_name;
  std::string buyer_email;
  json::array items;
  json::object metadata;
  bool refunded = false;  // refunded before the confirmation went: none is sent
};

Result<Purchases::Invoice> Purchases::PurchaseInvoice(int64_t id) {
  HERALD_ASSIGN_OR_RETURN(Purchase p, Get(id));
  std::optional<Event> event;
  std::map<int64_t, std::pair<TicketType, int64_t>> lines;  // type id -> (type, quantity)
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    lines.clear();
    HERALD_ASSIGN_OR_RETURN(event, LoadEvent(txn, p.event_id));
    for (int64_t ticket_id : p.ticket_ids) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, ticket_id));
      if (!t || t->ticket_type_id == 0) continue;
      auto [it, added] = lines.try_emplace(t->ticket_type_id);
      if (added) {
        HERALD_ASSIGN_OR_RETURN(std::optional<TicketType> type,
                                LoadTicketType(txn, t->ticket_type_id));
        if (!type) return absl::NotFoundError(StrCat("ticket type ", t->ticket_type_id));
        it->second.first = *std::move(type);
      }
      ++it->second.second;
    }
    return absl::OkStatus();
  }));
  if (!event) return absl::NotFoundError(StrCat("event ", p.event_id));
  Invoice inv;
  for (const auto& [type_id, line] : lines) {
    inv.items.push_back(json::object{{"description", StrCat(event->title, " — ", line.first.name)},
                                     {"quantity", line.second},
                                     {"unitPrice", DecimalAmount(line.first.price)},
                                     {"vatRate", line.first.vat_rate / 100.0}});
  }
  inv.number = StrCat("INV-", absl::StrFormat("%06d", p.id));
  inv.reference = StrCat("purchases/", p.id);
  inv.doc_id = StrCat("doc_inv_", p.id);
  inv.created_by = StrCat("purchase ", p.id);
  inv.result = {{"purchase", p.id}};
  inv.amount = p.amount;
  inv.currency = p.currency;
  inv.issued = p.paid_at.value_or(p.updated_at);
  inv.timezone = event->timezone;
  inv.title = event->title;
  inv.buyer_name = p.customer_name;
  inv.buyer_email = p.customer_email;
  inv.metadata = {{"eventId", p.event_id}, {"purchaseId", p.id}};
  return inv;
}

Result<Purchases::Invoice> Purchases::TemplateInvoice(int64_t id) {
  static const std::string kSql =
      StrCat("SELECT ", kTemplatePurchaseColumns, " FROM ticket_template_purchases WHERE id = ?");
  std::optional<TemplatePurchase> t;
  std::optional<TicketTemplate> tmpl;
  std::optional<Event> event;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(txn.Query(kSql, {id}, [&](const Row& r) {
      t = TemplatePurchaseFromRow(r);
      return false;
    }));
    if (!t) return absl::OkStatus();
    HERALD_ASSIGN_OR_RETURN(tmpl, LoadTemplate(txn, t->template_id));
    if (t->event_id != 0) {
      HERALD_ASSIGN_OR_RETURN(event, LoadEvent(txn, t->event_id));
    }
    return absl::OkStatus();
  }));
  if (!t) return absl::NotFoundError(StrCat("no template purchase ", id));
  Invoice inv;
  inv.refunded = !t->active;
  // One line: the payment's amount, whatever the template's use (its tickets are made later,
  // by generation jobs, and are not sold here).
  std::string what =
      StrCat("Ticket template \"", tmpl ? tmpl->name : StrCat("#", t->template_id), "\"");
  if (event) StrAppend(&what, " — ", event->title);
  if (t->ticket_count > 0) StrAppend(&what, " (", t->ticket_count, " tickets)");
  inv.items.push_back(json::object{{"description", what},
                                   {"quantity", 1},
                                   {"unitPrice", DecimalAmount(t->amount)},
                                   {"vatRate", tmpl ? tmpl->vat_rate / 100.0 : 0.0}});
  inv.number = StrCat("INV-T", absl::StrFormat("%06d", t->id));
  inv.reference = StrCat("template-purchases/", t->id);
  inv.doc_id = StrCat("doc_inv_t", t->id);
  inv.created_by = StrCat("template purchase ", t->id);
  inv.result = {{"templatePurchase", t->id}};
  inv.amount = t->amount;
  inv.currency = t->currency;
  inv.issued = t->paid_at;
  if (event) inv.timezone = event->timezone;
  inv.title = event ? event->title : tmpl ? tmpl->name : "";
  inv.buyer_name = t->customer_name;
  inv.buyer_email = t->customer_email;
  inv.metadata = {
      {"templateId", t->template_id}, {"templatePurchaseId", t->id}, {"paymentId", t->payment_key}};
  if (t->event_id != 0) inv.metadata["eventId"] = t->event_id;
  return inv;
}

Status Purchases::Confirm(engine::JobContext& job) {
  HERALD_ASSIGN_OR_RETURN(const json::object payload, PayloadObject(job.payload(), job.type()));
  Result<Invoice> made_invoice = payload.contains("templatePurchase")
                                     ? TemplateInvoice(JsonInt(payload, "templatePurchase"))
                                     : PurchaseInvoice(JsonInt(payload, "purchase"));
  HERALD_ASSIGN_OR_RETURN(Invoice inv, std::move(made_invoice));
  if (inv.refunded) {
    inv.result["outcome"] = "refunded";
    job.SetResult(json::serialize(inv.result));
    return absl::OkStatus();
  }
  const Seller& s = follow_.seller;
  docs::DocumentRequest invoice;
  invoice.type = docs::DocumentType::kInvoice;
  invoice.audience = docs::Audience::kCustomer;
  invoice.reference = inv.reference;
  invoice.data = json::object{
      {"invoice",
       {{"number", inv.number},
        {"currency", inv.currency},
        {"issueDate", TimeText(inv.issued)},
        {"status", "paid"},
        {"timezone", inv.timezone},
        {"pricesIncludeVat", true}}},
      {"seller",
       {{"name", s.name}, {"address", s.address}, {"email", s.email}, {"vatNumber", s.vat_number}}},
      {"buyer",
       {{"name", inv.buyer_name.empty() ? inv.buyer_email : inv.buyer_name},
        {"email", inv.buyer_email}}},
      {"items", inv.items}};
  HERALD_ASSIGN_OR_RETURN(std::vector<Result<docs::DocumentRecord>> made,
                          follow_.documents->GenerateEach({&invoice, 1}, {&inv.doc_id, 1},
                                                          inv.created_by, job.id().ToString()));
  HERALD_ASSIGN_OR_RETURN(docs::DocumentRecord record, std::move(made[0]));
  HERALD_ASSIGN_OR_RETURN(std::string pdf, follow_.documents->ReadContent(record));

  notify::SendRequest r;
  r.channel = notify::Channel::kEmail;
  r.to = inv.buyer_email;
  r.template_id = "payment_confirmation";
  r.high_priority = true;
  r.idempotency_key = StrCat(inv.reference, "/confirmation");
  r.created_by = inv.created_by;
  r.metadata = inv.metadata;
  r.metadata["invoiceDocumentId"] = record.id;
  // The amount as figures ("99.99") and as each language writes it ("99,99 €", "€99.99").
  r.data = {{"amount", DecimalAmount(inv.amount)},
            {"amount_text",
             {{"fr", docs::FormatMoney(inv.amount, inv.currency, "fr")},
              {"en", docs::FormatMoney(inv.amount, inv.currency, "en")}}},
            {"currency", inv.currency},
            {"event_title", inv.title},
            {"invoice_number", inv.number},
            {"customer_name", inv.buyer_name}};
  r.attachments.push_back({record.filename, record.content_type, std::move(pdf)});
  HERALD_ASSIGN_OR_RETURN(notify::SubmitResult sent, follow_.notifier->Submit(r));
  json::object result = std::move(inv.result);
  result["invoice"] = record.id;
  result["notification"] = sent.notification.id;
  result["replayed"] = sent.replayed;
  job.SetResult(json::serialize(result));
  return absl::OkStatus();
}

Status Purchases::Expire(engine::JobContext& job) {
  HERALD_ASSIGN_OR_RETURN(const json::object payload, PayloadObject(job.payload(), job.type()));
  const int64_t id = JsonInt(payload, "purchase");
  HERALD_ASSIGN_OR_RETURN(Purchase p, Get(id));
  auto done = [&](std::string_view outcome) {
    job.SetResult(json::serialize(json::object{{"purchase", id}, {"outcome", outcome}}));
    return absl::OkStatus();
  };
  if (p.status != PurchaseStatus::kPending && p.status != PurchaseStatus::kFailed) {
    return done(PurchaseStatusName(p.status));
  }
  // A payment in progress keeps the hold. Looked at again after another hold_for, since a
  // payment that fails later must not hold the tickets for good.
  if (!p.payment_intent_id.empty()) {
    HERALD_ASSIGN_OR_RETURN(std::optional<std::string> paying, StopPayment(p.payment_intent_id));
    if (paying) {
      HERALD_RETURN_IF_ERROR(
          follow_.engine->Enqueue(ExpireJob(id, clock_.Now() + follow_.hold_for)).status());
      return done(StrCat("kept: the payment is ", *paying));
    }
  }
  std::string outcome = "expired";
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<Purchase> now, LoadPurchase(txn, "id", id));
    if (!now) return absl::OkStatus();
    if (now->status != PurchaseStatus::kPending && now->status != PurchaseStatus::kFailed) {
      outcome = PurchaseStatusName(now->status);  // paid meanwhile
      return absl::OkStatus();
    }
    int64_t made = 0;
    std::vector<int64_t> guest_given;
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT made_tickets, guest_given FROM ticket_purchases WHERE id = ?", {id},
                  [&](const Row& r) {
                    made = r.Int(0);
                    boost::system::error_code ec;
                    const json::value given = json::parse(r.Text(1), ec);
                    if (!ec && given.is_array()) {
                      for (const json::value& v : given.get_array()) {
                        if (v.is_int64()) guest_given.push_back(v.get_int64());
                      }
                    }
                    return false;
                  }));
    const int64_t at = ToMicros(clock_.Now());
    HERALD_RETURN_IF_ERROR(
        txn.Exec("UPDATE ticket_purchases SET status = 'expired', last_error = ?, updated_at = ?"
                 " WHERE id = ?",
                 {"the hold expired before the payment", at, id})
            .status());
    for (int64_t ticket : now->ticket_ids) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, ticket));
      if (!t || t->status != TicketStatus::kPending || t->purchase_id != id) continue;
      if (made != 0) {
        HERALD_RETURN_IF_ERROR(ticketing_.CancelTicket(txn, ticket, "expired"));
      } else {
        HERALD_RETURN_IF_ERROR(
            txn.Exec("UPDATE tickets SET purchase_id = 0, guest_id = CASE WHEN ? THEN 0 ELSE"
                     " guest_id END, updated_at = ? WHERE id = ?",
                     {int64_t{std::find(guest_given.begin(), guest_given.end(), ticket) !=
                              guest_given.end()},
                      at, ticket})
                .status());
      }
    }
    return absl::OkStatus();
  }));
  return done(outcome);
}

Status Purchases::RetireIntent(engine::JobContext& job) {
  HERALD_ASSIGN_OR_RETURN(const json::object payload, PayloadObject(job.payload(), job.type()));
  const int64_t id = JsonInt(payload, "purchase");
  const std::string intent = JsonString(payload, "intent");
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> paying, StopPayment(intent));
  std::string outcome = "canceled";
  if (paying) {
    // Paid (or being paid) as well as the payment that paid the purchase: a refund is due.
    outcome = StrCat("paid twice: the purchase's first payment intent ", intent, " is ", *paying,
                     " although another payment paid it; refund ", intent);
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) {
      return txn
          .Exec("UPDATE ticket_purchases SET last_error = ?, updated_at = ? WHERE id = ?",
                {outcome, ToMicros(clock_.Now()), id})
          .status();
    }));
  }
  job.SetResult(
      json::serialize(json::object{{"purchase", id}, {"intent", intent}, {"outcome", outcome}}));
  return absl::OkStatus();
}

Result<std::optional<std::string>> Purchases::StopPayment(std::string_view intent_id) {
  // Any gateway error is retried, a refused API key included: an operator can fix it.
  auto retry = [](const Status& s) {
    return absl::UnavailableError(StrCat("the payment gateway: ", s.message()));
  };
  Result<PaymentIntent> intent = gateway_.GetIntent(intent_id);
  if (intent.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
  if (!intent.ok()) return retry(intent.status());
  if (intent->status == "canceled") return std::nullopt;
  if (!Paying(*intent)) {
    Result<PaymentIntent> canceled = gateway_.CancelIntent(intent_id);
    if (canceled.ok()) return std::nullopt;
    if (canceled.status().code() != absl::StatusCode::kFailedPrecondition) {
      return retry(canceled.status());
    }
    // It moved meanwhile: paid, or canceled by someone else.
    intent = gateway_.GetIntent(intent_id);
    if (!intent.ok()) return retry(intent.status());
    if (intent->status == "canceled") return std::nullopt;
  }
  return std::optional<std::string>(intent->status);
}

}  // namespace herald::apps::tickets
