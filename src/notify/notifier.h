#pragma once
// Notifier: accepts notifications, delivers them through the job engine, and answers for
// their status, history and statistics (seed 001 sections 4-6, seed 003 flow 4).
//
// Submit validates the request (channel, recipient, template, attachments), stores the
// notification as `pending` and enqueues its delivery job in the same transaction: once
// Submit returns, the notification is durable and will be attempted. Delivery jobs run on
// queue "notify.<channel>" (type "notify.deliver") with priority 10 for HIGH and 0 for
// NORMAL, so HIGH is picked first; `scheduled_at` delays the job.
//
// Delivery (one job attempt): the channel's providers are tried in configured priority
// order, `attempts_per_provider` attempts each (the engine's exponential backoff between
// attempts), then the next provider takes over; a provider whose circuit breaker is open is
// skipped. The status moves pending -> sending -> sent, or -> failed at once on a permanent
// error (the provider's code and message kept) or after the last attempt. Every attempt is
// recorded (provider, outcome, code, message, latency).
//
// Recipients: `to` is an address (email, E.164 number, chat target name), "contact:<id>" (the
// contact's address for the channel, locale and quiet hours), or for SubmitGroup
// "role:<ROLE>" (every contact with that role who has an address for the channel). A NORMAL
// notification to a contact with quiet hours that would go out inside them is scheduled for
// their end; a delivery to an address whose contact opted out of the channel fails at once
// with code "opted_out" (contacts.h).
//
// Provider rates: `notify.provider_rates` ("twilio=10,whatsapp=20") paces calls to a provider
// (RatePacer); SMTP has its own smtp_rate and chat webhooks pace per target.
//
// Idempotency: a request with an idempotency key (<= 255 bytes) that was seen before returns
// the notification created the first time and sends nothing more; the same key with a
// different request is AlreadyExists. Concurrent duplicates are serialised by the store's
// single writer: exactly one notification is created.
//
// Thread-safe.

#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "core/clock.h"
#include "core/config.h"
#include "core/id.h"
#include "core/status.h"
#include "engine/engine.h"
#include "notify/circuit_breaker.h"
#include "notify/contacts.h"
#include "notify/provider.h"
#include "notify/rate_pacer.h"
#include "notify/template_store.h"
#include "store/store.h"

