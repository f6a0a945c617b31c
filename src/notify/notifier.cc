#include "notify/notifier.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/log.h"
#include "core/strings.h"
#include "engine/job_table.h"
#include "net/http_client.h"
#include "notify/meta_webhook.h"
#include "notify/sms_providers.h"
#include "notify/twilio_callback.h"

namespace herald::notify {
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
    {1, "notifications", R"sql(
CREATE TABLE notifications (
  id                  TEXT PRIMARY KEY,
  channel             TEXT NOT NULL,
  status              TEXT NOT NULL,
  recipient           TEXT NOT NULL,
  template            TEXT NOT NULL,
  locale              TEXT NOT NULL,
  subject             TEXT NOT NULL DEFAULT '',
  high_priority       INTEGER NOT NULL,
  request             TEXT NOT NULL,
  provider            TEXT NOT NULL DEFAULT '',
  provider_message_id TEXT NOT NULL DEFAULT '',
  attempts            INTEGER NOT NULL DEFAULT 0,
  error_code          TEXT NOT NULL DEFAULT '',
  error               TEXT NOT NULL DEFAULT '',
  job_id              TEXT NOT NULL DEFAULT '',
  idempotency_key     TEXT UNIQUE,
  request_hash        TEXT NOT NULL DEFAULT '',
  metadata            TEXT NOT NULL DEFAULT '{}',
  created_by          TEXT NOT NULL DEFAULT '',
  created_at          INTEGER NOT NULL,
  scheduled_at        INTEGER,
  sent_at             INTEGER,
  updated_at          INTEGER NOT NULL
);
CREATE INDEX notifications_created ON notifications (created_at);
CREATE TABLE notification_attempts (
  notification_id TEXT NOT NULL,
  attempt         INTEGER NOT NULL,
  provider        TEXT NOT NULL,
  outcome         TEXT NOT NULL,
  code            TEXT NOT NULL,
  message         TEXT NOT NULL,
  latency_us      INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  PRIMARY KEY (notification_id, attempt, provider)
) WITHOUT ROWID;
CREATE TABLE notification_attachments (
  notification_id TEXT NOT NULL,
  position        INTEGER NOT NULL,
  filename        TEXT NOT NULL,
  content_type    TEXT NOT NULL,
  data_base64     TEXT NOT NULL,
  PRIMARY KEY (notification_id, position)
) WITHOUT ROWID;
CREATE TABLE notification_outbox (
  id              TEXT PRIMARY KEY,
  notification_id TEXT NOT NULL,
  channel         TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  attachments     TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);
)sql"},
    // Delivery reports find the notification by the provider's message id.
    {2, "notifications_by_provider_message", R"sql(
CREATE INDEX notifications_provider_message ON notifications (provider, provider_message_id);
)sql"},
    {3, "notifications_contacts", R"sql(
ALTER TABLE notifications ADD COLUMN contact_id TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN quiet_deferred INTEGER NOT NULL DEFAULT 0;
)sql"},
};

constexpr std::string_view kColumns =
    "id, channel, status, recipient, template, locale, subject, high_priority, provider,"
    " provider_message_id, attempts, error_code, error, job_id, metadata, created_by,"
    " created_at, scheduled_at, sent_at, updated_at, contact_id, quiet_deferred";
// The column after kColumns.
constexpr int kExtraColumn = 22;

Result<Notification> FromRow(const Row& r) {
  Notification n;
  n.id = r.Text(0);
  HERALD_ASSIGN_OR_RETURN(n.channel, ParseChannel(r.Text(1)));
  HERALD_ASSIGN_OR_RETURN(n.status, ParseStatus(r.Text(2)));
  n.recipient = r.Text(3);
  n.template_id = r.Text(4);
  n.locale = r.Text(5);
  n.subject = r.Text(6);
  n.high_priority = r.Int(7) != 0;
  n.provider = r.Text(8);
  n.provider_message_id = r.Text(9);
  n.attempts = static_cast<int>(r.Int(10));
  n.error_code = r.Text(11);
  n.error = r.Text(12);
  n.job_id = r.Text(13);
  boost::system::error_code ec;
  json::value meta = json::parse(r.Text(14), ec);
  if (!ec && meta.is_object()) n.metadata = std::move(meta.get_object());
  n.created_by = r.Text(15);
  n.created_at = FromMicros(r.Int(16));
  n.scheduled_at = RowTime(r, 17);
  n.sent_at = RowTime(r, 18);
  n.updated_at = FromMicros(r.Int(19));
  n.contact_id = r.Text(20);
  n.quiet_deferred = r.Int(21) != 0;
  return n;
}

// What delivery needs from the request besides the notification's columns.
json::object RequestJson(const SendRequest& r) {
  json::object o{{"data", r.data}, {"subject", r.subject}, {"replyTo", r.reply_to}};
  if (r.whatsapp_template) {
    json::array params;
    for (const std::string& p : r.whatsapp_template->body_parameters) params.emplace_back(p);
    o["whatsappTemplate"] = json::object{{"name", r.whatsapp_template->name},
                                         {"language", r.whatsapp_template->language},
                                         {"parameters", std::move(params)}};
  }
  if (r.media) {
    o["media"] = json::object{
        {"type", r.media->type}, {"link", r.media->link}, {"caption", r.media->caption}};
  }
  return o;
}

