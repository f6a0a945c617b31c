#include "notify/notifier.h"

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "notify/log_provider.h"
#include "notify/meta_webhook.h"
#include "notify/twilio_callback.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::notify {
namespace {

// A provider that answers from a script, and records what it was asked to send.
class ScriptedProvider final : public Provider {
 public:
  ScriptedProvider(std::string name, Channel channel) : name_(std::move(name)), channel_(channel) {}
  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }
  SendResult Send(const OutboundMessage& m) override {
    absl::MutexLock l(&mu_);
    sent_.push_back(m);
    if (script_.empty()) return SendResult::Sent(StrCat(name_, "-", sent_.size()));
    SendResult r = script_.front();
    script_.pop_front();
    return r;
  }
  void Then(SendResult r) {
    absl::MutexLock l(&mu_);
    script_.push_back(std::move(r));
  }
  std::vector<OutboundMessage> sent() {
    absl::MutexLock l(&mu_);
    return sent_;
  }

 private:
  const std::string name_;
  const Channel channel_;
  absl::Mutex mu_;
  std::deque<SendResult> script_ ABSL_GUARDED_BY(mu_);
  std::vector<OutboundMessage> sent_ ABSL_GUARDED_BY(mu_);
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions o;
    o.path = dir_.File("notify.db");
    store_ = std::move(store::SqliteStore::Open(o)).value();
    ASSERT_TRUE(engine::Engine::Migrate(*store_).ok());
    ASSERT_TRUE(Notifier::Migrate(*store_).ok());
    config_.attempts_per_provider = 2;
    config_.breaker_failures = 3;
    config_.breaker_cooldown = absl::Seconds(30);
  }

  void Start(std::unique_ptr<Provider> sms = nullptr) {
    engine_ = std::move(engine::Engine::Create(*store_, clock_, {})).value();
    templates_ = std::move(TemplateStore::Create(*store_, clock_, "fr")).value();
    auto primary = std::make_unique<ScriptedProvider>("primary", Channel::kEmail);
    auto backup = std::make_unique<ScriptedProvider>("backup", Channel::kEmail);
    primary_ = primary.get();
    backup_ = backup.get();
    std::map<Channel, std::vector<std::unique_ptr<Provider>>> providers;
    providers[Channel::kEmail].push_back(std::move(primary));
    providers[Channel::kEmail].push_back(std::move(backup));
    providers[Channel::kSms].push_back(
        sms ? std::move(sms) : std::make_unique<LogProvider>(Channel::kSms, *store_, clock_));
    if (messaging_) {
      auto whatsapp = std::make_unique<ScriptedProvider>("whatsapp", Channel::kWhatsApp);
      auto chat = std::make_unique<ScriptedProvider>("webhook", Channel::kChat);
      whatsapp_ = whatsapp.get();
      chat_ = chat.get();
      providers[Channel::kWhatsApp].push_back(std::move(whatsapp));
      providers[Channel::kChat].push_back(std::move(chat));
    }
    auto n =
        Notifier::Create(*store_, *engine_, *templates_, clock_, config_, std::move(providers));
    ASSERT_TRUE(n.ok()) << n.status();
    notifier_ = std::move(*n);
    ASSERT_TRUE(engine_->Start(false).ok());
  }

  SendRequest Email(std::string to = "jean@example.com") {
    SendRequest r;
    r.to = std::move(to);
    r.template_id = "ticket_generated";
    r.data = {{"guest_name", "Jean"},
              {"event_title", "Fête de la Musique"},
              {"ticket_url", "https://example.com/t/1"}};
    return r;
  }

  Notification Submit(const SendRequest& r) {
    auto s = notifier_->Submit(r);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? s->notification : Notification{};
  }
  Notification Load(const std::string& id) { return *notifier_->Get(id); }
  // Runs what is due, then moves the clock past any backoff and runs again, `rounds` times.
  void RunRounds(int rounds) {
    for (int i = 0; i < rounds; ++i) {
      engine_->RunDue();
      clock_.Advance(absl::Minutes(10));
    }
    engine_->RunDue();
  }

  testing::TempDir dir_;
  core::ManualClock clock_;
  core::Config::Notify config_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<TemplateStore> templates_;
  std::unique_ptr<Notifier> notifier_;
  ScriptedProvider* primary_ = nullptr;
  ScriptedProvider* backup_ = nullptr;
  bool messaging_ = false;  // Start adds WhatsApp and chat providers
  ScriptedProvider* whatsapp_ = nullptr;
  ScriptedProvider* chat_ = nullptr;
};

