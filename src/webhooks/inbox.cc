#include "webhooks/inbox.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "boost/json/object.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/log.h"
#include "core/strings.h"
#include "engine/job_table.h"

namespace herald::webhooks {
namespace {

namespace json = boost::json;
using engine::table::FromMicros;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "webhooks inbox", R"sql(
CREATE TABLE webhook_inbox (
  provider     TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  event_type   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  received_at  INTEGER NOT NULL,
  payload      TEXT NOT NULL,
  status       TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  PRIMARY KEY (provider, event_id)
);
CREATE INDEX webhook_inbox_received ON webhook_inbox (received_at);
CREATE TABLE payment_states (
  payment_key      TEXT PRIMARY KEY,
  state            TEXT NOT NULL,
  amount           INTEGER NOT NULL,
  amount_refunded  INTEGER NOT NULL,
  currency         TEXT NOT NULL,
  last_event_id    TEXT NOT NULL,
  updated_at       INTEGER NOT NULL
);
)sql"},
};

constexpr size_t kMaxPayloadBytes = 1024 * 1024;

enum class Pay { kNone, kPending, kFailed, kPaid, kPartiallyRefunded, kRefunded };

std::string_view PayName(Pay p) {
  switch (p) {
    case Pay::kNone:
      return "none";
    case Pay::kPending:
      return "pending";
    case Pay::kFailed:
      return "failed";
    case Pay::kPaid:
      return "paid";
    case Pay::kPartiallyRefunded:
      return "partially_refunded";
    case Pay::kRefunded:
      return "refunded";
  }
  return "none";
}

Pay ParsePay(std::string_view s) {
  for (Pay p : {Pay::kPending, Pay::kFailed, Pay::kPaid, Pay::kPartiallyRefunded, Pay::kRefunded}) {
    if (s == PayName(p)) return p;
  }
  return Pay::kNone;
}

// Whether a payment in state `from` (with `refunded_before` refunded) may move to `to` (with
// `refunded_now`): the one-way machine of inbox.h.
bool Allowed(Pay from, Pay to, int64_t refunded_before, int64_t refunded_now) {
  switch (to) {
    case Pay::kNone:
      return false;
    case Pay::kPending:
      return from == Pay::kNone;
    case Pay::kFailed:
      return from == Pay::kNone || from == Pay::kPending;
    case Pay::kPaid:
      return from == Pay::kNone || from == Pay::kPending || from == Pay::kFailed;
    case Pay::kPartiallyRefunded:
      return from == Pay::kPartiallyRefunded ? refunded_now > refunded_before
                                             : from != Pay::kRefunded;
    case Pay::kRefunded:
      return from != Pay::kRefunded;
  }
  return false;
}

// What a provider event asks of a payment.
struct Transition {
  std::string key;
  Pay to = Pay::kNone;
  int64_t amount = 0;
  int64_t amount_refunded = 0;
  std::string currency;
  json::value metadata;
  json::value customer;
};

const json::object* Object(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

std::string String(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}

// Seed 003 sends amounts in units ("amount": 99.99); seed 002 and Stripe in minor units. An
// amount that is negative or beyond any payment (10^15 minor units) counts as not given (0).
int64_t MinorUnits(const json::value* v, bool decimal_units) {
  constexpr int64_t kMax = 1'000'000'000'000'000;
  const int64_t scale = decimal_units ? 100 : 1;
  if (v == nullptr) return 0;
  if (v->is_double()) {
    const double minor = v->as_double() * 100;
    return std::isfinite(minor) && minor >= 0 && minor <= kMax ? std::llround(minor) : 0;
  }
  int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(kMax)) {
    n = static_cast<int64_t>(v->as_uint64());
  }
  return n >= 0 && n <= kMax / scale ? n * scale : 0;
}

json::value Member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr ? json::value() : *v;
}

