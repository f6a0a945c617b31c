#include "cli/runtime.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_split.h"
#include "apps/tickets/ticket_code.h"
#include "auth/crypto.h"
#include "core/log.h"
#include "core/strings.h"
#include "engine/builtin_handlers.h"
#include "notify/chat_providers.h"
#include "notify/log_provider.h"
#include "notify/sms_providers.h"
#include "notify/smtp_provider.h"
#include "notify/whatsapp_provider.h"

namespace herald::cli {

void RegisterHandlers(engine::Engine& engine) { engine::RegisterBuiltinHandlers(engine); }

namespace {

// The providers of each channel, in the configured priority order.
Result<std::map<notify::Channel, std::vector<std::unique_ptr<notify::Provider>>>> NotifyProviders(
    const core::Config::Notify& config, store::Store& store) {
  std::map<notify::Channel, std::vector<std::unique_ptr<notify::Provider>>> out;
  for (absl::string_view name : absl::StrSplit(ToAbsl(config.email_providers), ',')) {
    if (name == "log") {
      out[notify::Channel::kEmail].push_back(std::make_unique<notify::LogProvider>(
          notify::Channel::kEmail, store, core::Clock::Real()));
    } else if (name == "smtp") {
      notify::SmtpOptions o;
      o.url = config.smtp_url;
      HERALD_ASSIGN_OR_RETURN(o.tls, notify::ParseSmtpTls(config.smtp_tls));
      o.username = config.smtp_username;
      o.password = config.smtp_password;
      o.pool = config.smtp_pool;
      o.rate = config.smtp_rate;
      o.timeout = config.smtp_timeout;
      HERALD_ASSIGN_OR_RETURN(auto smtp, notify::SmtpProvider::Create(o, core::Clock::Real()));
      out[notify::Channel::kEmail].push_back(std::move(smtp));
    }
  }
  for (absl::string_view name : absl::StrSplit(ToAbsl(config.sms_providers), ',')) {
    std::unique_ptr<notify::Provider> p;
    if (name == "log") {
      p = std::make_unique<notify::LogProvider>(notify::Channel::kSms, store, core::Clock::Real());
    } else if (name == "twilio") {
      notify::TwilioSmsOptions o;
      o.base_url = config.twilio_url;
      o.account_sid = config.twilio_account_sid;
      o.auth_token = config.twilio_auth_token;
      o.from = config.twilio_from;
      o.status_callback = config.twilio_callback_url;
      HERALD_ASSIGN_OR_RETURN(p, notify::TwilioSmsProvider::Create(o));
    } else if (name == "vonage") {
      notify::VonageSmsOptions o;
      o.base_url = config.vonage_url;
      o.api_key = config.vonage_api_key;
      o.api_secret = config.vonage_api_secret;
      o.from = config.vonage_from;
      HERALD_ASSIGN_OR_RETURN(p, notify::VonageSmsProvider::Create(o));
    } else if (name == "brevo") {
      notify::BrevoSmsOptions o;
      o.base_url = config.brevo_url;
      o.api_key = config.brevo_api_key;
      o.sender = config.brevo_sender;
      HERALD_ASSIGN_OR_RETURN(p, notify::BrevoSmsProvider::Create(o));
    } else if (name == "freemobile") {
      notify::FreeMobileSmsOptions o;
      o.base_url = config.freemobile_url;
      o.user = config.freemobile_user;
      o.pass = config.freemobile_pass;
      HERALD_ASSIGN_OR_RETURN(p, notify::FreeMobileSmsProvider::Create(o));
    }
    if (p) out[notify::Channel::kSms].push_back(std::move(p));
  }
  for (absl::string_view name : absl::StrSplit(ToAbsl(config.whatsapp_providers), ',')) {
    std::unique_ptr<notify::Provider> p;
    if (name == "log") {
      p = std::make_unique<notify::LogProvider>(notify::Channel::kWhatsApp, store,
                                                core::Clock::Real());
    } else if (name == "whatsapp") {
      notify::WhatsAppOptions o;
      o.base_url = config.whatsapp_url;
      o.api_version = config.whatsapp_api_version;
      o.phone_number_id = config.whatsapp_phone_number_id;
      o.access_token = config.whatsapp_access_token;
      HERALD_ASSIGN_OR_RETURN(p, notify::WhatsAppProvider::Create(o));
    }
    if (p) out[notify::Channel::kWhatsApp].push_back(std::move(p));
  }
  for (absl::string_view name : absl::StrSplit(ToAbsl(config.chat_providers), ',')) {
    std::unique_ptr<notify::Provider> p;
    if (name == "log") {
      p = std::make_unique<notify::LogProvider>(notify::Channel::kChat, store, core::Clock::Real());
    } else if (name == "webhook") {
      notify::ChatWebhookOptions o;
      HERALD_ASSIGN_OR_RETURN(o.targets, notify::ParseChatTargets(config.chat_targets));
      for (const notify::ChatTarget& t : o.targets) {
        if (t.kind == notify::ChatKind::kChime) {
          core::LogWarn("chat target uses Amazon Chime, whose support AWS ended on 2026-02-20",
                        {{"target", t.name}});
        }
      }
      HERALD_ASSIGN_OR_RETURN(p, notify::ChatWebhookProvider::Create(o, core::Clock::Real()));
    }
    if (p) out[notify::Channel::kChat].push_back(std::move(p));
  }
  return out;
}

}  // namespace

namespace {

// A configured secret, or the one kept in `file` beside the store (created with 48 random
// bytes, mode 0600, on first use).
Result<std::string> SecretBesideStore(const core::Config& config, const std::string& configured,
                                      std::string_view file) {
  if (!configured.empty()) return configured;
  std::filesystem::path path = std::filesystem::path(config.store.path).parent_path() / file;
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
  HERALD_ASSIGN_OR_RETURN(std::string bytes, auth::RandomBytes(48));
  secret = auth::Base64UrlEncode(bytes);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(StrCat("cannot write ", path.string()));
  }
  std::string line = secret + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  if (!ok) return absl::InternalError(StrCat("cannot write ", path.string()));
  return secret;
}

// [documents]: the root defaults to "documents" beside the store; the logo is read now, so a
// wrong path stops start-up instead of every document.
Result<docs::DocumentsOptions> DocumentOptions(const core::Config& config) {
  docs::DocumentsOptions options;
  options.root = config.documents.root.empty()
                     ? std::filesystem::path(config.store.path).parent_path() / "documents"
                     : std::filesystem::path(config.documents.root);
  options.default_locale = config.documents.locale;
  options.pdf.font_dir = config.documents.font_dir;
  if (!config.documents.logo.empty()) {
    std::ifstream in(config.documents.logo, std::ios::binary);
    if (!in) {
      return absl::FailedPreconditionError(
          StrCat("documents.logo: cannot read ", config.documents.logo));
    }
    options.logo_png.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (options.logo_png.rfind("\x89PNG\r\n\x1a\n", 0) != 0) {
      return absl::FailedPreconditionError(
          StrCat("documents.logo: ", config.documents.logo, " is not a PNG file"));
    }
  }
  return options;
}

}  // namespace