std::string StringMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The request fields RequestJson kept, back into `r`.
void LoadRequestJson(const json::object& o, SendRequest& r) {
  if (auto* d = o.if_contains("data"); d && d->is_object()) r.data = d->get_object();
  r.subject = StringMember(o, "subject");
  r.reply_to = StringMember(o, "replyTo");
  if (auto* t = o.if_contains("whatsappTemplate"); t && t->is_object()) {
    const json::object& to = t->get_object();
    WhatsAppTemplate wt{StringMember(to, "name"), StringMember(to, "language"), {}};
    if (auto* ps = to.if_contains("parameters"); ps && ps->is_array()) {
      for (const json::value& p : ps->get_array()) {
        if (p.is_string()) wt.body_parameters.emplace_back(p.get_string());
      }
    }
    r.whatsapp_template = std::move(wt);
  }
  if (auto* m = o.if_contains("media"); m && m->is_object()) {
    Media media;
    media.type = StringMember(m->get_object(), "type");
    media.link = StringMember(m->get_object(), "link");
    media.caption = StringMember(m->get_object(), "caption");
    r.media = std::move(media);
  }
}

std::string RequestHash(const SendRequest& r) {
  json::object o = RequestJson(r);
  o["channel"] = ChannelName(r.channel);
  o["to"] = r.to;
  o["template"] = r.template_id;
  o["locale"] = r.locale;
  o["high"] = r.high_priority;
  o["scheduledAt"] = r.scheduled_at ? ToMicros(*r.scheduled_at) : 0;
  json::array files;
  for (const AttachmentInput& a : r.attachments) {
    files.push_back(json::object{
        {"f", a.filename}, {"t", a.content_type}, {"d", absl::Base64Escape(ToAbsl(a.data))}});
  }
  o["attachments"] = std::move(files);
  // SHA-256: two different requests never pass for one another.
  const std::string text = json::serialize(o);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

constexpr std::string_view kContactPrefix = "contact:";
constexpr std::string_view kRolePrefix = "role:";

Status ValidateWhatsApp(const SendRequest& r) {
  if (r.whatsapp_template) {
    const WhatsAppTemplate& t = *r.whatsapp_template;
    if (!IsValidName(t.name)) {
      return absl::InvalidArgumentError("whatsapp.template.name: 1 to 128 of a-z 0-9 _");
    }
    if (!IsValidLocale(t.language)) {
      return absl::InvalidArgumentError("whatsapp.template.language: expected fr, en_US...");
    }
    if (t.body_parameters.size() > 100) {
      return absl::InvalidArgumentError("whatsapp.template.parameters: at most 100");
    }
    for (const std::string& p : t.body_parameters) {
      if (p.size() > 1024) {
        return absl::InvalidArgumentError("whatsapp.template.parameters: 1024 bytes each at most");
      }
    }
  }
  if (r.attachments.size() > 1) {
    return absl::InvalidArgumentError("attachments: a WhatsApp message carries one file");
  }
  if (r.media) {
    if (r.whatsapp_template) {
      return absl::InvalidArgumentError("whatsapp: a template or a media, not both");
    }
    if (r.media->type != "image" && r.media->type != "document") {
      return absl::InvalidArgumentError("whatsapp.media.type: expected image or document");
    }
    if (r.media->link.empty() == r.attachments.empty()) {
      return absl::InvalidArgumentError(
          "whatsapp.media: give either a link or one attachment (the file)");
    }
    if (!r.media->link.empty() && !r.media->link.starts_with("https://")) {
      return absl::InvalidArgumentError("whatsapp.media.link: must start with https://");
    }
    if (r.media->caption.size() > 1024) {
      return absl::InvalidArgumentError("whatsapp.media.caption: at most 1024 bytes");
    }
  } else if (!r.attachments.empty()) {
    return absl::InvalidArgumentError("whatsapp.media: required with an attachment");
  }
  return absl::OkStatus();
}

Status Validate(const SendRequest& r) {
  if (r.to.empty()) return absl::InvalidArgumentError("to: required");
  if (r.to.size() > 320) return absl::InvalidArgumentError("to: too long");
  const bool to_contact = r.to.starts_with(kContactPrefix);
  if (to_contact && !IsValidName(std::string_view(r.to).substr(kContactPrefix.size()))) {
    return absl::InvalidArgumentError("to: contact:<id> with a valid contact id");
  }
  if (r.to.starts_with(kRolePrefix)) {
    return absl::InvalidArgumentError("to: a role is a group: send it through the group path");
  }
  switch (r.channel) {
    case Channel::kEmail:
      if (!to_contact) {
        Result<MailAddress> a = ParseMailAddress(r.to);
        if (!a.ok()) return absl::InvalidArgumentError(StrCat("to: ", a.status().message()));
      }
      if (!r.reply_to.empty()) {
        Result<MailAddress> rt = ParseMailAddress(r.reply_to);
        if (!rt.ok()) return absl::InvalidArgumentError(StrCat("replyTo: ", rt.status().message()));
      }
      break;
    case Channel::kSms:
    case Channel::kWhatsApp:
      if (!to_contact && !IsE164(r.to)) {
        return absl::InvalidArgumentError(
            "to: expected an E.164 number such as +33612345678, or contact:<id>");
      }
      break;
    case Channel::kChat:
      if (!IsValidName(r.to)) {
        return absl::InvalidArgumentError("to: the name of a configured chat target");
      }
      break;
  }
  if (r.channel == Channel::kWhatsApp) {
    HERALD_RETURN_IF_ERROR(ValidateWhatsApp(r));
  } else {
    if (r.whatsapp_template || r.media) {
      return absl::InvalidArgumentError("whatsapp: only WhatsApp messages take these options");
    }
    if (r.channel != Channel::kEmail && !r.attachments.empty()) {
      return absl::InvalidArgumentError("attachments: only emails and WhatsApp carry files");
    }
  }
  if (r.template_id.empty() ? !r.whatsapp_template : !IsValidName(r.template_id)) {
    return absl::InvalidArgumentError("template: 1 to 128 characters of A-Z a-z 0-9 _ . : -");
  }
  if (!r.locale.empty() && !IsValidLocale(r.locale)) {
    return absl::InvalidArgumentError("locale: expected fr, en, fr-BE...");
  }
  if (r.idempotency_key.size() > kMaxIdempotencyKeyBytes) {
    return absl::InvalidArgumentError("idempotencyKey: at most 255 bytes");
  }
  size_t total = 0;
  for (const AttachmentInput& a : r.attachments) {
    if (a.filename.empty())
      return absl::InvalidArgumentError("attachments: a filename is required");
    total += a.data.size();
  }
  if (total > kMaxAttachmentBytes) {
    return absl::InvalidArgumentError("attachments: more than 10 MiB in total");
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view StatusName(NotificationStatus s) {
  switch (s) {
    case NotificationStatus::kPending:
      return "pending";
    case NotificationStatus::kSending:
      return "sending";
    case NotificationStatus::kSent:
      return "sent";
    case NotificationStatus::kFailed:
      return "failed";
    case NotificationStatus::kDelivered:
      return "delivered";
    case NotificationStatus::kBounced:
      return "bounced";
  }
  return "pending";
}

Result<NotificationStatus> ParseStatus(std::string_view name) {
  for (auto s : {NotificationStatus::kPending, NotificationStatus::kSending,
                 NotificationStatus::kSent, NotificationStatus::kFailed,
                 NotificationStatus::kDelivered, NotificationStatus::kBounced}) {
    if (StatusName(s) == name) return s;
  }
  return absl::InvalidArgumentError(
      "status: expected pending, sending, sent, failed, delivered or bounced");
}

Status Notifier::Migrate(store::Store& store) {
  HERALD_RETURN_IF_ERROR(TemplateStore::Migrate(store));
  HERALD_RETURN_IF_ERROR(ContactStore::Migrate(store));
  return store.Migrate("notify", kMigrations);
}

Notifier::Notifier(store::Store& store, engine::Engine& engine, TemplateStore& templates,
                   const core::Clock& clock, core::Config::Notify config)
    : store_(store),
      engine_(engine),
      templates_(templates),
      clock_(clock),
      config_(std::move(config)),
      ids_(clock),
      contacts_(store, clock) {}

Result<std::unique_ptr<Notifier>> Notifier::Create(
    store::Store& store, engine::Engine& engine, TemplateStore& templates, const core::Clock& clock,
    const core::Config::Notify& config,
    std::map<Channel, std::vector<std::unique_ptr<Provider>>> providers) {
  std::unique_ptr<Notifier> n(new Notifier(store, engine, templates, clock, config));
  std::map<std::string, int, std::less<>> rates;
  for (absl::string_view item :
       absl::StrSplit(ToAbsl(config.provider_rates), ',', absl::SkipEmpty())) {
    const size_t eq = item.find('=');
    int rate = 0;
    if (eq == absl::string_view::npos || !absl::SimpleAtoi(item.substr(eq + 1), &rate) ||
        rate < 0) {
      return absl::InvalidArgumentError("notify.provider_rates: expected name=rate pairs");
    }
    rates[std::string(item.substr(0, eq))] = rate;
  }
  for (auto& [channel, list] : providers) {
    for (auto& p : list) {
      if (p->channel() != channel) {
        return absl::InvalidArgumentError(
            StrCat("provider ", p->name(), " does not serve channel ", ChannelName(channel)));
      }
      auto metrics = std::make_unique<ProviderMetrics>();
      metrics->channel = std::string(ChannelName(channel));
      metrics->provider = p->name();
      std::unique_ptr<RatePacer> pacer;
      if (auto rate = rates.find(p->name()); rate != rates.end()) {
        if (rate->second > 0) pacer = std::make_unique<RatePacer>(clock, rate->second);
        rates.erase(rate);
      }
      n->providers_[channel].push_back(
          {std::move(p),
           std::make_unique<CircuitBreaker>(clock, config.breaker_failures,
                                            config.breaker_cooldown),
           std::move(metrics), std::move(pacer)});
    }
  }
  if (!rates.empty()) {
    return absl::InvalidArgumentError(
        StrCat("notify.provider_rates: no configured provider is named ", rates.begin()->first));
  }
  Notifier* self = n.get();
  engine.RegisterHandler(std::string(kDeliverJobType),
                         [self](engine::JobContext& ctx) { return self->Deliver(ctx); });
  return n;
}

Status Notifier::EnqueueDelivery(Txn& txn, Notification& n) {
  const auto& slots = providers_[n.channel];
  engine::JobSpec spec;
  spec.queue = StrCat("notify.", ChannelName(n.channel));
  spec.type = std::string(kDeliverJobType);
  spec.payload = json::serialize(json::object{{"id", n.id}});
  spec.priority = n.high_priority ? 10 : 0;
  spec.run_at = n.scheduled_at;
  spec.max_attempts = std::max(
      1, config_.attempts_per_provider * static_cast<int>(std::max<size_t>(1, slots.size())));
  spec.backoff.kind = engine::Backoff::Kind::kExponential;
  spec.backoff.base = absl::Seconds(2);
  spec.backoff.cap = absl::Minutes(5);
  spec.timeout = config_.smtp_timeout * 2;
  HERALD_ASSIGN_OR_RETURN(engine::EnqueueResult job, engine_.Enqueue(txn, spec));
  n.job_id = job.id.ToString();
  return txn.Exec("UPDATE notifications SET job_id = ? WHERE id = ?", {n.job_id, n.id}).status();
}

Result<SubmitResult> Notifier::Submit(const SendRequest& request) {
  HERALD_RETURN_IF_ERROR(Validate(request));
  if (providers_[request.channel].empty()) {
    return absl::FailedPreconditionError(
        StrCat("no provider is configured for ", ChannelName(request.channel)));
  }
  // The template must exist now rather than fail at delivery.
  if (!request.template_id.empty()) {
    HERALD_RETURN_IF_ERROR(
        templates_.Resolve(request.template_id, request.channel, request.locale).status());
  }

  const absl::Time now = clock_.Now();
  Notification n;
  n.id = ids_.Next().ToString();
  n.channel = request.channel;
  n.template_id = request.template_id;
  n.high_priority = request.high_priority;
  n.metadata = request.metadata;
  n.created_by = request.created_by;
  n.created_at = now;
  n.updated_at = now;
  HERALD_RETURN_IF_ERROR(ResolveRecipient(request, n));
  const std::string hash = request.idempotency_key.empty() ? "" : RequestHash(request);
  SubmitResult out;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    out = {};
    if (!request.idempotency_key.empty()) {
      std::optional<std::string> previous_hash;
      std::optional<Notification> previous;
      const Value key[] = {request.idempotency_key};
      HERALD_RETURN_IF_ERROR(
          txn.Query(StrCat("SELECT ", kColumns,
                           ", request_hash FROM notifications WHERE idempotency_key = ?"),
                    key, [&](const Row& r) {
                      Result<Notification> p = FromRow(r);
                      if (p.ok()) previous = std::move(*p);
                      previous_hash = std::string(r.Text(kExtraColumn));
                      return false;
                    }));
      if (previous_hash) {
        if (*previous_hash != hash || !previous) {
          return absl::AlreadyExistsError("idempotency key already used with a different request");
        }
        out.notification = std::move(*previous);
        out.replayed = true;
        return absl::OkStatus();
      }
    }
    // Values hold views: every string must outlive the statement.
    const std::string request_json = json::serialize(RequestJson(request));
    const std::string metadata_json = json::serialize(n.metadata);
    const Value params[] = {
        n.id,
        ChannelName(n.channel),
        StatusName(n.status),
        n.recipient,
        n.template_id,
        n.locale,
        int64_t{n.high_priority},
        request_json,
        request.idempotency_key.empty() ? Value(std::monostate()) : Value(request.idempotency_key),
        hash,
        metadata_json,
        n.created_by,
        ToMicros(now),
        OptTime(n.scheduled_at),
        ToMicros(now),
        n.contact_id,
        int64_t{n.quiet_deferred}};
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO notifications (id, channel, status, recipient, template, locale,"
                 " high_priority, request, idempotency_key, request_hash, metadata, created_by,"
                 " created_at, scheduled_at, updated_at, contact_id, quiet_deferred)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 params)
            .status());
    for (size_t i = 0; i < request.attachments.size(); ++i) {
      const AttachmentInput& a = request.attachments[i];
      const std::string encoded = absl::Base64Escape(ToAbsl(a.data));
      const Value ap[] = {n.id, static_cast<int64_t>(i), a.filename, a.content_type, encoded};
      HERALD_RETURN_IF_ERROR(txn.Exec("INSERT INTO notification_attachments (notification_id,"
                                      " position, filename, content_type, data_base64)"
                                      " VALUES (?, ?, ?, ?, ?)",
                                      ap)
                                 .status());
    }
    HERALD_RETURN_IF_ERROR(EnqueueDelivery(txn, n));
    out.notification = n;
    return absl::OkStatus();
  }));
  return out;
}