TEST_F(NotifierTest, RendersTheTemplateAndSendsThroughTheFirstProvider) {
  Start();
  Notification n = Submit(Email());
  EXPECT_EQ(n.status, NotificationStatus::kPending);
  EXPECT_EQ(engine_->RunDue(), 1);
  Notification after = Load(n.id);
  EXPECT_EQ(after.status, NotificationStatus::kSent);
  EXPECT_EQ(after.provider, "primary");
  EXPECT_EQ(after.provider_message_id, "primary-1");
  EXPECT_EQ(after.subject, "Vos billets pour Fête de la Musique sont prêts");
  const std::vector<OutboundMessage> sent = primary_->sent();
  ASSERT_EQ(sent.size(), 1u);
  const MailMessage& mail = sent[0].mail;
  EXPECT_EQ(mail.to.at(0).email, "jean@example.com");
  EXPECT_EQ(mail.from.email, "no-reply@herald.local");
  EXPECT_NE(mail.html.find("<strong>Fête de la Musique</strong>"), std::string::npos);
  EXPECT_NE(mail.text.find("Bonjour Jean,"), std::string::npos);
  ASSERT_EQ(after.attempt_log.size(), 1u);
  EXPECT_EQ(after.attempt_log[0].outcome, "sent");
}

TEST_F(NotifierTest, FallsBackToEnglishAndHonoursTheRequestedLocale) {
  Start();
  SendRequest r = Email();
  r.locale = "en-GB";
  Notification n = Submit(r);
  engine_->RunDue();
  EXPECT_EQ(Load(n.id).subject, "Your tickets for Fête de la Musique are ready");
  EXPECT_EQ(templates_->LocaleChain("fr-BE"), (std::vector<std::string>{"fr-BE", "fr", "en"}));
}

TEST_F(NotifierTest, RetriesAProviderThenFailsOverToTheNext) {
  Start();
  primary_->Then(SendResult::Retryable("421", "try later"));
  primary_->Then(SendResult::Retryable("421", "try later"));
  Notification n = Submit(Email());
  engine_->RunDue();
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kPending);
  EXPECT_EQ(Load(n.id).error_code, "421");
  RunRounds(2);
  Notification after = Load(n.id);
  EXPECT_EQ(after.status, NotificationStatus::kSent);
  EXPECT_EQ(after.provider, "backup");
  EXPECT_EQ(primary_->sent().size(), 2u);  // attempts_per_provider
  EXPECT_EQ(backup_->sent().size(), 1u);
  ASSERT_EQ(after.attempt_log.size(), 3u);
  EXPECT_EQ(after.attempt_log[2].provider, "backup");
}

