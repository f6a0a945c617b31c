#pragma once
// Runtime: the store, engine and scheduler of one `herald` process, wired from a Config.
// `herald serve` opens it as the store's owner (an exclusive lock: one server per file); the
// other commands open it as tools that read and make small edits, which a running server
// picks up within its poll interval.

#include <memory>

#include "apps/maintenance/maintenance.h"
#include "apps/tickets/payment_gateway.h"
#include "apps/tickets/purchases.h"
#include "apps/tickets/scanner.h"
#include "apps/tickets/ticketing.h"
#include "auth/authenticator.h"
#include "core/config.h"
#include "docs/documents.h"
#include "engine/engine.h"
#include "engine/scheduler.h"
#include "notify/notifier.h"
#include "notify/template_store.h"
#include "store/sqlite/sqlite_store.h"
#include "webhooks/dispatcher.h"
#include "webhooks/inbox.h"

namespace herald::cli {

struct Runtime {
  core::Config config;
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<engine::Scheduler> scheduler;
  std::unique_ptr<auth::Authenticator> auth;
  std::unique_ptr<notify::TemplateStore> templates;
  std::unique_ptr<notify::Notifier> notifier;
  std::unique_ptr<webhooks::Dispatcher> webhooks;
  std::unique_ptr<webhooks::Inbox> inbox;
  std::unique_ptr<apps::maintenance::Maintenance> maintenance;
  std::unique_ptr<docs::Documents> documents;
  std::unique_ptr<apps::tickets::Ticketing> ticketing;
  std::unique_ptr<apps::tickets::Scanner> scanner;
  std::unique_ptr<apps::tickets::PaymentGateway> payment_gateway;
  std::unique_ptr<apps::tickets::TicketGenerator> generator;
  std::unique_ptr<apps::tickets::Purchases> purchases;
};

// Opens the store (creating its folder), applies every module's migrations, registers every
// job handler and sets up authentication (loading or creating the JWT key). Nothing runs
// until the caller starts the engine and scheduler.
Result<std::unique_ptr<Runtime>> OpenRuntime(const core::Config& config, bool server);

// Every job type this binary can run (diagnostic types and the modules' handlers).
void RegisterHandlers(engine::Engine& engine);

}  // namespace herald::cli
