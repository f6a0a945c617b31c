#include "apps/tickets/purchases.h"

#include <thread>

#include "apps/tickets/scanner.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/inbox.h"

namespace herald::apps::tickets {
namespace {

class PurchasesTest : public ::testing::Test {
 protected:
  PurchasesTest() {
    store::SqliteOptions so;
    so.path = dir_.File("herald.db");
    store_ = std::move(store::SqliteStore::Open(so)).value();
    EXPECT_TRUE(engine::Engine::Migrate(*store_).ok());
    EXPECT_TRUE(webhooks::Inbox::Migrate(*store_).ok());
    EXPECT_TRUE(Ticketing::Migrate(*store_).ok());
    EXPECT_EQ(Purchases::Migrate(*store_), absl::OkStatus());
    engine_ = std::move(engine::Engine::Create(*store_, clock_, core::Config::Engine{})).value();
    inbox_ = std::move(webhooks::Inbox::Create(*store_, *engine_, clock_, nullptr)).value();
    TicketingOptions options;
    options.master_key.fill(3);
    ticketing_ = std::move(Ticketing::Create(*store_, clock_, options)).value();
    gateway_ = std::move(LocalGateway::Create()).value();
    PurchaseFollowUp follow_up;
    follow_up.engine = engine_.get();  // holds expire; no generation, no confirmation here
    purchases_ =
        std::move(Purchases::Create(*store_, *ticketing_, *gateway_, *inbox_, clock_, follow_up))
            .value();
    scanner_ = std::make_unique<Scanner>(*store_, clock_);
    EXPECT_TRUE(engine_->Start(/*threads=*/false).ok());

    Event e;
    e.title = "Tech Conference 2026";
    e.event_date = clock_.Now() + absl::Hours(2);
    event_ = ticketing_->CreateEvent(e).value();
    TicketType vip;
    vip.event_id = event_.id;
    vip.name = "VIP";
    vip.price = 4999;
    vip.quantity = 3;
    vip_ = ticketing_->CreateTicketType(vip).value();
  }
  ~PurchasesTest() override { engine_->Stop(absl::ZeroDuration()); }

  PurchaseRequest Request(int64_t quantity, std::string key = "") {
    PurchaseRequest r;
    r.event_id = event_.id;
    r.lines = {{vip_.id, quantity}};
    r.customer_email = "John@Example.com";
    r.customer_name = "John Doe";
    r.idempotency_key = std::move(key);
    r.client_amount = 1;  // a client that claims the tickets cost one cent
    return r;
  }

  // Seed 003's payment webhook for `intent`, as the payment service posts it.
  void PaymentEvent(std::string_view id, std::string_view type, std::string_view intent,
                    std::string_view amount) {
    webhooks::InboundEvent in;
    in.provider = std::string(webhooks::kPaymentService);
    in.event_id = std::string(id);
    in.type = std::string(type);
    in.created = clock_.Now();
    in.payload = StrCat(R"({"eventType":")", type, R"(","paymentIntentId":")", intent,
                        R"(","status":"completed","timestamp":"2026-01-30T03:00:00Z","data":{)",
                        R"("payment_service_id":"pay_1","gateway":"stripe","amount":)", amount,
                        R"(,"currency":"EUR","completed_at":"2026-01-30T03:00:00Z"}})");
    ASSERT_TRUE(inbox_->Accept(in).ok());
    engine_->RunDue();
  }