Status Notifier::ResolveRecipient(const SendRequest& request, Notification& n) {
  std::optional<Contact> contact;
  if (request.to.starts_with(kContactPrefix)) {
    HERALD_ASSIGN_OR_RETURN(
        Contact c, contacts_.Get(std::string_view(request.to).substr(kContactPrefix.size())));
    n.recipient = c.AddressFor(n.channel);
    if (n.recipient.empty()) {
      return absl::InvalidArgumentError(
          StrCat("to: contact ", c.id, " has no address for ", ChannelName(n.channel)));
    }
    contact = std::move(c);
  } else {
    n.recipient = request.to;
    HERALD_ASSIGN_OR_RETURN(contact, contacts_.FindByAddress(n.channel, n.recipient));
  }
  n.locale = request.locale;
  if (n.locale.empty() && contact) n.locale = contact->locale;
  if (n.locale.empty()) n.locale = config_.default_locale;
  n.scheduled_at = request.scheduled_at;
  if (contact) {
    n.contact_id = contact->id;
    if (!n.high_priority) {
      const absl::Time at = n.scheduled_at.value_or(n.created_at);
      const absl::Time allowed = ContactStore::NextAllowed(*contact, at);
      if (allowed > at) {
        n.scheduled_at = allowed;
        n.quiet_deferred = true;
      }
    }
  }
  return absl::OkStatus();
}