TEST_F(NotifierTest, PermanentErrorsFailAtOnceWithTheProvidersCode) {
  Start();
  primary_->Then(SendResult::Permanent("550", "5.1.1 mailbox unavailable"));
  Notification n = Submit(Email());
  RunRounds(3);
  Notification after = Load(n.id);
  EXPECT_EQ(after.status, NotificationStatus::kFailed);
  EXPECT_EQ(after.error_code, "550");
  EXPECT_EQ(after.error, "5.1.1 mailbox unavailable");
  EXPECT_EQ(primary_->sent().size(), 1u);
  EXPECT_TRUE(backup_->sent().empty());

  // A failed notification can be sent again.
  auto retried = notifier_->Retry(n.id);
  ASSERT_TRUE(retried.ok()) << retried.status();
  engine_->RunDue();
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kSent);
  EXPECT_EQ(notifier_->Retry(n.id).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(NotifierTest, FailsAfterEveryProviderIsExhausted) {
  Start();
  for (int i = 0; i < 2; ++i) primary_->Then(SendResult::Retryable("curl_7", "refused"));
  for (int i = 0; i < 2; ++i) backup_->Then(SendResult::Retryable("503", "down"));
  Notification n = Submit(Email());
  RunRounds(5);
  Notification after = Load(n.id);
  EXPECT_EQ(after.status, NotificationStatus::kFailed);
  EXPECT_EQ(after.error_code, "503");
  EXPECT_EQ(after.attempts, 4);
}

TEST_F(NotifierTest, AnOpenCircuitSkipsTheProviderUntilItsCooldown) {
  Start();
  // Three notifications fail once each on the primary: its circuit opens.
  for (int i = 0; i < 3; ++i) primary_->Then(SendResult::Retryable("421", "busy"));
  for (int i = 0; i < 3; ++i) Submit(Email(StrCat("u", i, "@example.com")));
  engine_->RunDue();
  EXPECT_EQ(primary_->sent().size(), 3u);
  auto providers = notifier_->Providers();
  EXPECT_EQ(providers[0].breaker, "open");
  // New mail goes straight to the backup while the circuit is open.
  Notification n = Submit(Email("fresh@example.com"));
  engine_->RunDue();
  EXPECT_EQ(Load(n.id).provider, "backup");
  EXPECT_EQ(primary_->sent().size(), 3u);
  // After the cooldown one trial goes through; its success closes the circuit.
  clock_.Advance(absl::Seconds(31));
  Notification later = Submit(Email("later@example.com"));
  engine_->RunDue();
  EXPECT_EQ(Load(later.id).provider, "primary");
  EXPECT_EQ(notifier_->Providers()[0].breaker, "closed");
}

TEST_F(NotifierTest, HighPriorityIsSentBeforeNormal) {
  Start();
  Notification normal = Submit(Email("normal@example.com"));
  SendRequest urgent = Email("urgent@example.com");
  urgent.high_priority = true;
  Submit(urgent);
  engine_->RunDue();
  auto sent = primary_->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].recipient, "urgent@example.com");
  EXPECT_EQ(sent[1].recipient, normal.recipient);
}

TEST_F(NotifierTest, ScheduledNotificationsWaitForTheirTime) {
  Start();
  SendRequest r = Email();
  r.scheduled_at = clock_.Now() + absl::Hours(2);
  Notification n = Submit(r);
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(engine_->RunDue(), 1);
  Notification after = Load(n.id);
  EXPECT_EQ(after.status, NotificationStatus::kSent);
  EXPECT_EQ(*after.sent_at, clock_.Now());
}

TEST_F(NotifierTest, IdempotencyKeysReturnTheFirstNotification) {
  Start();
  SendRequest r = Email();
  r.idempotency_key = "order-42";
  Notification first = Submit(r);
  auto again = notifier_->Submit(r);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->notification.id, first.id);
  SendRequest other = Email("someone.else@example.com");
  other.idempotency_key = "order-42";
  EXPECT_EQ(notifier_->Submit(other).status().code(), absl::StatusCode::kAlreadyExists);
  engine_->RunDue();
  EXPECT_EQ(primary_->sent().size(), 1u);
}