  // Stripe's checkout.session.completed for a session the integrator created for purchase
  // `purchase` (metadata.purchase_id), paid through the session's own intent.
  void CheckoutCompleted(std::string_view id, int64_t purchase, std::string_view intent,
                         int64_t amount) {
    webhooks::InboundEvent in;
    in.provider = std::string(webhooks::kStripe);
    in.event_id = std::string(id);
    in.type = "checkout.session.completed";
    in.created = clock_.Now();
    in.payload =
        StrCat(R"({"id":")", id,
               R"(","object":"event","type":"checkout.session.completed","data":{"object":)",
               R"({"id":"cs_test_)", id, R"(","object":"checkout.session","amount_total":)", amount,
               R"(,"currency":"eur","payment_intent":")", intent,
               R"(","payment_status":"paid","metadata":{"purchase_id":")", purchase, R"("}}}})");
    ASSERT_TRUE(inbox_->Accept(in).ok());
    engine_->RunDue();
  }

  // An organiser's pending VIP ticket (in `t`), and Jane's request to buy it.
  PurchaseRequest BuyExistingPendingTicket(std::vector<Ticket>& t) {
    IssueRequest pending;
    pending.ticket_type_id = vip_.id;
    pending.status = TicketStatus::kPending;
    t = ticketing_->IssueTickets(event_.id, {&pending, 1}).value();
    PurchaseRequest req;
    req.event_id = event_.id;
    req.ticket_ids = {t[0].id};
    req.customer_email = "jane@example.com";
    return req;
  }

  std::string Scan(int64_t ticket_id) {
    Ticket t = ticketing_->GetTicket(ticket_id).value();
    ScanRequest r;
    r.code = t.qr_code_data;
    r.event_id = event_.id;
    r.scanner_id = StrCat("s", ++scans_);
    return scanner_->Validate(r).value().reason;
  }

  herald::testing::TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<webhooks::Inbox> inbox_;
  std::unique_ptr<Ticketing> ticketing_;
  std::unique_ptr<LocalGateway> gateway_;
  std::unique_ptr<Purchases> purchases_;
  std::unique_ptr<Scanner> scanner_;
  Event event_;
  TicketType vip_;
  int scans_ = 0;
};

TEST_F(PurchasesTest, AmountComesFromTheStoreAndTicketsWaitForThePayment) {
  ProcessResult r = purchases_->Process(Request(2)).value();
  EXPECT_EQ(r.purchase.amount, 2 * 4999);
  EXPECT_EQ(r.purchase.client_amount, 1);
  EXPECT_EQ(r.purchase.currency, "EUR");
  EXPECT_EQ(r.purchase.status, PurchaseStatus::kPending);
  EXPECT_EQ(r.purchase.gateway, "local");
  EXPECT_TRUE(r.purchase.payment_intent_id.starts_with("pi_local_"));
  EXPECT_TRUE(r.client_secret.starts_with(r.purchase.payment_intent_id + "_secret_"));
  EXPECT_EQ(gateway_->GetIntent(r.purchase.payment_intent_id).value().amount, 2 * 4999);
  ASSERT_EQ(r.purchase.ticket_ids.size(), 2u);
  Guest g = ticketing_->GetGuest(r.purchase.guest_id).value();
  EXPECT_EQ(g.email, "john@example.com");
  EXPECT_EQ(g.first_name, "John");
  for (int64_t id : r.purchase.ticket_ids) {
    Ticket t = ticketing_->GetTicket(id).value();
    EXPECT_EQ(t.status, TicketStatus::kPending);
    EXPECT_EQ(t.purchase_id, r.purchase.id);
    EXPECT_EQ(Scan(id), "unpaid");
  }

  PaymentEvent("evt_1", "payment.completed", r.purchase.payment_intent_id, "99.98");
  Purchase paid = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(paid.status, PurchaseStatus::kPaid);
  EXPECT_EQ(paid.paid_at, clock_.Now());
  for (int64_t id : r.purchase.ticket_ids) {
    EXPECT_EQ(ticketing_->GetTicket(id).value().status, TicketStatus::kIssued);
    EXPECT_EQ(Scan(id), "ok");
  }
  // The same webhook delivered again changes nothing.
  PaymentEvent("evt_1", "payment.completed", r.purchase.payment_intent_id, "99.98");
  EXPECT_EQ(purchases_->Get(r.purchase.id).value().status, PurchaseStatus::kPaid);
}