Result<std::unique_ptr<Runtime>> OpenRuntime(const core::Config& config, bool server) {
  auto rt = std::make_unique<Runtime>();
  rt->config = config;
  std::filesystem::path dir = std::filesystem::path(config.store.path).parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          StrCat("store.path: cannot create folder ", dir.string(), ": ", ec.message()));
    }
  }
  store::SqliteOptions options;
  options.path = config.store.path;
  options.synchronous_full = config.store.synchronous == "full";
  options.busy_timeout = config.store.busy_timeout;
  options.max_batch = config.store.max_batch;
  options.exclusive_owner = server;
  HERALD_ASSIGN_OR_RETURN(rt->store, store::SqliteStore::Open(options));
  HERALD_RETURN_IF_ERROR(engine::Engine::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(engine::Scheduler::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(auth::Authenticator::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(notify::Notifier::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(webhooks::Dispatcher::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(webhooks::Inbox::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(apps::maintenance::Maintenance::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(docs::Documents::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(apps::tickets::Ticketing::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(apps::tickets::Purchases::Migrate(*rt->store));
  HERALD_RETURN_IF_ERROR(apps::tickets::TicketGenerator::Migrate(*rt->store));
  auth::AuthOptions auth_options;
  HERALD_ASSIGN_OR_RETURN(auth_options.jwt_secret,
                          SecretBesideStore(config, config.auth.jwt_secret, "jwt.secret"));
  auth_options.token_ttl = config.auth.token_ttl;
  auth_options.remember_me_ttl = config.auth.remember_me_ttl;
  HERALD_ASSIGN_OR_RETURN(auto services, core::ParseServiceSecrets(config.auth.service_secrets));
  for (auto& [name, secret] : services) auth_options.service_secrets[name] = secret;
  HERALD_ASSIGN_OR_RETURN(rt->auth, auth::Authenticator::Create(*rt->store, core::Clock::Real(),
                                                                std::move(auth_options)));
  // Seed 001: each notification channel's queue runs 3 deliveries at once unless configured.
  core::Config::Engine engine_config = config.engine;
  for (std::string_view channel : {"email", "sms", "whatsapp", "chat"}) {
    int& concurrency = engine_config.queues[StrCat("notify.", channel)].concurrency;
    if (concurrency == 0) concurrency = 3;
  }
  HERALD_ASSIGN_OR_RETURN(rt->engine,
                          engine::Engine::Create(*rt->store, core::Clock::Real(), engine_config));
  RegisterHandlers(*rt->engine);
  HERALD_ASSIGN_OR_RETURN(
      rt->templates,
      notify::TemplateStore::Create(*rt->store, core::Clock::Real(), config.notify.default_locale));
  HERALD_ASSIGN_OR_RETURN(auto providers, NotifyProviders(config.notify, *rt->store));
  HERALD_ASSIGN_OR_RETURN(
      rt->notifier,
      notify::Notifier::Create(*rt->store, *rt->engine, *rt->templates, core::Clock::Real(),
                               config.notify, std::move(providers)));
  webhooks::DispatcherOptions webhook_options;
  webhook_options.allow_private_addresses = config.webhooks.allow_private_addresses != 0;
  webhook_options.disable_after = config.webhooks.disable_after;
  HERALD_ASSIGN_OR_RETURN(rt->webhooks,
                          webhooks::Dispatcher::Create(*rt->store, *rt->engine, core::Clock::Real(),
                                                       std::move(webhook_options)));
  HERALD_ASSIGN_OR_RETURN(
      rt->inbox,
      webhooks::Inbox::Create(*rt->store, *rt->engine, core::Clock::Real(), rt->webhooks.get()));
  HERALD_ASSIGN_OR_RETURN(
      rt->maintenance, apps::maintenance::Maintenance::Create(*rt->store, *rt->engine,
                                                              *rt->webhooks, core::Clock::Real()));
  HERALD_ASSIGN_OR_RETURN(docs::DocumentsOptions document_options, DocumentOptions(config));
  HERALD_ASSIGN_OR_RETURN(rt->documents,
                          docs::Documents::Create(*rt->store, *rt->engine, core::Clock::Real(),
                                                  std::move(document_options)));
  HERALD_ASSIGN_OR_RETURN(std::string tickets_secret,
                          SecretBesideStore(config, config.tickets.secret, "tickets.secret"));
  apps::tickets::TicketingOptions ticket_options;
  ticket_options.master_key = apps::tickets::DeriveKey(tickets_secret, "herald ticket keys");
  HERALD_ASSIGN_OR_RETURN(rt->ticketing, apps::tickets::Ticketing::Create(
                                             *rt->store, core::Clock::Real(), ticket_options));
  rt->scanner = std::make_unique<apps::tickets::Scanner>(
      *rt->store, core::Clock::Real(),
      apps::tickets::ScannerOptions{.repeat_window = config.tickets.scan_repeat_window});
  if (config.tickets.gateway == "stripe") {
    apps::tickets::StripeGatewayOptions stripe;
    stripe.api_key = config.tickets.stripe_api_key;
    stripe.base_url = config.tickets.stripe_api_url;
    HERALD_ASSIGN_OR_RETURN(rt->payment_gateway,
                            apps::tickets::StripeGateway::Create(std::move(stripe)));
  } else {
    HERALD_ASSIGN_OR_RETURN(rt->payment_gateway, apps::tickets::LocalGateway::Create());
  }
  HERALD_ASSIGN_OR_RETURN(
      rt->generator, apps::tickets::TicketGenerator::Create(*rt->store, *rt->engine, *rt->ticketing,
                                                            *rt->documents, *rt->webhooks,
                                                            *rt->notifier, core::Clock::Real()));
  rt->generator->ListenToOutsideGenerators(*rt->inbox);
  apps::tickets::PurchaseFollowUp follow_up{.hold_for = config.tickets.hold_for,
                                            .generator = rt->generator.get(),
                                            .engine = rt->engine.get(),
                                            .documents = rt->documents.get(),
                                            .notifier = rt->notifier.get()};
  follow_up.seller = {.name = config.tickets.seller_name,
                      .address = config.tickets.seller_address,
                      .email = config.tickets.seller_email,
                      .vat_number = config.tickets.seller_vat_number};
  HERALD_ASSIGN_OR_RETURN(rt->purchases, apps::tickets::Purchases::Create(
                                             *rt->store, *rt->ticketing, *rt->payment_gateway,
                                             *rt->inbox, core::Clock::Real(), follow_up));
  HERALD_ASSIGN_OR_RETURN(
      rt->scheduler,
      engine::Scheduler::Create(*rt->store, *rt->engine, core::Clock::Real(), config.scheduler));
  if (server && !config.maintenance.check_schedule.empty()) {
    HERALD_RETURN_IF_ERROR(
        apps::maintenance::EnsureSchedule(*rt->scheduler, config.maintenance.check_schedule));
  }
  return rt;
}

}  // namespace herald::cli
