#pragma once
// EngineStack: what the HTTP tests serve: a SQLite store in a fresh folder (migrated for the
// engine, the scheduler, auth, notifications, webhooks, maintenance and documents), an engine
// with the diagnostic job types, a scheduler, the notifier with the log provider on every
// channel, the webhook dispatcher (loopback receivers allowed), inbox, maintenance,
// documents (files in the folder) and ticketing, all on a manual clock and driven by the test (no
// threads). Test-only.

#include <memory>

#include "apps/maintenance/maintenance.h"
#include "apps/tickets/generation.h"
#include "apps/tickets/payment_gateway.h"
#include "apps/tickets/purchases.h"
#include "apps/tickets/scanner.h"
#include "apps/tickets/ticketing.h"
#include "auth/authenticator.h"
#include "core/clock.h"
#include "core/testing/temp_dir.h"
#include "docs/documents.h"
#include "engine/builtin_handlers.h"
#include "engine/engine.h"
#include "engine/scheduler.h"
#include "gtest/gtest.h"
#include "notify/log_provider.h"
#include "notify/notifier.h"
#include "notify/template_store.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/dispatcher.h"
#include "webhooks/inbox.h"

namespace herald::http::testing {

inline constexpr char kWhatsAppAppSecret[] = "test-meta-app-secret";
inline constexpr char kWhatsAppVerifyToken[] = "test-verify-token";
inline constexpr char kStripeSecret[] = "whsec_test_secret";
inline constexpr char kCronSecret[] = "test-cron-secret";
// The Standard Webhooks test vector's key (standard-webhooks spec), for the source "crm".
inline constexpr char kInboundSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct EngineStack {
  EngineStack() {
    store::SqliteOptions so;
    so.path = dir.File("herald.db");
    store = std::move(store::SqliteStore::Open(so)).value();
    EXPECT_TRUE(engine::Engine::Migrate(*store).ok());
    EXPECT_TRUE(engine::Scheduler::Migrate(*store).ok());
    EXPECT_TRUE(auth::Authenticator::Migrate(*store).ok());
    EXPECT_TRUE(notify::Notifier::Migrate(*store).ok());
    EXPECT_TRUE(webhooks::Dispatcher::Migrate(*store).ok());
    EXPECT_TRUE(webhooks::Inbox::Migrate(*store).ok());
    EXPECT_TRUE(apps::maintenance::Maintenance::Migrate(*store).ok());
    EXPECT_TRUE(docs::Documents::Migrate(*store).ok());
    EXPECT_TRUE(apps::tickets::Ticketing::Migrate(*store).ok());
    EXPECT_TRUE(apps::tickets::Purchases::Migrate(*store).ok());
    EXPECT_TRUE(apps::tickets::TicketGenerator::Migrate(*store).ok());
    engine = std::move(engine::Engine::Create(*store, clock, core::Config::Engine{})).value();
    engine::RegisterBuiltinHandlers(*engine);
    templates = std::move(notify::TemplateStore::Create(*store, clock, "fr")).value();
    std::map<notify::Channel, std::vector<std::unique_ptr<notify::Provider>>> providers;
    for (notify::Channel c : {notify::Channel::kEmail, notify::Channel::kSms,
                              notify::Channel::kWhatsApp, notify::Channel::kChat}) {
      providers[c].push_back(std::make_unique<notify::LogProvider>(c, *store, clock));
    }
    core::Config::Notify notify_config;
    notify_config.whatsapp_app_secret = kWhatsAppAppSecret;
    notify_config.whatsapp_verify_token = kWhatsAppVerifyToken;
    notifier = std::move(notify::Notifier::Create(*store, *engine, *templates, clock, notify_config,
                                                  std::move(providers)))
                   .value();
    webhooks::DispatcherOptions wo;
    wo.allow_private_addresses = true;  // the receivers of the tests are on loopback
    dispatcher = std::move(webhooks::Dispatcher::Create(*store, *engine, clock, wo)).value();
    inbox = std::move(webhooks::Inbox::Create(*store, *engine, clock, dispatcher.get())).value();
    maintenance =
        std::move(apps::maintenance::Maintenance::Create(*store, *engine, *dispatcher, clock))
            .value();
    docs::DocumentsOptions doc_options;
    doc_options.root = dir.path() / "documents";
    documents =
        std::move(docs::Documents::Create(*store, *engine, clock, std::move(doc_options))).value();
    apps::tickets::TicketingOptions ticket_options;
    ticket_options.master_key.fill(0x5a);
    ticketing = std::move(apps::tickets::Ticketing::Create(*store, clock, ticket_options)).value();
    scanner = std::make_unique<apps::tickets::Scanner>(*store, clock);
    payment_gateway = std::move(apps::tickets::LocalGateway::Create()).value();
    generator =
        std::move(apps::tickets::TicketGenerator::Create(*store, *engine, *ticketing, *documents,
                                                         *dispatcher, *notifier, clock))
            .value();
    generator->ListenToOutsideGenerators(*inbox);
    apps::tickets::PurchaseFollowUp follow_up{.generator = generator.get(),
                                              .engine = engine.get(),
                                              .documents = documents.get(),
                                              .notifier = notifier.get()};
    follow_up.seller.name = "Event Planner SAS";
    purchases = std::move(apps::tickets::Purchases::Create(*store, *ticketing, *payment_gateway,
                                                           *inbox, clock, follow_up))
                    .value();
    EXPECT_TRUE(engine->Start(/*threads=*/false).ok());
    scheduler =
        std::move(engine::Scheduler::Create(*store, *engine, clock, core::Config::Scheduler{}))
            .value();
    EXPECT_TRUE(scheduler->Start(/*thread=*/false).ok());
  }

  herald::testing::TempDir dir;
  core::ManualClock clock;
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<engine::Scheduler> scheduler;
  std::unique_ptr<notify::TemplateStore> templates;
  std::unique_ptr<notify::Notifier> notifier;
  std::unique_ptr<webhooks::Dispatcher> dispatcher;
  std::unique_ptr<webhooks::Inbox> inbox;
  std::unique_ptr<apps::maintenance::Maintenance> maintenance;
  std::unique_ptr<docs::Documents> documents;
  std::unique_ptr<apps::tickets::Ticketing> ticketing;
  std::unique_ptr<apps::tickets::Scanner> scanner;
  std::unique_ptr<apps::tickets::LocalGateway> payment_gateway;
  std::unique_ptr<apps::tickets::TicketGenerator> generator;
  std::unique_ptr<apps::tickets::Purchases> purchases;
};

}  // namespace herald::http::testing