// Stripe Checkout instead of the purchase's own intent: the session's completion pays the
// purchase, its intent becomes the purchase's, and the first intent is cancelled so that the
// buyer cannot pay twice.
TEST_F(PurchasesTest, ACheckoutSessionCreatedForThePurchasePaysIt) {
  ProcessResult r = purchases_->Process(Request(2)).value();
  const std::string first = r.purchase.payment_intent_id;
  CheckoutCompleted("evt_cs_1", r.purchase.id, "pi_checkout_1", 2 * 4999);
  Purchase paid = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(paid.status, PurchaseStatus::kPaid);
  EXPECT_EQ(paid.payment_intent_id, "pi_checkout_1");
  for (int64_t id : r.purchase.ticket_ids) EXPECT_EQ(Scan(id), "ok");
  EXPECT_EQ(gateway_->GetIntent(first).value().status, "canceled");  // the job ran
  EXPECT_TRUE(purchases_->Get(r.purchase.id).value().last_error.empty());

  // Another session completing for the paid purchase is not its payment: a refund is due.
  CheckoutCompleted("evt_cs_2", r.purchase.id, "pi_checkout_2", 2 * 4999);
  Purchase twice = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(twice.payment_intent_id, "pi_checkout_1");
  EXPECT_EQ(twice.status, PurchaseStatus::kPaid);
  EXPECT_NE(twice.last_error.find("refund pi_checkout_2"), std::string::npos) << twice.last_error;

  // A session that pays less issues nothing.
  ProcessResult short_paid = purchases_->Process(Request(1)).value();
  CheckoutCompleted("evt_cs_3", short_paid.purchase.id, "pi_checkout_3", 100);
  Purchase unpaid = purchases_->Get(short_paid.purchase.id).value();
  EXPECT_EQ(unpaid.status, PurchaseStatus::kPending);
  EXPECT_EQ(unpaid.payment_intent_id, short_paid.purchase.payment_intent_id);
  EXPECT_EQ(Scan(short_paid.purchase.ticket_ids[0]), "unpaid");
}

TEST_F(PurchasesTest, AFirstIntentPaidAsWellAsTheCheckoutIsRecordedForARefund) {
  ProcessResult r = purchases_->Process(Request(1)).value();
  ASSERT_TRUE(gateway_->SetIntentStatus(r.purchase.payment_intent_id, "succeeded").ok());
  CheckoutCompleted("evt_cs_1", r.purchase.id, "pi_checkout_1", 4999);
  Purchase p = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(p.status, PurchaseStatus::kPaid);
  EXPECT_NE(p.last_error.find("refund " + r.purchase.payment_intent_id), std::string::npos)
      << p.last_error;
}

