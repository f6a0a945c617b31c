#include "notify/notifier.h"

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "notify/http_client.h"
#include "notify/log_provider.h"
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
    return notifier_->HandleTwilioCallback(FormEncode(p), signature);
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
                      FormEncode(p),
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

}  // namespace
}  // namespace herald::notify