// Stripe events (docs.stripe.com/api/events/types). nullopt: nothing to do for this type.
std::optional<Transition> StripeTransition(std::string_view type, const json::object& event,
                                           std::string& why) {
  const json::object* data = Object(event, "data");
  const json::object* obj = data == nullptr ? nullptr : Object(*data, "object");
  if (obj == nullptr) {
    why = "no data.object";
    return std::nullopt;
  }
  Transition t;
  t.currency = String(*obj, "currency");
  t.metadata = Member(*obj, "metadata");
  if (type.starts_with("checkout.session.")) {
    t.key = String(*obj, "payment_intent");
    if (t.key.empty()) t.key = String(*obj, "id");
    t.amount = Int(*obj, "amount_total");
    t.customer = Member(*obj, "customer_details");
    if (type == "checkout.session.completed") {
      const std::string status = String(*obj, "payment_status");
      if (status == "paid" || status == "no_payment_required") {
        t.to = Pay::kPaid;
      } else {
        t.to = Pay::kPending;  // unpaid: an asynchronous method settles later
      }
    } else if (type == "checkout.session.async_payment_succeeded") {
      t.to = Pay::kPaid;
    } else if (type == "checkout.session.async_payment_failed") {
      t.to = Pay::kFailed;
    } else {
      why = "not a payment event";
      return std::nullopt;
    }
  } else if (type == "payment_intent.succeeded" || type == "payment_intent.payment_failed") {
    t.key = String(*obj, "id");
    t.amount = Int(*obj, "amount");
    t.to = type == "payment_intent.succeeded" ? Pay::kPaid : Pay::kFailed;
  } else if (type == "charge.refunded") {
    t.key = String(*obj, "payment_intent");
    if (t.key.empty()) t.key = String(*obj, "id");
    t.amount = Int(*obj, "amount");
    t.amount_refunded = Int(*obj, "amount_refunded");
    const json::value* refunded = obj->if_contains("refunded");
    const bool full = (refunded != nullptr && refunded->is_bool() && refunded->as_bool()) ||
                      (t.amount > 0 && t.amount_refunded >= t.amount);
    t.to = full ? Pay::kRefunded : Pay::kPartiallyRefunded;
  } else {
    why = "event type not handled";
    return std::nullopt;
  }
  if (t.key.empty()) {
    why = "no payment id in the event";
    return std::nullopt;
  }
  return t;
}

// The payment service of seeds 002 (event_type, payment_id, amount in minor units, status
// succeeded) and 003 (eventType, paymentIntentId, data.amount in units, status completed).
std::optional<Transition> PaymentServiceTransition(std::string_view type, const json::object& body,
                                                   std::string& why) {
  Transition t;
  const json::object* data = Object(body, "data");
  if (body.contains("paymentIntentId")) {  // seed 003
    t.key = String(body, "paymentIntentId");
    if (data != nullptr) {
      t.amount = MinorUnits(data->if_contains("amount"), /*decimal_units=*/true);
      t.currency = String(*data, "currency");
    }
    t.metadata = Member(body, "metadata");
  } else {  // seed 002
    t.key = String(body, "payment_id");
    t.amount = MinorUnits(body.if_contains("amount"), /*decimal_units=*/false);
    t.currency = String(body, "currency");
    t.metadata = Member(body, "metadata");
    t.customer = Member(body, "customer");
  }
  if (type == "payment.completed" || type == "payment.succeeded") {
    t.to = Pay::kPaid;
  } else if (type == "payment.failed") {
    t.to = Pay::kFailed;
  } else if (type == "payment.refunded") {
    // Its amount is what was refunded so far, not what was paid: Translate calls a refund
    // below the amount paid partial.
    t.to = Pay::kRefunded;
    t.amount_refunded = t.amount;
    t.amount = 0;
  } else {
    why = "event type not handled";
    return std::nullopt;
  }
  if (t.key.empty()) {
    why = "no payment id in the event";
    return std::nullopt;
  }
  return t;
}

std::string_view DomainType(Pay to) {
  switch (to) {
    case Pay::kPaid:
      return "payment.succeeded";
    case Pay::kFailed:
      return "payment.failed";
    case Pay::kPartiallyRefunded:
    case Pay::kRefunded:
      return "payment.refunded";
    default:
      return "";
  }
}

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