namespace herald::notify {

inline constexpr std::string_view kDeliverJobType = "notify.deliver";
inline constexpr size_t kMaxIdempotencyKeyBytes = 255;
inline constexpr size_t kMaxAttachmentBytes = 10 << 20;  // decoded, all attachments together

struct AttachmentInput {
  std::string filename;
  std::string content_type;  // empty: guessed from the file name
  std::string data;          // raw bytes
};

struct SendRequest {
  Channel channel = Channel::kEmail;
  std::string to;
  std::string template_id;
  boost::json::object data;
  std::string locale;  // empty: the default locale
  bool high_priority = false;
  std::optional<absl::Time> scheduled_at;
  std::string idempotency_key;
  std::string subject;   // email: overrides the template's subject; chat: the title
  std::string reply_to;  // email
  // Email: attachments. WhatsApp: at most one, the media's file (uploaded to Meta).
  std::vector<AttachmentInput> attachments;
  // WhatsApp: a Meta-approved template (then `template_id` may be empty), or media (an image
  // or document, at `media->link` or in `attachments`; its caption defaults to the rendered
  // template).
  std::optional<WhatsAppTemplate> whatsapp_template;
  std::optional<Media> media;
  boost::json::object metadata;  // echoed in the status (e.g. eventId)
  std::string created_by;        // the caller's principal name
};

enum class NotificationStatus { kPending, kSending, kSent, kFailed, kDelivered, kBounced };
std::string_view StatusName(NotificationStatus s);  // "pending", "sending", ...
Result<NotificationStatus> ParseStatus(std::string_view name);

struct Attempt {
  int attempt = 0;
  std::string provider;
  std::string outcome;  // "sent", "retryable", "permanent", "skipped"
  std::string code;
  std::string message;
  absl::Duration latency;
  absl::Time at;
};

struct Notification {
  std::string id;
  Channel channel = Channel::kEmail;
  NotificationStatus status = NotificationStatus::kPending;
  std::string recipient;
  std::string template_id;
  std::string locale;
  std::string subject;  // as rendered (email), once attempted
  bool high_priority = false;
  std::string provider;
  std::string provider_message_id;
  int attempts = 0;
  std::string error_code;
  std::string error;
  std::string job_id;
  boost::json::object metadata;
  std::string created_by;
  std::string contact_id;       // when addressed to a contact
  bool quiet_deferred = false;  // scheduled after the contact's quiet hours
  absl::Time created_at;
  std::optional<absl::Time> scheduled_at;
  std::optional<absl::Time> sent_at;
  absl::Time updated_at;
  std::vector<Attempt> attempt_log;  // Get only
};

struct SubmitResult {
  Notification notification;
  bool replayed = false;  // an earlier request with the same idempotency key
};

struct HistoryFilter {
  std::optional<Channel> channel;
  std::optional<NotificationStatus> status;
  std::string recipient;
  std::string template_id;
  std::optional<absl::Time> from, to;  // created_at range, [from, to)
  std::string before_id;               // cursor: ids lower than this one (newest first)
  int limit = 50;                      // clamped to 1..500
};

struct ChannelStats {
  int64_t total = 0, pending = 0, sending = 0, sent = 0, delivered = 0, failed = 0, bounced = 0;
  double average_latency_ms = 0;  // created (or scheduled) to sent, over sent ones
};
struct Statistics {
  std::map<std::string, ChannelStats> by_channel;   // "email", ...
  std::map<std::string, ChannelStats> by_provider;  // "smtp", "log", ... (attempted ones)
  ChannelStats total;
};

// A provider's report on a message it accepted (Twilio's status callback, Meta's webhook).
struct DeliveryReport {
  std::string provider;  // "twilio", "whatsapp"
  std::string provider_message_id;
  NotificationStatus status = NotificationStatus::kDelivered;  // delivered, bounced or failed
  std::string code;
  std::string message;
};

struct ProviderHealth {
  std::string name;
  std::string channel;
  std::string breaker;  // closed, open, half_open
};

// Upper bounds (seconds) of the provider-call latency histogram.
inline constexpr double kProviderLatencyBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10,  30};

// Provider calls since start-up, per channel and provider (seed 001's per-channel and
// per-provider metrics).
struct ProviderMetrics {
  std::string channel;
  std::string provider;
  std::string breaker;
  int64_t sent = 0, retryable = 0, permanent = 0;
  int64_t latency_buckets[std::size(kProviderLatencyBuckets)] = {};  // not cumulative
  int64_t latency_count = 0;
  double latency_sum_seconds = 0;
};

class Notifier {
 public:
  static Status Migrate(store::Store& store);

  // `providers`: per channel, in priority order (they may be empty for a channel: its
  // requests fail with FailedPrecondition). Registers the delivery handler on `engine`
  // (call before engine.Start). Everything must outlive the Notifier.
  static Result<std::unique_ptr<Notifier>> Create(
      store::Store& store, engine::Engine& engine, TemplateStore& templates,
      const core::Clock& clock, const core::Config::Notify& config,
      std::map<Channel, std::vector<std::unique_ptr<Provider>>> providers);

  // InvalidArgument naming the field for a bad request; NotFound for an unknown template;
  // AlreadyExists for a reused idempotency key with a different request; FailedPrecondition
  // when the channel has no provider.
  Result<SubmitResult> Submit(const SendRequest& request);
  // `request.to` is "role:<ROLE>": one notification per contact with that role who has an
  // address for the channel and has not opted out of it, in contact id order (an empty list
  // when there is none). Each is submitted on its own; with an idempotency key K, contact C's
  // key is "K/C", so a repeated group request creates nothing new. InvalidArgument when `to`
  // is not a role.
  Result<std::vector<SubmitResult>> SubmitGroup(const SendRequest& request);