TEST_F(NotifierTest, ConcurrentDuplicatesCreateOneNotification) {
  Start();
  SendRequest r = Email();
  r.idempotency_key = "same-key";
  std::vector<std::thread> threads;
  std::atomic<int> replayed{0}, created{0};
  std::vector<std::string> ids(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto s = notifier_->Submit(r);
      ASSERT_TRUE(s.ok()) << s.status();
      ids[i] = s->notification.id;
      (s->replayed ? replayed : created)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(replayed.load(), 7);
  for (const std::string& id : ids) EXPECT_EQ(id, ids[0]);
  engine_->RunDue();
  EXPECT_EQ(primary_->sent().size(), 1u);
}

TEST_F(NotifierTest, BadRequestsAreRefusedAndStoreNothing) {
  Start();
  SendRequest bad = Email("not an address");
  EXPECT_EQ(notifier_->Submit(bad).status().code(), absl::StatusCode::kInvalidArgument);
  SendRequest unknown = Email();
  unknown.template_id = "no-such-template";
  EXPECT_EQ(notifier_->Submit(unknown).status().code(), absl::StatusCode::kNotFound);
  SendRequest sms_file = Email();
  sms_file.channel = Channel::kSms;
  sms_file.to = "+33612345678";
  sms_file.template_id = "booking-confirmation-sms";
  sms_file.attachments.push_back({"a.pdf", "", "x"});
  EXPECT_EQ(notifier_->Submit(sms_file).status().code(), absl::StatusCode::kInvalidArgument);
  SendRequest whatsapp = Email();
  whatsapp.channel = Channel::kWhatsApp;
  EXPECT_EQ(notifier_->Submit(whatsapp).status().code(), absl::StatusCode::kInvalidArgument);
  whatsapp.to = "+33612345678";
  EXPECT_EQ(notifier_->Submit(whatsapp).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(notifier_->History({})->empty());
}

TEST_F(NotifierTest, AttachmentsReachTheProviderByteForByte) {
  Start();
  SendRequest r = Email();
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; i < 256; ++i) pdf.push_back(static_cast<char>(i));
  r.attachments.push_back({"billet-été.pdf", "application/pdf", pdf});
  Submit(r);
  engine_->RunDue();
  const std::vector<OutboundMessage> sent = primary_->sent();
  ASSERT_EQ(sent.size(), 1u);
  const auto& files = sent[0].mail.attachments;
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename, "billet-été.pdf");
  EXPECT_EQ(files[0].data, pdf);
}

TEST_F(NotifierTest, HistoryAndStatisticsCountByChannelAndProvider) {
  Start();
  primary_->Then(SendResult::Permanent("550", "no such user"));
  Submit(Email("a@example.com"));
  Submit(Email("b@example.com"));
  SendRequest sms;
  sms.channel = Channel::kSms;
  sms.to = "+33612345678";
  sms.template_id = "booking-confirmation-sms";
  sms.data = {{"bookingReference", "BK-1"}, {"serviceDate", "12/03"}, {"customerName", "Zoé"}};
  Submit(sms);
  engine_->RunDue();
  auto stats = notifier_->Stats(std::nullopt, std::nullopt);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total.total, 3);
  EXPECT_EQ(stats->by_channel["email"].sent, 1);
  EXPECT_EQ(stats->by_channel["email"].failed, 1);
  EXPECT_EQ(stats->by_channel["sms"].sent, 1);
  EXPECT_EQ(stats->by_provider["primary"].total, 2);
  EXPECT_EQ(stats->by_provider["log"].sent, 1);

  HistoryFilter f;
  f.channel = Channel::kEmail;
  f.limit = 1;
  auto page = notifier_->History(f);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->at(0).recipient, "b@example.com");  // newest first
  f.before_id = page->at(0).id;
  auto next = notifier_->History(f);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->at(0).recipient, "a@example.com");
  auto outbox = LogProvider::List(*store_, 10);
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ(outbox->at(0).body, "Réservation BK-1 confirmée le 12/03. Merci Zoé !");
}