Result<std::vector<SubmitResult>> Notifier::SubmitGroup(const SendRequest& request) {
  if (!request.to.starts_with(kRolePrefix) ||
      !IsValidRole(std::string_view(request.to).substr(kRolePrefix.size()))) {
    return absl::InvalidArgumentError("to: role:<ROLE> such as role:OPERATIONS_MANAGER");
  }
  ContactFilter filter;
  filter.role = request.to.substr(kRolePrefix.size());
  filter.limit = 1000;
  std::vector<Contact> members;
  for (;;) {
    HERALD_ASSIGN_OR_RETURN(std::vector<Contact> page, contacts_.List(filter));
    if (page.empty()) break;
    filter.after_id = page.back().id;
    for (Contact& c : page) {
      if (!c.AddressFor(request.channel).empty() && !c.opted_out.contains(request.channel)) {
        members.push_back(std::move(c));
      }
    }
  }
  std::vector<SubmitResult> out;
  for (const Contact& c : members) {
    SendRequest one = request;
    one.to = StrCat(kContactPrefix, c.id);
    if (!request.idempotency_key.empty()) {
      one.idempotency_key = StrCat(request.idempotency_key, "/", c.id);
      if (one.idempotency_key.size() > kMaxIdempotencyKeyBytes) {
        return absl::InvalidArgumentError("idempotencyKey: too long for a group");
      }
    }
    HERALD_ASSIGN_OR_RETURN(SubmitResult r, Submit(one));
    out.push_back(std::move(r));
  }
  return out;
}