  // NotFound if there is no such notification.
  Result<Notification> Get(std::string_view id);
  Result<std::vector<Notification>> History(const HistoryFilter& filter);
  Result<Statistics> Stats(std::optional<absl::Time> from, std::optional<absl::Time> to);
  // A failed notification is attempted again from its first provider: FailedPrecondition
  // unless it is failed.
  Result<Notification> Retry(std::string_view id);
  // Twilio's delivery report (twilio_callback.h): verifies the signature against
  // notify.twilio_callback_url and twilio_auth_token, then moves the notification sent by
  // Twilio with that MessageSid forward: delivered -> delivered, undelivered -> bounced,
  // failed -> failed (with the ErrorCode). Only a sending or sent notification moves, so a
  // late or repeated report never moves a state backwards. Other statuses and unknown
  // messages are accepted and change nothing. NotFound when callbacks are not configured;
  // Unauthenticated for a missing or wrong signature; InvalidArgument for a malformed body.
  Status HandleTwilioCallback(std::string_view body, std::string_view signature);
  // Meta's WhatsApp webhook (meta_webhook.h): verifies X-Hub-Signature-256 with
  // notify.whatsapp_app_secret, then applies every status: delivered and read -> delivered,
  // failed -> failed (with Meta's error code); sent and deleted change nothing. NotFound when
  // no app secret is configured; Unauthenticated for a bad signature; InvalidArgument for a
  // malformed body.
  Status HandleWhatsAppCallback(std::string_view body, std::string_view signature);
  // The webhook subscription handshake: the challenge to echo. NotFound when no verify token
  // is configured; PermissionDenied for a wrong token; InvalidArgument for missing parameters.
  Result<std::string> VerifyWhatsAppSubscription(std::string_view mode, std::string_view token,
                                                 std::string_view challenge);
  // Moves the notification that `report.provider` sent as `provider_message_id` forward. Only a
  // sending or sent notification moves, so a late or repeated report never moves a state
  // backwards; reports on unknown messages change nothing.
  Status ApplyDeliveryReport(const DeliveryReport& report);

  ContactStore& contacts() { return contacts_; }

  std::vector<ProviderHealth> Providers() const;
  std::vector<ProviderMetrics> Metrics() const;

  // The email default From.
  const std::string& default_from() const { return config_.from; }

 private:
  struct ProviderSlot {
    std::unique_ptr<Provider> provider;
    std::unique_ptr<CircuitBreaker> breaker;
    std::unique_ptr<ProviderMetrics> metrics;  // guarded by metrics_mu_
    std::unique_ptr<RatePacer> pacer;          // null: unpaced
  };
  void Count(ProviderSlot& slot, SendResult::Outcome outcome, absl::Duration latency);
  Notifier(store::Store& store, engine::Engine& engine, TemplateStore& templates,
           const core::Clock& clock, core::Config::Notify config);
  Status Deliver(engine::JobContext& ctx);
  Result<OutboundMessage> Prepare(const Notification& n, const SendRequest& stored,
                                  std::string* subject);
  Status EnqueueDelivery(store::Txn& txn, Notification& n);  // sets n.job_id
  // Fills n's recipient, contact, locale and schedule from the request and the contact.
  Status ResolveRecipient(const SendRequest& request, Notification& n);

  store::Store& store_;
  engine::Engine& engine_;
  TemplateStore& templates_;
  const core::Clock& clock_;
  const core::Config::Notify config_;
  core::IdGenerator ids_;
  ContactStore contacts_;
  std::map<Channel, std::vector<ProviderSlot>> providers_;
  mutable absl::Mutex metrics_mu_;
};

}  // namespace herald::notify