TEST_F(NotifierTest, TwilioDeliveryReportsMoveTheStatusForwardOnly) {
  config_.twilio_auth_token = "a-twilio-auth-token";
  config_.twilio_callback_url = "https://herald.example/api/notifications/callbacks/twilio";
  Start(std::make_unique<ScriptedProvider>("twilio", Channel::kSms));
  SendRequest sms;
  sms.channel = Channel::kSms;
  sms.to = "+33612345678";
  sms.template_id = "ticket_alert";
  sms.data = {{"ticket_code", "TKT-1"}, {"event_title", "Gala"}, {"message", "annulé"}};
  Notification n = Submit(sms);
  engine_->RunDue();
  ASSERT_EQ(Load(n.id).status, NotificationStatus::kSent);
  const std::string sid = Load(n.id).provider_message_id;  // "twilio-1"

  auto report = [&](std::string status, std::string code, bool sign = true) {
    FormParams p = {{"MessageSid", sid}, {"MessageStatus", status}, {"AccountSid", "AC1"}};
    if (!code.empty()) p.emplace_back("ErrorCode", code);
    const std::string signature =
        sign ? TwilioSignature(config_.twilio_auth_token, config_.twilio_callback_url, p) : "x";
    return notifier_->HandleTwilioCallback(net::FormEncode(p), signature);
  };
  EXPECT_EQ(report("delivered", "", /*sign=*/false).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kSent);
  EXPECT_TRUE(report("sent", "").ok());  // no change
  EXPECT_TRUE(report("delivered", "").ok());
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kDelivered);
  EXPECT_TRUE(report("undelivered", "30003").ok());  // late: never backwards
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kDelivered);
  EXPECT_EQ(notifier_->HandleTwilioCallback("MessageSid=%zz", "x").code(),
            absl::StatusCode::kInvalidArgument);

  Notification other = Submit(sms);
  engine_->RunDue();
  const std::string other_sid = Load(other.id).provider_message_id;
  FormParams p = {
      {"MessageSid", other_sid}, {"MessageStatus", "undelivered"}, {"ErrorCode", "30003"}};
  ASSERT_TRUE(notifier_
                  ->HandleTwilioCallback(
                      net::FormEncode(p),
                      TwilioSignature(config_.twilio_auth_token, config_.twilio_callback_url, p))
                  .ok());
  EXPECT_EQ(Load(other.id).status, NotificationStatus::kBounced);
  EXPECT_EQ(Load(other.id).error_code, "30003");
}

TEST_F(NotifierTest, TwilioReportsAreRefusedWhenNotConfigured) {
  Start();
  EXPECT_EQ(notifier_->HandleTwilioCallback("MessageSid=SM1&MessageStatus=delivered", "x").code(),
            absl::StatusCode::kNotFound);
}

// --- Recipients: contacts, opt-outs, quiet hours, groups -------------------------------------

Contact Person(std::string id, std::string email, std::vector<std::string> roles = {}) {
  Contact c;
  c.id = std::move(id);
  c.name = "Someone";
  c.email = std::move(email);
  c.roles = std::move(roles);
  return c;
}