Result<Notification> Notifier::Get(std::string_view id) {
  std::optional<Notification> found;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value key[] = {id};
    HERALD_RETURN_IF_ERROR(
        store::QueryEach(txn, StrCat("SELECT ", kColumns, " FROM notifications WHERE id = ?"), key,
                         FromRow, [&](Notification&& n) {
                           found = std::move(n);
                           return false;
                         }));
    if (!found) return absl::OkStatus();
    return txn.Query(
        "SELECT attempt, provider, outcome, code, message, latency_us, at FROM"
        " notification_attempts WHERE notification_id = ? ORDER BY at, attempt",
        key, [&](const Row& r) {
          found->attempt_log.push_back({static_cast<int>(r.Int(0)), std::string(r.Text(1)),
                                        std::string(r.Text(2)), std::string(r.Text(3)),
                                        std::string(r.Text(4)), absl::Microseconds(r.Int(5)),
                                        FromMicros(r.Int(6))});
          return true;
        });
  }));
  if (!found) return absl::NotFoundError(StrCat("no notification ", id.substr(0, 64)));
  return *found;
}

Result<std::vector<Notification>> Notifier::History(const HistoryFilter& f) {
  std::string sql = StrCat("SELECT ", kColumns, " FROM notifications WHERE 1 = 1");
  std::vector<std::string> texts;
  std::vector<Value> params;
  texts.reserve(8);
  auto text = [&](std::string_view clause, std::string value) {
    sql += clause;
    texts.push_back(std::move(value));
    params.emplace_back(texts.back());
  };
  if (f.channel) text(" AND channel = ?", std::string(ChannelName(*f.channel)));
  if (f.status) text(" AND status = ?", std::string(StatusName(*f.status)));
  if (!f.recipient.empty()) text(" AND recipient = ?", f.recipient);
  if (!f.template_id.empty()) text(" AND template = ?", f.template_id);
  if (!f.before_id.empty()) text(" AND id < ?", f.before_id);
  if (f.from) {
    sql += " AND created_at >= ?";
    params.emplace_back(ToMicros(*f.from));
  }
  if (f.to) {
    sql += " AND created_at < ?";
    params.emplace_back(ToMicros(*f.to));
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(int64_t{std::clamp(f.limit, 1, 500)});
  std::vector<Notification> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<Notification>(txn, sql, params, FromRow));
    return absl::OkStatus();
  }));
  return out;
}

Result<Statistics> Notifier::Stats(std::optional<absl::Time> from, std::optional<absl::Time> to) {
  Statistics out;
  const Value params[] = {from ? ToMicros(*from) : std::numeric_limits<int64_t>::min(),
                          to ? ToMicros(*to) : std::numeric_limits<int64_t>::max()};
  // Latency sums (microseconds) and counts per stats entry; averaged at the end.
  std::map<ChannelStats*, std::pair<double, int64_t>> latency;
  auto add = [&](ChannelStats& s, std::string_view status, int64_t n, double latency_sum,
                 int64_t latency_n) {
    s.total += n;
    if (status == "pending") s.pending += n;
    if (status == "sending") s.sending += n;
    if (status == "sent") s.sent += n;
    if (status == "delivered") s.delivered += n;
    if (status == "failed") s.failed += n;
    if (status == "bounced") s.bounced += n;
    latency[&s].first += latency_sum;
    latency[&s].second += latency_n;
  };
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    return txn.Query(
        "SELECT channel, provider, status, count(*),"
        " coalesce(sum(CASE WHEN sent_at IS NOT NULL THEN sent_at - coalesce(scheduled_at,"
        " created_at) END), 0), count(sent_at)"
        " FROM notifications WHERE created_at >= ? AND created_at < ?"
        " GROUP BY channel, provider, status",
        params, [&](const Row& r) {
          const std::string channel(r.Text(0)), provider(r.Text(1)), status(r.Text(2));
          const int64_t n = r.Int(3);
          const double latency_sum = static_cast<double>(r.Int(4));
          const int64_t latency_n = r.Int(5);
          add(out.by_channel[channel], status, n, latency_sum, latency_n);
          if (!provider.empty()) add(out.by_provider[provider], status, n, latency_sum, latency_n);
          add(out.total, status, n, latency_sum, latency_n);
          return true;
        });
  }));
  for (auto& [stats, sum] : latency) {
    if (sum.second > 0) stats->average_latency_ms = sum.first / 1000.0 / sum.second;
  }
  return out;
}