bool IsValidSourceName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

class Inbox::Impl {
 public:
  Impl(store::Store& store, engine::Engine& engine, const core::Clock& clock, Dispatcher* outbound)
      : store_(store), engine_(engine), clock_(clock), outbound_(outbound) {
    engine_.RegisterHandler(std::string(kInboundJobType),
                            [this](engine::JobContext& job) { return Handle(job); });
  }

  Result<AcceptResult> Accept(const InboundEvent& e) {
    if (!IsValidSourceName(e.provider)) {
      return absl::InvalidArgumentError("provider: 1 to 64 characters of [a-z0-9_-]");
    }
    if (!IsValidId(e.event_id)) return absl::InvalidArgumentError("event id: 1 to 255 bytes");
    if (!IsValidId(e.type)) return absl::InvalidArgumentError("event type: 1 to 255 bytes");
    if (e.payload.size() > kMaxPayloadBytes) {
      return absl::InvalidArgumentError("payload: at most 1 MiB");
    }
    boost::system::error_code ec;
    const json::value v = json::parse(e.payload, ec);
    if (ec || !v.is_object()) return absl::InvalidArgumentError("payload: not a JSON object");

    AcceptResult result;
    const int64_t created = ToMicros(e.created);
    const int64_t now = ToMicros(clock_.Now());
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(
          int64_t n,
          txn.Exec("INSERT INTO webhook_inbox (provider, event_id, event_type, created_at,"
                   " received_at, payload, status, outcome) VALUES (?, ?, ?, ?, ?, ?,"
                   " 'received', '') ON CONFLICT (provider, event_id) DO NOTHING",
                   {e.provider, e.event_id, e.type, created, now, e.payload}));
      if (n == 0) {
        result.duplicate = true;
        return absl::OkStatus();
      }
      engine::JobSpec spec;
      spec.queue = "webhooks-inbound";
      spec.type = std::string(kInboundJobType);
      json::object p;
      p["provider"] = e.provider;
      p["eventId"] = e.event_id;
      spec.payload = json::serialize(p);
      spec.max_attempts = 10;
      HERALD_ASSIGN_OR_RETURN(engine::EnqueueResult job, engine_.Enqueue(txn, spec));
      result.job_id = job.id.ToString();
      return absl::OkStatus();
    }));
    return result;
  }

  void Subscribe(std::string type, DomainHandler handler) {
    absl::MutexLock l(&mu_);
    subscribers_.emplace_back(std::move(type), std::move(handler));
  }

  Result<std::vector<StoredEvent>> List(std::string_view provider, int limit) {
    if (limit < 1 || limit > 1000) return absl::InvalidArgumentError("limit: 1 to 1000");
    std::vector<StoredEvent> out;
    const int64_t n = limit;
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) {
      return txn.Query(
          "SELECT provider, event_id, event_type, created_at, received_at, status, outcome"
          " FROM webhook_inbox WHERE (? = '' OR provider = ?)"
          " ORDER BY received_at DESC, event_id DESC LIMIT ?",
          {provider, provider, n}, [&](const Row& r) {
            out.push_back(StoredEvent{std::string(r.Text(0)), std::string(r.Text(1)),
                                      std::string(r.Text(2)), FromMicros(r.Int(3)),
                                      FromMicros(r.Int(4)), std::string(r.Text(5)),
                                      std::string(r.Text(6))});
            return true;
          });
    }));
    return out;
  }

  Result<std::optional<PaymentState>> GetPayment(std::string_view key) {
    std::optional<PaymentState> out;
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) { return LoadPayment(txn, key, out); }));
    return out;
  }

 private:
  static Status LoadPayment(Txn& txn, std::string_view key, std::optional<PaymentState>& out) {
    return txn.Query(
        "SELECT payment_key, state, amount, amount_refunded, currency, last_event_id, updated_at"
        " FROM payment_states WHERE payment_key = ?",
        {key}, [&](const Row& r) {
          out = PaymentState{std::string(r.Text(0)),
                             std::string(r.Text(1)),
                             r.Int(2),
                             r.Int(3),
                             std::string(r.Text(4)),
                             std::string(r.Text(5)),
                             FromMicros(r.Int(6))};
          return false;
        });
  }

  Status Handle(engine::JobContext& job) {
    boost::system::error_code ec;
    const json::value v = json::parse(job.payload(), ec);
    if (ec || !v.is_object()) return absl::InvalidArgumentError("webhook.inbound: bad payload");
    const std::string provider = String(v.as_object(), "provider");
    const std::string event_id = String(v.as_object(), "eventId");
    return store_.Write([&](Txn& txn) -> Status {
      std::string type, payload, status;
      absl::Time created;
      HERALD_RETURN_IF_ERROR(
          txn.Query("SELECT event_type, payload, status, created_at FROM webhook_inbox"
                    " WHERE provider = ? AND event_id = ?",
                    {provider, event_id}, [&](const Row& r) {
                      type = r.Text(0);
                      payload = r.Text(1);
                      status = r.Text(2);
                      created = FromMicros(r.Int(3));
                      return false;
                    }));
      if (status != "received") return absl::OkStatus();  // gone, or handled by an earlier run
      std::string outcome;
      HERALD_ASSIGN_OR_RETURN(bool acted,
                              Translate(txn, provider, event_id, type, created, payload, outcome));
      return txn
          .Exec(
              "UPDATE webhook_inbox SET status = ?, outcome = ? WHERE provider = ? AND"
              " event_id = ?",
              {std::string_view(acted ? "handled" : "ignored"), outcome, provider, event_id})
          .status();
    });
  }

  // Applies one stored event; true if it changed something.
  Result<bool> Translate(Txn& txn, const std::string& provider, const std::string& event_id,
                         std::string_view type, absl::Time created, const std::string& payload,
                         std::string& outcome) {
    boost::system::error_code ec;
    const json::value v = json::parse(payload, ec);
    if (ec || !v.is_object()) {
      outcome = "unreadable payload";
      return false;
    }
    const json::object& body = v.as_object();
    if (provider == kTicketService) {
      if (type != "ticket.generated" && type != "ticket.completed") {
        outcome = "event type not handled";
        return false;
      }
      // Seed 002's event names its ticket; seed 003's its job.
      std::string entity = String(body, "ticket_id");
      if (const json::value* job = body.if_contains("jobId"); entity.empty() && job != nullptr) {
        entity = job->is_int64() ? StrCat(job->as_int64()) : String(body, "jobId");
      }
      DomainEvent d{std::string(type), provider, event_id, created, std::move(entity), payload};
      HERALD_RETURN_IF_ERROR(Emit(txn, d));
      outcome = StrCat("emitted ", type);
      return true;
    }
    if (provider != kStripe && provider != kPaymentService) {
      // A Standard Webhooks source: its event, relayed under its own type with its "data".
      const json::value* data = body.if_contains("data");
      DomainEvent d{std::string(type),
                    provider,
                    event_id,
                    created,
                    event_id,
                    data != nullptr && data->is_object() ? json::serialize(*data) : payload};
      HERALD_RETURN_IF_ERROR(Emit(txn, d));
      outcome = StrCat("emitted ", type);
      return true;
    }
    std::optional<Transition> t = provider == kStripe
                                      ? StripeTransition(type, body, outcome)
                                      : PaymentServiceTransition(type, body, outcome);
    if (!t) return false;

    std::optional<PaymentState> current;
    HERALD_RETURN_IF_ERROR(LoadPayment(txn, t->key, current));
    const Pay from = current ? ParsePay(current->state) : Pay::kNone;
    const int64_t refunded_before = current ? current->amount_refunded : 0;
    // A refund below what was paid is partial, whoever says it (the payment service's refund
    // names only the amount refunded so far).
    if (t->to == Pay::kRefunded && current && t->amount_refunded > 0 &&
        t->amount_refunded < current->amount) {
      t->to = Pay::kPartiallyRefunded;
    }
    if (!Allowed(from, t->to, refunded_before, t->amount_refunded)) {
      outcome = StrCat("payment ", t->key, " is ", PayName(from), ": ", PayName(t->to),
                       " would not move it forward");
      return false;
    }
    const int64_t amount = t->amount > 0 ? t->amount : (current ? current->amount : 0);
    const std::string currency = !t->currency.empty() ? t->currency
                                 : current            ? current->currency
                                                      : std::string();
    const std::string state(PayName(t->to));
    const int64_t now = ToMicros(clock_.Now());
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO payment_states (payment_key, state, amount, amount_refunded,"
                 " currency, last_event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                 " ON CONFLICT (payment_key) DO UPDATE SET state = excluded.state,"
                 " amount = excluded.amount, amount_refunded = excluded.amount_refunded,"
                 " currency = excluded.currency, last_event_id = excluded.last_event_id,"
                 " updated_at = excluded.updated_at",
                 {t->key, state, amount, t->amount_refunded, currency, event_id, now})
            .status());
    outcome = StrCat("payment ", t->key, ": ", PayName(from), " -> ", state);
    const std::string_view domain = DomainType(t->to);
    if (domain.empty()) return true;  // pending: nothing to announce yet

    json::object data;
    data["paymentKey"] = t->key;
    data["state"] = state;
    data["amount"] = amount;
    data["amountRefunded"] = t->amount_refunded;
    data["currency"] = currency;
    data["full"] = t->to == Pay::kRefunded;
    data["metadata"] = t->metadata;
    data["customer"] = t->customer;
    data["provider"] = provider;
    data["providerEventType"] = type;
    HERALD_RETURN_IF_ERROR(Emit(txn, DomainEvent{std::string(domain), provider, event_id, created,
                                                 t->key, json::serialize(data)}));
    outcome += StrCat(", emitted ", domain);
    return true;
  }

  Status Emit(Txn& txn, const DomainEvent& d) {
    std::vector<DomainHandler> handlers;
    {
      absl::MutexLock l(&mu_);
      for (const auto& [type, handler] : subscribers_) {
        if (type == "*" || type == d.type) handlers.push_back(handler);
      }
    }
    for (const DomainHandler& h : handlers) HERALD_RETURN_IF_ERROR(h(txn, d));
    if (outbound_ != nullptr) {
      OutboundEvent out;
      out.type = d.type;
      out.payload_json = d.data_json;
      HERALD_RETURN_IF_ERROR(outbound_->Publish(txn, out).status());
    }
    return absl::OkStatus();
  }

  store::Store& store_;
  engine::Engine& engine_;
  const core::Clock& clock_;
  Dispatcher* const outbound_;
  absl::Mutex mu_;
  std::vector<std::pair<std::string, DomainHandler>> subscribers_ ABSL_GUARDED_BY(mu_);
};

Status Inbox::Migrate(store::Store& store) { return store.Migrate("webhooks-inbox", kMigrations); }

Result<std::unique_ptr<Inbox>> Inbox::Create(store::Store& store, engine::Engine& engine,
                                             const core::Clock& clock, Dispatcher* outbound) {
  return std::unique_ptr<Inbox>(new Inbox(std::make_unique<Impl>(store, engine, clock, outbound)));
}

Inbox::Inbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Inbox::~Inbox() = default;

Result<AcceptResult> Inbox::Accept(const InboundEvent& event) { return impl_->Accept(event); }
void Inbox::Subscribe(std::string type, DomainHandler handler) {
  impl_->Subscribe(std::move(type), std::move(handler));
}
Result<std::vector<StoredEvent>> Inbox::List(std::string_view provider, int limit) {
  return impl_->List(provider, limit);
}
Result<std::optional<PaymentState>> Inbox::GetPayment(std::string_view key) {
  return impl_->GetPayment(key);
}

}  // namespace herald::webhooks