TEST_F(PurchasesTest, IdempotencyKeyReturnsTheSamePurchase) {
  ProcessResult a = purchases_->Process(Request(1, "order-42")).value();
  ProcessResult b = purchases_->Process(Request(1, "order-42")).value();
  EXPECT_FALSE(a.replayed);
  EXPECT_TRUE(b.replayed);
  EXPECT_EQ(a.purchase.id, b.purchase.id);
  EXPECT_EQ(a.purchase.payment_intent_id, b.purchase.payment_intent_id);
  EXPECT_EQ(a.client_secret, b.client_secret);
  EXPECT_EQ(ticketing_->ListTickets({.event_id = event_.id}).value().size(), 1u);
  EXPECT_EQ(purchases_->Process(Request(2, "order-42")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(PurchasesTest, AReplayAfterPaymentReadsTheSameIntent) {
  ProcessResult a = purchases_->Process(Request(1, "order-7")).value();
  PaymentEvent("evt_7", "payment.completed", a.purchase.payment_intent_id, "49.99");
  ProcessResult b = purchases_->Process(Request(1, "order-7")).value();
  EXPECT_TRUE(b.replayed);
  EXPECT_EQ(b.purchase.status, PurchaseStatus::kPaid);
  EXPECT_EQ(b.purchase.payment_intent_id, a.purchase.payment_intent_id);
  EXPECT_EQ(b.client_secret, a.client_secret);
}

TEST_F(PurchasesTest, APaymentThatDoesNotSayItsAmountIssuesNothing) {
  ProcessResult r = purchases_->Process(Request(1)).value();
  PaymentEvent("evt_8", "payment.completed", r.purchase.payment_intent_id, "null");
  EXPECT_EQ(purchases_->Get(r.purchase.id).value().status, PurchaseStatus::kPending);
}

TEST_F(PurchasesTest, UnderpaidPurchaseIssuesNothing) {
  ProcessResult r = purchases_->Process(Request(1)).value();
  PaymentEvent("evt_2", "payment.completed", r.purchase.payment_intent_id, "0.50");
  Purchase p = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(p.status, PurchaseStatus::kPending);
  EXPECT_NE(p.last_error.find("tickets not issued"), std::string::npos) << p.last_error;
  EXPECT_EQ(ticketing_->GetTicket(r.purchase.ticket_ids[0]).value().status, TicketStatus::kPending);
}

TEST_F(PurchasesTest, FullRefundRevokesTheUnusedTickets) {
  ProcessResult r = purchases_->Process(Request(2)).value();
  PaymentEvent("evt_3", "payment.completed", r.purchase.payment_intent_id, "99.98");
  ASSERT_EQ(Scan(r.purchase.ticket_ids[0]), "ok");
  PaymentEvent("evt_4", "payment.refunded", r.purchase.payment_intent_id, "99.98");
  Purchase p = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(p.status, PurchaseStatus::kRefunded);
  EXPECT_EQ(p.amount_refunded, 9998);
  EXPECT_EQ(ticketing_->GetTicket(r.purchase.ticket_ids[0]).value().status, TicketStatus::kUsed);
  EXPECT_EQ(ticketing_->GetTicket(r.purchase.ticket_ids[1]).value().status,
            TicketStatus::kCancelled);
  EXPECT_EQ(Scan(r.purchase.ticket_ids[1]), "cancelled");
}

TEST_F(PurchasesTest, ExistingPendingTickets) {
  std::vector<Ticket> t;
  PurchaseRequest req = BuyExistingPendingTicket(t);
  ProcessResult r = purchases_->Process(req).value();
  EXPECT_EQ(r.purchase.amount, 4999);
  EXPECT_EQ(r.purchase.ticket_ids, std::vector<int64_t>{t[0].id});
  EXPECT_EQ(ticketing_->GetTicket(t[0].id).value().guest_id, r.purchase.guest_id);
  // Bought once only.
  req.customer_email = "thief@example.com";
  EXPECT_EQ(purchases_->Process(req).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PurchasesTest, AnUnpaidPurchaseReleasesItsTicketsWhenItsHoldExpires) {
  ProcessResult r = purchases_->Process(Request(2)).value();
  // Only 3 VIP tickets: the 2 held leave 1.
  EXPECT_EQ(purchases_->Process(Request(2)).status().code(), absl::StatusCode::kFailedPrecondition);
  clock_.Advance(absl::Minutes(29));
  engine_->RunDue();
  EXPECT_EQ(purchases_->Get(r.purchase.id).value().status, PurchaseStatus::kPending);

  clock_.Advance(absl::Minutes(1));
  engine_->RunDue();
  Purchase expired = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(expired.status, PurchaseStatus::kExpired);
  EXPECT_EQ(gateway_->GetIntent(r.purchase.payment_intent_id).value().status, "canceled");
  for (int64_t id : r.purchase.ticket_ids) {
    EXPECT_EQ(ticketing_->GetTicket(id).value().status, TicketStatus::kCancelled);
    EXPECT_EQ(Scan(id), "cancelled");
  }
  // The quantity is back on sale.
  EXPECT_TRUE(purchases_->Process(Request(3)).ok());

  // A payment that still arrives issues nothing and asks for a refund.
  PaymentEvent("evt_late", "payment.completed", r.purchase.payment_intent_id, "99.98");
  Purchase late = purchases_->Get(r.purchase.id).value();
  EXPECT_EQ(late.status, PurchaseStatus::kExpired);
  EXPECT_NE(late.last_error.find("refund"), std::string::npos) << late.last_error;
  EXPECT_EQ(ticketing_->GetTicket(r.purchase.ticket_ids[0]).value().status,
            TicketStatus::kCancelled);
}

TEST_F(PurchasesTest, APaidOrPayingPurchaseKeepsItsHold) {
  ProcessResult paying = purchases_->Process(Request(1, "paying")).value();
  ASSERT_TRUE(gateway_->SetIntentStatus(paying.purchase.payment_intent_id, "processing").ok());
  ProcessResult paid = purchases_->Process(Request(1, "paid")).value();
  PaymentEvent("evt_paid", "payment.completed", paid.purchase.payment_intent_id, "49.99");
  ASSERT_EQ(purchases_->Get(paid.purchase.id).value().status, PurchaseStatus::kPaid);

  clock_.Advance(absl::Hours(1));
  engine_->RunDue();
  EXPECT_EQ(purchases_->Get(paying.purchase.id).value().status, PurchaseStatus::kPending);
  EXPECT_EQ(ticketing_->GetTicket(paying.purchase.ticket_ids[0]).value().status,
            TicketStatus::kPending);
  EXPECT_EQ(purchases_->Get(paid.purchase.id).value().status, PurchaseStatus::kPaid);
  EXPECT_EQ(ticketing_->GetTicket(paid.purchase.ticket_ids[0]).value().status,
            TicketStatus::kIssued);
  // The payment in progress lands after the hold: it is honoured.
  PaymentEvent("evt_paying", "payment.completed", paying.purchase.payment_intent_id, "49.99");
  EXPECT_EQ(purchases_->Get(paying.purchase.id).value().status, PurchaseStatus::kPaid);
}

TEST_F(PurchasesTest, AHoldKeptForAPaymentInProgressIsLookedAtAgain) {
  ProcessResult r = purchases_->Process(Request(1)).value();
  ASSERT_TRUE(gateway_->SetIntentStatus(r.purchase.payment_intent_id, "processing").ok());
  clock_.Advance(absl::Minutes(31));
  engine_->RunDue();
  EXPECT_EQ(purchases_->Get(r.purchase.id).value().status, PurchaseStatus::kPending);
  // The bank debit fails: the intent asks for another payment method, and nobody comes back.
  ASSERT_TRUE(
      gateway_->SetIntentStatus(r.purchase.payment_intent_id, "requires_payment_method").ok());
  clock_.Advance(absl::Minutes(31));
  engine_->RunDue();
  EXPECT_EQ(purchases_->Get(r.purchase.id).value().status, PurchaseStatus::kExpired);
  EXPECT_EQ(ticketing_->GetTicket(r.purchase.ticket_ids[0]).value().status,
            TicketStatus::kCancelled);
}

TEST_F(PurchasesTest, AnExpiredPurchaseOfExistingTicketsReleasesThemForAnother) {
  std::vector<Ticket> t;
  PurchaseRequest req = BuyExistingPendingTicket(t);
  ProcessResult first = purchases_->Process(req).value();
  clock_.Advance(absl::Minutes(31));
  engine_->RunDue();
  EXPECT_EQ(purchases_->Get(first.purchase.id).value().status, PurchaseStatus::kExpired);
  Ticket released = ticketing_->GetTicket(t[0].id).value();
  EXPECT_EQ(released.status, TicketStatus::kPending);  // the organiser's ticket stays
  EXPECT_EQ(released.purchase_id, 0);
  EXPECT_EQ(released.guest_id, 0);  // Jane's name is off it again
  req.customer_email = "john@example.com";
  ProcessResult second = purchases_->Process(req).value();
  EXPECT_EQ(second.purchase.ticket_ids, std::vector<int64_t>{t[0].id});
  Ticket bought = ticketing_->GetTicket(t[0].id).value();
  EXPECT_EQ(bought.purchase_id, second.purchase.id);
  EXPECT_EQ(bought.guest_id, second.purchase.guest_id);
  EXPECT_NE(bought.guest_id, first.purchase.guest_id);
}

TEST_F(PurchasesTest, ATemplateIsChangedFromWhatIsStoredAndAFailedChangeWritesNothing) {
  TicketTemplate gold;
  gold.name = "Gold";
  gold.price = 500;
  gold = ticketing_->CreateTemplate(gold).value();
  // Applies `edit` to the stored template.
  auto update = [&](int64_t id, auto edit) {
    return ticketing_->UpdateTemplate(id, [&](const TicketTemplate& stored) {
      TicketTemplate x = stored;
      edit(x);
      return Result<TicketTemplate>(x);
    });
  };
  auto refused = ticketing_->UpdateTemplate(
      gold.id, [](const TicketTemplate& stored) -> Result<TicketTemplate> {
        EXPECT_EQ(stored.price, 500);
        return absl::PermissionDeniedError("not yours");
      });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  auto nameless = update(gold.id, [](TicketTemplate& x) { x.name.clear(); });
  EXPECT_EQ(nameless.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ticketing_->GetTemplate(gold.id).value().name, "Gold");
  auto missing = update(gold.id + 100, [](TicketTemplate&) {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  // A seller changing the price while an organiser renames: each change starts from what the
  // other wrote, so the last price stays (reading before the transaction, a rename could put
  // back an older price).
  std::thread seller([&] {
    for (int price = 1; price <= 200; ++price) {
      ASSERT_TRUE(update(gold.id, [&](TicketTemplate& x) { x.price = price; }).ok());
    }
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(update(gold.id, [&](TicketTemplate& x) { x.name = StrCat("Gold ", i); }).ok());
  }
  seller.join();
  const TicketTemplate now = ticketing_->GetTemplate(gold.id).value();
  EXPECT_EQ(now.price, 200);
  EXPECT_EQ(now.name, "Gold 199");
  EXPECT_EQ(now.created_at, gold.created_at);
}

TEST_F(PurchasesTest, APaymentForATemplateOfTheStoreUnlocksItOnce) {
  TicketTemplate t;
  t.name = "Premium";
  t = ticketing_->CreateTemplate(t).value();
  auto pay = [&](std::string_view webhook, std::string_view payment, int64_t template_id,
                 std::string_view customer, int amount = 9999) {
    webhooks::InboundEvent in;
    in.provider = std::string(webhooks::kPaymentService);
    in.event_id = std::string(webhook);
    in.type = "payment.completed";
    in.created = clock_.Now();
    in.payload = StrCat(R"({"event_type":"payment.completed","payment_id":")", payment,
                        R"(","amount":)", amount, R"(,"currency":"eur","status":"succeeded",)",
                        R"("metadata":{"event_id":)", event_.id, R"(,"user_id":"u-7",)",
                        R"("ticket_count":2,"template_id":)", template_id, "}", customer, "}");
    ASSERT_TRUE(inbox_->Accept(in).ok());
    engine_->RunDue();
  };
  pay("wh_1", "pay_1", t.id, "");                   // no customer to confirm to: unlocked
  pay("wh_2", "pay_1", t.id, "");                   // the same payment again
  pay("wh_3", "pay_2", t.id + 1, "");               // a template of another system
  pay("wh_4", "pay_3", t.id, R"(,"customer":{})");  // another payment of the same template
  pay("wh_5", "pay_4", t.id, "", 0);                // no amount: not a sale
  // A Standard Webhooks source relays its own events: a "payment.succeeded" of its naming
  // sells nothing.
  webhooks::InboundEvent relayed;
  relayed.provider = "acme";
  relayed.event_id = "msg_1";
  relayed.type = "payment.succeeded";
  relayed.created = clock_.Now();
  relayed.payload =
      StrCat(R"({"type":"payment.succeeded","data":{"paymentKey":"pay_5","amount":100,)",
             R"("currency":"EUR","metadata":{"template_id":)", t.id, R"(,"user_id":"u-7"}}})");
  ASSERT_TRUE(inbox_->Accept(relayed).ok());
  engine_->RunDue();
  std::vector<TemplatePurchase> bought = purchases_->TemplatePurchases(t.id, "u-7", {}).value();
  ASSERT_EQ(bought.size(), 2u);
  EXPECT_EQ(bought[0].payment_key, "pay_1");
  EXPECT_EQ(bought[0].event_id, event_.id);
  EXPECT_EQ(bought[0].ticket_count, 2);
  EXPECT_EQ(bought[0].currency, "EUR");
  EXPECT_EQ(bought[0].customer_email, "");
  EXPECT_TRUE(bought[0].active);
  EXPECT_EQ(bought[1].payment_key, "pay_3");
  EXPECT_TRUE(purchases_->TemplatePurchases(t.id, "u-8", {}).value().empty());
  EXPECT_EQ(purchases_->TemplatePurchases(t.id + 1, "", {}).status().code(),
            absl::StatusCode::kNotFound);
  // No purchase of tickets came of it.
  EXPECT_TRUE(purchases_->List(event_.id, {}).value().empty());
}

TEST_F(PurchasesTest, APremiumTemplateIsUsedOnlyAsFarAsItsLicenceGoes) {
  TicketTemplate gold;
  gold.name = "Gold";
  gold.price = 150;  // per ticket
  gold = ticketing_->CreateTemplate(gold).value();
  ASSERT_TRUE(gold.premium());
  // Seed 002's template payment with this metadata.
  auto pay = [&](std::string_view payment, std::string_view type, std::string_view metadata,
                 int amount, std::string_view currency = "eur") {
    webhooks::InboundEvent in;
    in.provider = std::string(webhooks::kPaymentService);
    in.event_id = StrCat("wh_", payment, "_", type);
    in.type = std::string(type);
    in.created = clock_.Now();
    in.payload =
        StrCat(R"({"event_type":")", type, R"(","payment_id":")", payment, R"(","amount":)", amount,
               R"(,"currency":")", currency, R"(","status":"succeeded","metadata":{"template_id":)",
               gold.id, R"(,"user_id":123)", metadata, R"(},"customer":{}})");
    ASSERT_TRUE(inbox_->Accept(in).ok());
    engine_->RunDue();
  };
  auto issue = [&](int n) {
    std::vector<IssueRequest> r(n);
    for (IssueRequest& one : r) one.template_id = gold.id;
    return ticketing_->IssueTickets(event_.id, r);
  };
  auto use = [&] { return ticketing_->TemplateUseOf(gold.id, event_.id).value(); };
  const std::string for_two = StrCat(R"(,"event_id":)", event_.id, R"(,"ticket_count":2)");

  EXPECT_EQ(issue(1).status().code(), absl::StatusCode::kFailedPrecondition);  // not bought
  pay("pay_1", "payment.completed", for_two, 299);                             // 2 × 1.50 is 3.00
  pay("pay_2", "payment.completed", for_two, 300, "usd");                      // another currency
  pay("pay_3", "payment.completed", R"(,"event_id":999,"ticket_count":2)", 300);
  pay("pay_4", "payment.completed", StrCat(R"(,"event_id":)", event_.id, R"(,"ticket_count":-1)"),
      300);
  pay("pay_5", "payment.completed", StrCat(R"(,"event_id":)", event_.id), 300);  // no count
  pay("pay_6", "payment.completed", R"(,"event_id":"x","ticket_count":2)", 300);
  std::vector<TemplatePurchase> bought = purchases_->TemplatePurchases(gold.id, "", {}).value();
  ASSERT_EQ(bought.size(), 6u);
  const std::string_view reasons[] = {"paid 299 EUR for 2 ticket(s)",
                                      "paid 300 USD",
                                      "metadata.event_id: no event 999",
                                      "metadata.ticket_count: expected 1 to 1000000",
                                      "premium template is bought for an event",
                                      "metadata.event_id: expected an event id"};
  for (size_t i = 0; i < bought.size(); ++i) {
    EXPECT_FALSE(bought[i].active) << i;
    EXPECT_NE(bought[i].last_error.find(reasons[i]), std::string::npos) << bought[i].last_error;
  }
  EXPECT_EQ(use().licensed, 0);
  EXPECT_EQ(issue(1).status().code(), absl::StatusCode::kFailedPrecondition);

  // Paid in full: two tickets, all or none.
  pay("pay_7", "payment.completed", for_two, 300);
  EXPECT_EQ(issue(3).status().code(), absl::StatusCode::kFailedPrecondition);
  std::vector<Ticket> two = issue(2).value();
  EXPECT_EQ(use().licensed, 2);
  EXPECT_EQ(use().used, 2);
  EXPECT_EQ(issue(1).status().code(), absl::StatusCode::kFailedPrecondition);
  // A cancelled ticket gives its place back; a free template needs no licence.
  ASSERT_TRUE(ticketing_->CancelTicket(two[0].id).ok());
  EXPECT_TRUE(issue(1).ok());
  TicketTemplate free;
  free.name = "Basic";
  free = ticketing_->CreateTemplate(free).value();
  IssueRequest basic;
  basic.template_id = free.id;
  EXPECT_TRUE(ticketing_->IssueTickets(event_.id, {&basic, 1}).ok());
  // A bought template cannot be deleted from under its buyers.
  EXPECT_EQ(ticketing_->DeleteTemplate(gold.id).code(), absl::StatusCode::kFailedPrecondition);

  // A full refund takes the licence back: the tickets issued stay, no more are issued.
  pay("pay_7", "payment.refunded", for_two, 300);
  EXPECT_FALSE(purchases_->TemplatePurchases(gold.id, "", {}).value().back().active);
  EXPECT_EQ(use().licensed, 0);
  EXPECT_EQ(use().used, 2);
  EXPECT_EQ(ticketing_->GetTicket(two[1].id).value().status, TicketStatus::kIssued);
  EXPECT_EQ(issue(1).status().code(), absl::StatusCode::kFailedPrecondition);
  // A refund of a payment that unlocked nothing takes nothing.
  pay("pay_8", "payment.completed", for_two, 400);
  pay("pay_1", "payment.refunded", for_two, 299);
  EXPECT_EQ(use().licensed, 2);
}

TEST_F(PurchasesTest, RefusedRequests) {
  EXPECT_EQ(purchases_->Process(Request(4)).status().code(),
            absl::StatusCode::kFailedPrecondition);  // 3 on sale
  PurchaseRequest r = Request(1);
  r.customer_email = "";
  EXPECT_EQ(purchases_->Process(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Request(1);
  r.lines[0].ticket_type_id = 999;
  EXPECT_EQ(purchases_->Process(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Request(0);
  EXPECT_EQ(purchases_->Process(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Request(1);
  r.lines.clear();
  r.ticket_ids = {5, 5};
  EXPECT_EQ(purchases_->Process(r).status().code(), absl::StatusCode::kInvalidArgument);
  TicketType free;
  free.event_id = event_.id;
  free.name = "Invitation";
  free = ticketing_->CreateTicketType(free).value();
  r = Request(1);
  r.lines[0].ticket_type_id = free.id;
  EXPECT_EQ(purchases_->Process(r).status().code(), absl::StatusCode::kFailedPrecondition);
  event_.status = EventStatus::kCancelled;
  ASSERT_TRUE(ticketing_->UpdateEvent(event_).ok());
  EXPECT_EQ(purchases_->Process(Request(1)).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ticketing_->ListTickets({.event_id = event_.id}).value().empty());
}

}  // namespace
}  // namespace herald::apps::tickets