TEST_F(NotifierTest, AContactGivesItsAddressAndLocale) {
  Start();
  Contact c = Person("jean", "Jean.Dupont@Example.com");
  c.locale = "en";
  ASSERT_TRUE(notifier_->contacts().Create(c).ok());
  Notification n = Submit(Email("contact:jean"));
  EXPECT_EQ(n.recipient, "jean.dupont@example.com");
  EXPECT_EQ(n.contact_id, "jean");
  EXPECT_EQ(n.locale, "en");
  engine_->RunDue();
  ASSERT_EQ(primary_->sent().size(), 1u);
  EXPECT_EQ(primary_->sent()[0].mail.subject, "Your tickets for Fête de la Musique are ready");
  // A plain address finds the contact too, whatever its case.
  EXPECT_EQ(Submit(Email("JEAN.dupont@example.com")).contact_id, "jean");
  // No SMS number: refused, nothing stored.
  SendRequest sms = Email("contact:jean");
  sms.channel = Channel::kSms;
  sms.template_id = "booking-confirmation-sms";
  EXPECT_EQ(notifier_->Submit(sms).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(notifier_->Submit(Email("contact:nobody")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(NotifierTest, QuietHoursDeferNormalMessagesInTheContactsZone) {
  Start();
  Contact c = Person("night", "night@example.com");
  c.time_zone = "Europe/Paris";
  c.quiet_hours = QuietHours{22 * 60, 7 * 60};
  ASSERT_TRUE(notifier_->contacts().Create(c).ok());
  // 2026-01-10 22:30 UTC is 23:30 in Paris (UTC+1 in winter): quiet until 07:00 Paris.
  clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 1, 10, 22, 30), absl::UTCTimeZone()));
  const absl::Time seven_paris =
      absl::FromCivil(absl::CivilMinute(2026, 1, 11, 6, 0), absl::UTCTimeZone());
  Notification normal = Submit(Email("night@example.com"));
  EXPECT_TRUE(normal.quiet_deferred);
  ASSERT_TRUE(normal.scheduled_at.has_value());
  EXPECT_EQ(*normal.scheduled_at, seven_paris);
  SendRequest urgent = Email("night@example.com");
  urgent.high_priority = true;
  Notification high = Submit(urgent);
  EXPECT_FALSE(high.quiet_deferred);
  EXPECT_EQ(engine_->RunDue(), 1);  // only the HIGH one
  EXPECT_EQ(Load(high.id).status, NotificationStatus::kSent);
  EXPECT_EQ(Load(normal.id).status, NotificationStatus::kPending);
  clock_.Set(seven_paris - absl::Minutes(1));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Set(seven_paris);
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(Load(normal.id).status, NotificationStatus::kSent);
  // Outside quiet hours nothing waits.
  clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 1, 11, 12, 0), absl::UTCTimeZone()));
  EXPECT_FALSE(Submit(Email("night@example.com")).quiet_deferred);
}

TEST_F(NotifierTest, AnOptedOutRecipientFailsWithoutAProviderCall) {
  Start();
  Contact c = Person("quiet", "quiet@example.com");
  ASSERT_TRUE(notifier_->contacts().Create(c).ok());
  Notification before = Submit(Email("quiet@example.com"));  // queued before the opt-out
  c.opted_out = {Channel::kEmail};
  ASSERT_TRUE(notifier_->contacts().Update(c).ok());
  Notification after = Submit(Email("contact:quiet"));
  engine_->RunDue();
  for (const std::string& id : {before.id, after.id}) {
    Notification n = Load(id);
    EXPECT_EQ(n.status, NotificationStatus::kFailed);
    EXPECT_EQ(n.error_code, "opted_out");
  }
  EXPECT_TRUE(primary_->sent().empty());
  EXPECT_TRUE(backup_->sent().empty());
  // Opting back in lets new messages through.
  c.opted_out.clear();
  ASSERT_TRUE(notifier_->contacts().Update(c).ok());
  Notification again = Submit(Email("quiet@example.com"));
  engine_->RunDue();
  EXPECT_EQ(Load(again.id).status, NotificationStatus::kSent);
}