Result<Notification> Notifier::Retry(std::string_view id) {
  HERALD_ASSIGN_OR_RETURN(Notification n, Get(id));
  if (n.status != NotificationStatus::kFailed) {
    return absl::FailedPreconditionError(StrCat("notification ", n.id, " is ", StatusName(n.status),
                                                ": only a failed one can be retried"));
  }
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        int64_t changed,
        txn.Exec("UPDATE notifications SET status = 'pending', error = '', error_code = '',"
                 " updated_at = ? WHERE id = ? AND status = 'failed'",
                 {ToMicros(clock_.Now()), n.id}));
    if (changed == 0) return absl::FailedPreconditionError("the notification changed meanwhile");
    n.scheduled_at.reset();
    return EnqueueDelivery(txn, n);
  }));
  return Get(id);
}

void Notifier::Count(ProviderSlot& slot, SendResult::Outcome outcome, absl::Duration latency) {
  const double seconds = absl::ToDoubleSeconds(latency);
  absl::MutexLock l(&metrics_mu_);
  ProviderMetrics& m = *slot.metrics;
  (outcome == SendResult::Outcome::kSent        ? m.sent
   : outcome == SendResult::Outcome::kPermanent ? m.permanent
                                                : m.retryable)++;
  const auto bucket = std::lower_bound(std::begin(kProviderLatencyBuckets),
                                       std::end(kProviderLatencyBuckets), seconds);
  if (bucket != std::end(kProviderLatencyBuckets)) {
    m.latency_buckets[bucket - std::begin(kProviderLatencyBuckets)]++;
  }
  m.latency_count++;
  m.latency_sum_seconds += seconds;
}

std::vector<ProviderMetrics> Notifier::Metrics() const {
  std::vector<ProviderMetrics> out;
  absl::MutexLock l(&metrics_mu_);
  for (const auto& [channel, slots] : providers_) {
    for (const ProviderSlot& s : slots) {
      out.push_back(*s.metrics);
      out.back().breaker = std::string(CircuitBreaker::StateName(s.breaker->state()));
    }
  }
  return out;
}

Status Notifier::HandleTwilioCallback(std::string_view body, std::string_view signature) {
  if (config_.twilio_callback_url.empty() || config_.twilio_auth_token.empty()) {
    return absl::NotFoundError("Twilio delivery callbacks are not configured");
  }
  HERALD_ASSIGN_OR_RETURN(FormParams params, net::FormDecode(body));
  if (!VerifyTwilioSignature(config_.twilio_auth_token, config_.twilio_callback_url, params,
                             signature)) {
    return absl::UnauthenticatedError("bad or missing X-Twilio-Signature");
  }
  HERALD_ASSIGN_OR_RETURN(TwilioStatus twilio, ParseTwilioStatus(params));
  DeliveryReport report{"twilio", twilio.message_sid, NotificationStatus::kDelivered,
                        twilio.error_code, ""};
  if (twilio.status == "undelivered") report.status = NotificationStatus::kBounced;
  if (twilio.status == "failed") report.status = NotificationStatus::kFailed;
  if (twilio.status != "delivered" && twilio.status != "undelivered" && twilio.status != "failed") {
    return absl::OkStatus();
  }
  if (!twilio.error_code.empty()) report.message = StrCat("Twilio reported ", twilio.status);
  return ApplyDeliveryReport(report);
}

Status Notifier::HandleWhatsAppCallback(std::string_view body, std::string_view signature) {
  if (config_.whatsapp_app_secret.empty()) {
    return absl::NotFoundError("WhatsApp status webhooks are not configured");
  }
  if (!VerifyHubSignature(config_.whatsapp_app_secret, body, signature)) {
    return absl::UnauthenticatedError("bad or missing X-Hub-Signature-256");
  }
  HERALD_ASSIGN_OR_RETURN(std::vector<WhatsAppStatus> statuses, ParseWhatsAppStatuses(body));
  for (const WhatsAppStatus& st : statuses) {
    DeliveryReport report{"whatsapp", st.message_id, NotificationStatus::kDelivered, st.error_code,
                          st.error_message};
    if (st.status == "failed") {
      report.status = NotificationStatus::kFailed;
    } else if (st.status != "delivered" && st.status != "read") {
      continue;  // sent, deleted: nothing to record
    }
    HERALD_RETURN_IF_ERROR(ApplyDeliveryReport(report));
  }
  return absl::OkStatus();
}

Result<std::string> Notifier::VerifyWhatsAppSubscription(std::string_view mode,
                                                         std::string_view token,
                                                         std::string_view challenge) {
  if (config_.whatsapp_verify_token.empty()) {
    return absl::NotFoundError("WhatsApp status webhooks are not configured");
  }
  return VerifySubscription(config_.whatsapp_verify_token, mode, token, challenge);
}