TEST_F(NotifierTest, ARoleGroupReachesEveryReachableMember) {
  Start();
  ContactStore& contacts = notifier_->contacts();
  ASSERT_TRUE(contacts.Create(Person("a-ops", "ops1@example.com", {"OPERATIONS_MANAGER"})).ok());
  ASSERT_TRUE(
      contacts.Create(Person("b-both", "both@example.com", {"ACCOUNTING", "OPERATIONS_MANAGER"}))
          .ok());
  Contact out = Person("c-out", "out@example.com", {"OPERATIONS_MANAGER"});
  out.opted_out = {Channel::kEmail};
  ASSERT_TRUE(contacts.Create(out).ok());
  Contact phone_only = Person("d-phone", "", {"OPERATIONS_MANAGER"});
  phone_only.phone = "+33611111111";
  ASSERT_TRUE(contacts.Create(phone_only).ok());
  ASSERT_TRUE(contacts.Create(Person("e-acc", "acc@example.com", {"ACCOUNTING"})).ok());

  SendRequest r = Email("role:OPERATIONS_MANAGER");
  r.idempotency_key = "alert-42";
  auto group = notifier_->SubmitGroup(r);
  ASSERT_TRUE(group.ok()) << group.status();
  ASSERT_EQ(group->size(), 2u);
  EXPECT_EQ(group->at(0).notification.recipient, "ops1@example.com");
  EXPECT_EQ(group->at(1).notification.recipient, "both@example.com");
  // The same group request again creates nothing new.
  auto again = notifier_->SubmitGroup(r);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 2u);
  EXPECT_TRUE(again->at(0).replayed);
  EXPECT_EQ(again->at(0).notification.id, group->at(0).notification.id);
  EXPECT_EQ(notifier_->History({})->size(), 2u);
  EXPECT_TRUE(notifier_->SubmitGroup(Email("role:NOBODY"))->empty());
  EXPECT_EQ(notifier_->SubmitGroup(Email("role:lower")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(notifier_->Submit(Email("role:ACCOUNTING")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- WhatsApp and chat ------------------------------------------------------------------------

TEST_F(NotifierTest, WhatsAppTemplatesAndMediaReachTheProvider) {
  messaging_ = true;
  Start();
  SendRequest tpl;
  tpl.channel = Channel::kWhatsApp;
  tpl.to = "+33612345678";
  tpl.whatsapp_template = WhatsAppTemplate{"booking_confirmation", "fr", {"BK-1", "12/03"}};
  Submit(tpl);
  SendRequest doc = tpl;
  doc.whatsapp_template.reset();
  doc.template_id = "ticket_generated";
  doc.data = {{"guest_name", "Jean"}, {"event_title", "Gala"}, {"ticket_url", "https://t/1"}};
  doc.media = Media{"document", "", {}, ""};
  doc.attachments.push_back({"billet.pdf", "", std::string("%PDF-1.4\0\x01", 11)});
  Submit(doc);
  engine_->RunDue();
  const std::vector<OutboundMessage> sent = whatsapp_->sent();
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_TRUE(sent[0].whatsapp_template.has_value());
  EXPECT_EQ(sent[0].whatsapp_template->name, "booking_confirmation");
  EXPECT_EQ(sent[0].whatsapp_template->body_parameters,
            (std::vector<std::string>{"BK-1", "12/03"}));
  ASSERT_TRUE(sent[1].media.has_value());
  EXPECT_EQ(sent[1].media->type, "document");
  EXPECT_EQ(sent[1].media->file.filename, "billet.pdf");
  EXPECT_EQ(sent[1].media->file.content_type, "application/pdf");
  EXPECT_EQ(sent[1].media->file.data, std::string("%PDF-1.4\0\x01", 11));
  EXPECT_FALSE(sent[1].media->caption.empty());  // the rendered template

  SendRequest bad = tpl;
  bad.media = Media{"video", "https://x/y.mp4", {}, ""};
  bad.whatsapp_template.reset();
  bad.template_id = "ticket_generated";
  EXPECT_EQ(notifier_->Submit(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.media = Media{"image", "http://insecure/x.png", {}, ""};
  EXPECT_EQ(notifier_->Submit(bad).status().code(), absl::StatusCode::kInvalidArgument);
  SendRequest no_template = tpl;
  no_template.whatsapp_template.reset();
  EXPECT_EQ(notifier_->Submit(no_template).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NotifierTest, ChatMessagesCarryTheirTitle) {
  messaging_ = true;
  Start();
  SendRequest r;
  r.channel = Channel::kChat;
  r.to = "ops";
  r.template_id = "ticket_alert";
  r.subject = "Alerte billetterie";
  r.data = {{"ticket_code", "TKT-1"}, {"event_title", "Gala"}, {"message", "annulé"}};
  Submit(r);
  engine_->RunDue();
  ASSERT_EQ(chat_->sent().size(), 1u);
  EXPECT_EQ(chat_->sent()[0].recipient, "ops");
  EXPECT_EQ(chat_->sent()[0].title, "Alerte billetterie");
  EXPECT_FALSE(chat_->sent()[0].text.empty());
  r.to = "https://hooks.slack.com/services/T/B/X";  // targets are names from the config
  EXPECT_EQ(notifier_->Submit(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NotifierTest, WhatsAppStatusWebhooksAreVerifiedAndMoveForwardOnly) {
  messaging_ = true;
  config_.whatsapp_app_secret = "meta-app-secret";
  config_.whatsapp_verify_token = "verify-me";
  Start();
  SendRequest r;
  r.channel = Channel::kWhatsApp;
  r.to = "+33612345678";
  r.whatsapp_template = WhatsAppTemplate{"hello_world", "en_US", {}};
  Notification n = Submit(r);
  Notification other = Submit(r);
  engine_->RunDue();
  const std::string id = Load(n.id).provider_message_id;
  const std::string other_id = Load(other.id).provider_message_id;
  auto body = [](const std::string& wamid, const std::string& status, bool error) {
    std::string errors = error ? R"(,"errors":[{"code":131047,"title":"Re-engagement message",)"
                                 R"("error_data":{"details":"More than 24 hours"}}])"
                               : "";
    return StrCat(R"({"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[)",
                  R"({"field":"messages","value":{"messaging_product":"whatsapp","statuses":[)",
                  R"({"id":")", wamid, R"(","status":")", status,
                  R"(","timestamp":"1767225600","recipient_id":"33612345678")", errors, "}]}}]}]}");
  };
  const std::string delivered = body(id, "delivered", false);
  EXPECT_EQ(notifier_->HandleWhatsAppCallback(delivered, "sha256=00").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kSent);
  ASSERT_TRUE(
      notifier_->HandleWhatsAppCallback(delivered, HubSignature("meta-app-secret", delivered))
          .ok());
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kDelivered);
  const std::string late = body(id, "failed", true);
  ASSERT_TRUE(notifier_->HandleWhatsAppCallback(late, HubSignature("meta-app-secret", late)).ok());
  EXPECT_EQ(Load(n.id).status, NotificationStatus::kDelivered);  // never backwards
  const std::string failed = body(other_id, "failed", true);
  ASSERT_TRUE(
      notifier_->HandleWhatsAppCallback(failed, HubSignature("meta-app-secret", failed)).ok());
  EXPECT_EQ(Load(other.id).status, NotificationStatus::kFailed);
  EXPECT_EQ(Load(other.id).error_code, "131047");

  EXPECT_EQ(*notifier_->VerifyWhatsAppSubscription("subscribe", "verify-me", "1158201444"),
            "1158201444");
  EXPECT_EQ(notifier_->VerifyWhatsAppSubscription("subscribe", "wrong", "1").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(NotifierTest, ProviderRatesMustNameAConfiguredProvider) {
  config_.provider_rates = "primary=5,nosuch=3";
  engine_ = std::move(engine::Engine::Create(*store_, clock_, {})).value();
  templates_ = std::move(TemplateStore::Create(*store_, clock_, "fr")).value();
  std::map<Channel, std::vector<std::unique_ptr<Provider>>> providers;
  providers[Channel::kEmail].push_back(
      std::make_unique<ScriptedProvider>("primary", Channel::kEmail));
  auto n = Notifier::Create(*store_, *engine_, *templates_, clock_, config_, std::move(providers));
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("nosuch"), std::string_view::npos);
}

TEST_F(NotifierTest, ProviderRatesPaceCallsOnTheClock) {
  config_.provider_rates = "primary=1";
  Start();
  Submit(Email("a@example.com"));
  Submit(Email("b@example.com"));
  // One token per second: the first send goes, the second waits for the clock.
  std::thread worker([&] { engine_->RunDue(); });
  for (int i = 0; i < 2000 && primary_->sent().size() < 1; ++i)
    absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(primary_->sent().size(), 1u);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(primary_->sent().size(), 1u);
  clock_.Advance(absl::Seconds(1));
  worker.join();
  EXPECT_EQ(primary_->sent().size(), 2u);
}

}  // namespace
}  // namespace herald::notify