Status Notifier::ApplyDeliveryReport(const DeliveryReport& report) {
  const std::string message = report.message.substr(0, 1000);
  const Value params[] = {StatusName(report.status), report.code,     message,
                          ToMicros(clock_.Now()),    report.provider, report.provider_message_id};
  return store_.Write([&](Txn& txn) {
    return txn
        .Exec(
            "UPDATE notifications SET status = ?, error_code = ?, error = ?, updated_at = ?"
            " WHERE provider = ? AND provider_message_id = ? AND provider_message_id <> ''"
            " AND status IN ('sending', 'sent')",
            params)
        .status();
  });
}

std::vector<ProviderHealth> Notifier::Providers() const {
  std::vector<ProviderHealth> out;
  for (const auto& [channel, slots] : providers_) {
    for (const ProviderSlot& s : slots) {
      out.push_back({s.provider->name(), std::string(ChannelName(channel)),
                     std::string(CircuitBreaker::StateName(s.breaker->state()))});
    }
  }
  return out;
}

Result<OutboundMessage> Notifier::Prepare(const Notification& n, const SendRequest& stored,
                                          std::string* subject) {
  Rendered r;
  if (!n.template_id.empty()) {
    json::value data = stored.data;
    HERALD_ASSIGN_OR_RETURN(r, templates_.Render(n.template_id, n.channel, n.locale, data));
  }
  if (!r.missing.empty()) {
    core::LogDebug("notification template has missing variables",
                   {{"notification_id", n.id},
                    {"template", n.template_id},
                    {"missing", absl::StrJoin(r.missing, ",")}});
  }
  OutboundMessage m;
  m.notification_id = n.id;
  m.channel = n.channel;
  m.recipient = n.recipient;
  if (n.channel == Channel::kEmail) {
    HERALD_ASSIGN_OR_RETURN(m.mail.from, ParseMailAddress(config_.from));
    HERALD_ASSIGN_OR_RETURN(MailAddress to, ParseMailAddress(n.recipient));
    m.mail.to.push_back(std::move(to));
    if (!stored.reply_to.empty()) {
      HERALD_ASSIGN_OR_RETURN(MailAddress rt, ParseMailAddress(stored.reply_to));
      m.mail.reply_to = std::move(rt);
    }
    m.mail.subject = stored.subject.empty() ? r.output.subject : stored.subject;
    m.mail.html = r.output.html;
    m.mail.text = r.output.text;
    for (const AttachmentInput& a : stored.attachments) {
      Attachment att;
      att.filename = a.filename;
      att.content_type = a.content_type;
      att.data = a.data;
      m.mail.attachments.push_back(std::move(att));
    }
    *subject = m.mail.subject;
  } else {
    m.text = r.output.body;
  }
  if (n.channel == Channel::kChat) m.title = stored.subject;
  if (n.channel == Channel::kWhatsApp) {
    m.whatsapp_template = stored.whatsapp_template;
    if (stored.media) {
      m.media = stored.media;
      if (!stored.attachments.empty()) {
        const AttachmentInput& a = stored.attachments.front();
        m.media->file.filename = a.filename;
        m.media->file.content_type =
            a.content_type.empty() ? std::string(GuessContentType(a.filename)) : a.content_type;
        m.media->file.data = a.data;
      }
      if (m.media->caption.empty()) m.media->caption = m.text;
    }
  }
  return m;
}

Status Notifier::Deliver(engine::JobContext& ctx) {
  boost::system::error_code ec;
  json::value payload = json::parse(ctx.payload(), ec);
  if (ec || !payload.is_object() || !payload.as_object().contains("id") ||
      !payload.at("id").is_string()) {
    return absl::InvalidArgumentError("notify.deliver: the payload needs an id");
  }
  const std::string id(payload.at("id").as_string());
  // The notification, its request fields and attachments, in one read (not the attempt log).
  std::optional<Notification> loaded;
  SendRequest stored;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value key[] = {id};
    Status row_status;
    HERALD_RETURN_IF_ERROR(
        txn.Query(StrCat("SELECT ", kColumns, ", request FROM notifications WHERE id = ?"), key,
                  [&](const Row& r) {
                    Result<Notification> n = FromRow(r);
                    if (!n.ok()) {
                      row_status = n.status();
                      return false;
                    }
                    loaded = std::move(*n);
                    boost::system::error_code e;
                    json::value v = json::parse(r.Text(kExtraColumn), e);
                    if (!e && v.is_object()) LoadRequestJson(v.get_object(), stored);
                    return false;
                  }));
    HERALD_RETURN_IF_ERROR(row_status);
    if (!loaded) return absl::OkStatus();
    return txn.Query(
        "SELECT filename, content_type, data_base64 FROM notification_attachments"
        " WHERE notification_id = ? ORDER BY position",
        key, [&](const Row& r) {
          AttachmentInput a{std::string(r.Text(0)), std::string(r.Text(1)), ""};
          absl::Base64Unescape(ToAbsl(r.Text(2)), &a.data);
          stored.attachments.push_back(std::move(a));
          return true;
        });
  }));
  if (!loaded) return absl::NotFoundError(StrCat("no notification ", id.substr(0, 64)));
  const Notification& n = *loaded;
  if (n.status != NotificationStatus::kPending && n.status != NotificationStatus::kSending) {
    return absl::OkStatus();  // already settled (a redelivered job)
  }

  const int attempt = ctx.attempt();
  const bool last = attempt >= ctx.max_attempts();
  std::vector<ProviderSlot>& slots = providers_[n.channel];
  if (slots.empty()) return absl::FailedPreconditionError("no provider for this channel");

  // Writes the attempt and the notification's new state in one transaction.
  auto settle = [&](const std::string& provider, std::string_view outcome, const SendResult& r,
                    absl::Duration latency, NotificationStatus status,
                    const std::string& subject) -> Status {
    const absl::Time at = clock_.Now();
    return store_.Write([&](Txn& txn) -> Status {
      const std::string message = r.message.substr(0, 1000);
      const Value ap[] = {id,
                          int64_t{attempt},
                          provider,
                          outcome,
                          r.code,
                          message,
                          absl::ToInt64Microseconds(latency),
                          ToMicros(at)};
      HERALD_RETURN_IF_ERROR(
          txn.Exec("INSERT OR REPLACE INTO notification_attempts (notification_id, attempt,"
                   " provider, outcome, code, message, latency_us, at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   ap)
              .status());
      const bool sent = status == NotificationStatus::kSent;
      const Value np[] = {StatusName(status),
                          provider,
                          sent ? Value(r.provider_message_id) : Value(""),
                          int64_t{attempt},
                          sent ? Value("") : Value(r.code),
                          sent ? Value("") : Value(message),
                          sent ? Value(ToMicros(at)) : Value(std::monostate()),
                          subject,
                          ToMicros(at),
                          id};
      return txn
          .Exec(
              "UPDATE notifications SET status = ?, provider = ?, provider_message_id = ?,"
              " attempts = ?, error_code = ?, error = ?, sent_at = ?,"
              " subject = CASE WHEN ? = '' THEN subject ELSE ?8 END, updated_at = ?"
              " WHERE id = ?",
              np)
          .status();
    });
  };

  // The recipient's contact may have opted out of this channel since the request.
  HERALD_ASSIGN_OR_RETURN(std::optional<Contact> contact,
                          contacts_.FindByAddress(n.channel, n.recipient));
  if (contact && contact->opted_out.contains(n.channel)) {
    const SendResult r = SendResult::Permanent(
        "opted_out", StrCat("the recipient opted out of ", ChannelName(n.channel), " messages"));
    HERALD_RETURN_IF_ERROR(
        settle("", "permanent", r, absl::ZeroDuration(), NotificationStatus::kFailed, ""));
    return absl::FailedPreconditionError(r.message);
  }

  // Which provider: attempts_per_provider each, in order; skip the ones whose circuit is open.
  const size_t first = std::min(static_cast<size_t>((attempt - 1) / config_.attempts_per_provider),
                                slots.size() - 1);
  ProviderSlot* slot = nullptr;
  for (size_t i = first; i < slots.size() && slot == nullptr; ++i) {
    if (slots[i].breaker->Allow()) slot = &slots[i];
  }
  if (slot == nullptr) {
    const SendResult r =
        SendResult::Retryable("circuit_open", "every remaining provider's circuit is open");
    HERALD_RETURN_IF_ERROR(settle("", "skipped", r, absl::ZeroDuration(),
                                  last ? NotificationStatus::kFailed : NotificationStatus::kPending,
                                  ""));
    return absl::UnavailableError(r.message);
  }
  const std::string& provider = slot->provider->name();

  std::string subject;
  Result<OutboundMessage> message = Prepare(n, stored, &subject);
  if (!message.ok()) {
    // A broken template or address fails now: retrying cannot fix it.
    slot->breaker->RecordSuccess();  // the provider was not at fault
    const SendResult r =
        SendResult::Permanent("render_failed", std::string(message.status().message()));
    HERALD_RETURN_IF_ERROR(
        settle(provider, "permanent", r, absl::ZeroDuration(), NotificationStatus::kFailed, ""));
    return absl::InvalidArgumentError(r.message);
  }
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) {
    return txn
        .Exec("UPDATE notifications SET status = 'sending', updated_at = ? WHERE id = ?",
              {ToMicros(clock_.Now()), id})
        .status();
  }));

  if (slot->pacer) slot->pacer->Wait();
  const absl::Time started = clock_.Now();
  const SendResult r = slot->provider->Send(*message);
  const absl::Duration latency = clock_.Now() - started;
  Count(*slot, r.outcome, latency);
  switch (r.outcome) {
    case SendResult::Outcome::kSent:
      slot->breaker->RecordSuccess();
      return settle(provider, "sent", r, latency, NotificationStatus::kSent, subject);
    case SendResult::Outcome::kPermanent:
      slot->breaker->RecordSuccess();  // the provider answered; the message is at fault
      HERALD_RETURN_IF_ERROR(
          settle(provider, "permanent", r, latency, NotificationStatus::kFailed, subject));
      return absl::InvalidArgumentError(StrCat(provider, " refused: ", r.code, " ", r.message));
    case SendResult::Outcome::kRetryable:
      break;
  }
  slot->breaker->RecordFailure();
  core::LogWarn("notification attempt failed", {{"notification_id", id},
                                                {"provider", provider},
                                                {"attempt", attempt},
                                                {"code", r.code},
                                                {"error", r.message}});
  HERALD_RETURN_IF_ERROR(settle(provider, "retryable", r, latency,
                                last ? NotificationStatus::kFailed : NotificationStatus::kPending,
                                subject));
  return absl::UnavailableError(StrCat(provider, ": ", r.code, " ", r.message));
}

}  // namespace herald::notify
