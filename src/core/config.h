#pragma once
// Herald's configuration: a TOML file, then HERALD_* environment variables on top, then
// validation. Every error names the offending key (e.g. "engine.workers: must be in 1..1024,
// got 0"). Keys, types, defaults and ranges: docs/CONFIGURATION.md.
//
// Environment overrides: HERALD_<SECTION>_<KEY> in upper case replaces `<section>.<key>`
// (HERALD_ENGINE_WORKERS=8 sets engine.workers, HERALD_LOG_FORMAT=json sets log.format).
// Durations are strings with a unit: "250ms", "30s", "5m", "24h", "7d".

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "core/status.h"

namespace herald::core {

struct RateLimit {
  int64_t limit = 0;  // jobs per interval; 0 = unlimited
  absl::Duration interval = absl::Seconds(1);
};

struct QueueConfig {
  int concurrency = 0;   // at most this many running at once on this node; 0 = no cap
  RateLimit rate;        // whole queue
  RateLimit group_rate;  // per job group key
};

struct Config {
  struct Store {
    std::string path = "data/herald.db";
    std::string synchronous = "normal";  // "normal" (WAL: process-crash safe) or "full"
    absl::Duration busy_timeout = absl::Seconds(5);
    int max_batch = 4096;  // requests per group commit
  } store;

  struct Engine {
    int workers = 4;                                     // worker threads
    absl::Duration lease = absl::Seconds(30);            // a running job's lease
    absl::Duration heartbeat = absl::Seconds(10);        // lease renewal period
    absl::Duration default_timeout = absl::Minutes(30);  // per attempt, when a job sets none
    int default_max_attempts = 3;
    int64_t max_payload_bytes = 1 << 20;
    absl::Duration retention_succeeded = absl::Hours(24);
    absl::Duration retention_failed = absl::Hours(24 * 7);  // dead and cancelled
    absl::Duration shutdown_grace = absl::Seconds(30);
    std::map<std::string, QueueConfig> queues;  // [engine.queues.NAME]
  } engine;

  struct Scheduler {
    absl::Duration misfire_grace = absl::Seconds(60);  // a slot later than this is a misfire
    int max_catchup = 1000;                            // cap for misfire policy "fire_all"
  } scheduler;

  struct Http {
    std::string address = "127.0.0.1";
    int port = 8080;                                   // 0: any free port
    int threads = 4;                                   // connection threads
    int64_t max_body_bytes = 1 << 20;                  // larger bodies get 413
    absl::Duration header_timeout = absl::Seconds(5);  // a request's header, from its first byte
    absl::Duration read_timeout = absl::Seconds(10);   // a whole request, from its first byte
    absl::Duration write_timeout = absl::Seconds(10);  // a response, from its first byte
    absl::Duration idle_timeout = absl::Seconds(60);   // keep-alive between requests
    std::string cors_origins;                          // comma-separated; "*" for any; "" none
    // Requests per second per caller (user, service or client IP); 0 = unlimited.
    int rate_limit_auth = 10;     // /api/auth/*: the brute-force surface
    int rate_limit_read = 10000;  // GET
    int rate_limit_write = 5000;  // everything else
  } http;

  struct Auth {
    // HS256 key for user tokens, at least 32 bytes. Empty: a random one is generated once
    // and kept in "<store folder>/jwt.secret" (mode 0600), so tokens survive restarts.
    std::string jwt_secret;
    absl::Duration token_ttl = absl::Hours(1);              // login response expiresIn
    absl::Duration remember_me_ttl = absl::Hours(24 * 30);  // with rememberMe
    std::string admin_email = "admin@herald.local";         // the first admin, if none
    // Shared secrets of services that sign their requests (X-Signature), as
    // "name:secret,name:secret"; each secret at least 32 bytes. Usually set through
    // HERALD_AUTH_SERVICE_SECRETS rather than written in the file.
    std::string service_secrets;
  } auth;

  struct Notify {
    // Email providers in priority order, comma-separated: "smtp", "log" (records what would
    // be sent, viewable at GET /api/notifications/outbox).
    std::string email_providers = "log";
    std::string smtp_url;               // smtp://host:587 (STARTTLS) or smtps://host:465
    std::string smtp_tls = "required";  // STARTTLS on smtp://: required, opportunistic, off
    std::string smtp_username;
    std::string smtp_password;  // better set through HERALD_NOTIFY_SMTP_PASSWORD
    std::string from = "Herald <no-reply@herald.local>";  // default From of emails
    int smtp_pool = 5;                                    // connections kept open and reused
    int smtp_rate = 10;                                   // messages per second; 0 = unlimited
    absl::Duration smtp_timeout = absl::Seconds(30);
    int attempts_per_provider = 3;  // tries of one provider before the next one
    int breaker_failures = 5;       // consecutive failures that open a provider's circuit
    absl::Duration breaker_cooldown = absl::Seconds(30);  // open, then one trial (half-open)
    std::string default_locale = "fr";  // templates: requested, then this, then "en"
    // SMS providers in priority order and their credentials (docs/CONFIGURATION.md).
    std::string sms_providers = "log";
    std::string twilio_account_sid = "";
    std::string twilio_auth_token = "";
    std::string twilio_from = "";
    std::string twilio_url = "https://api.twilio.com";
    std::string twilio_callback_url = "";
    std::string vonage_api_key = "";
    std::string vonage_api_secret = "";
    std::string vonage_from = "";
    std::string vonage_url = "https://rest.nexmo.com";
    std::string brevo_api_key = "";
    std::string brevo_sender = "";
    std::string brevo_url = "https://api.brevo.com";
    std::string freemobile_user = "";
    std::string freemobile_pass = "";
    std::string freemobile_url = "https://smsapi.free-mobile.fr";
    // WhatsApp providers in priority order ("whatsapp" = Meta's Cloud API, "log").
    std::string whatsapp_providers = "log";
    std::string whatsapp_phone_number_id = "";
    std::string whatsapp_access_token = "";  // better set through the environment
    std::string whatsapp_url = "https://graph.facebook.com";
    std::string whatsapp_api_version = "v21.0";
    std::string whatsapp_app_secret = "";    // verifies X-Hub-Signature-256 on status webhooks
    std::string whatsapp_verify_token = "";  // the webhook subscription handshake
    // Chat providers ("webhook" posts to chat_targets, "log") and the named targets:
    // "name=kind:url,..." with kind slack, teams, chime (deprecated) or generic.
    std::string chat_providers = "log";
    std::string chat_targets = "";
    // Calls per second allowed per provider, "name=rate,...", e.g. "twilio=10,whatsapp=20".
    std::string provider_rates = "";
  } notify;

  struct Webhooks {
    // Stripe endpoint signing secrets ("whsec_..."), comma-separated: two during a rotation.
    // Empty: POST /api/webhooks/stripe answers 503.
    std::string stripe_secrets = "";
    absl::Duration stripe_tolerance = absl::Seconds(300);  // either side of the clock
    // Standard Webhooks senders, "name=whsec_...,...": POST /api/webhooks/inbound/{name}.
    std::string inbound_sources = "";
    // 1: outbound endpoints may be loopback or private addresses (development only).
    int allow_private_addresses = 0;
    // An endpoint failing without a success for this long is disabled.
    absl::Duration disable_after = absl::Hours(24 * 5);
  } webhooks;

  struct Maintenance {
    std::string cron_secret = "";                // Bearer secret of POST /api/cron/check-overdue
    std::string check_schedule = "*/5 * * * *";  // the overdue check; "" turns it off
  } maintenance;

  struct Documents {
    std::string root = "";      // where document files go; "" = "documents" beside store.path
    std::string logo = "";      // a PNG drawn on documents whose template has a logo; "" = none
    std::string locale = "fr";  // fr or en: labels, dates and money in documents
    std::string font_dir = "/usr/share/fonts/truetype/dejavu";  // DejaVu Sans, beyond Latin-1
  } documents;

  struct Tickets {
    // Seals the events' ticket-signing keys in the store (at least 32 bytes); "" = a random
    // one kept in "<store folder>/tickets.secret" (mode 0600). Losing it loses the keys.
    std::string secret = "";
    // The same code from the same scanner within this window gets the same answer again.
    absl::Duration scan_repeat_window = absl::Seconds(5);
    // The payment gateway of POST /api/payments/process: "local" (in memory, development) or
    // "stripe" (PaymentIntents API with stripe_api_key).
    std::string gateway = "local";
    std::string stripe_api_key = "";  // sk_... or rk_...; never logged
    std::string stripe_api_url = "https://api.stripe.com";
    // An unpaid purchase releases its tickets this long after it was made ("0s": never).
    absl::Duration hold_for = absl::Minutes(30);
    // The seller printed on the invoices of ticket purchases.
    std::string seller_name = "Herald";
    std::string seller_address = "";
    std::string seller_email = "";
    std::string seller_vat_number = "";
  } tickets;

  struct Log {
    std::string level = "info";   // trace, debug, info, warn, error
    std::string format = "text";  // text or json (one JSON object per line)
  } log;
};

// Parses a duration such as "250ms", "30s", "5m", "24h", "7d" (also combinations "1h30m").
// Grammar: one or more <digits><unit> with units ms, s, m, h, d, each at most once and from
// largest to smallest; no sign, spaces or fractions ("1500ms", not "1.5s"). InvalidArgument
// for empty, negative, missing or unknown unit, garbage, and totals above int64 milliseconds.
Result<absl::Duration> ParseDuration(std::string_view text);

// Parses auth.service_secrets ("name:secret,name:secret"). InvalidArgument without the secret
// in the message.
Result<std::map<std::string, std::string>> ParseServiceSecrets(std::string_view text);

// HERALD_ variables that are not configuration keys and that LoadConfig ignores:
// HERALD_CONFIG (the config file path, read by the CLI) and HERALD_ADMIN_PASSWORD (reserved).
inline constexpr std::array<std::string_view, 2> kNonConfigEnvVars = {"HERALD_CONFIG",
                                                                      "HERALD_ADMIN_PASSWORD"};

// Loads `path` (may be empty: defaults only), applies `env` overrides (normally the process
// environment; a map keeps tests hermetic), validates. Unknown keys are errors, so a typo
// never silently falls back to a default.
//
// Errors (all problems found are reported, in file order then environment, joined by "; "):
//   NotFound          the file does not exist (message names the path);
//   PermissionDenied  the file cannot be read;
//   InvalidArgument   the path is a directory;
//   InvalidArgument   TOML syntax ("<path>:<line>:<column>: TOML syntax error: ..."), an unknown
//                     key ("engine.wrokers: unknown key"), a wrong type ("engine.workers:
//                     expected an integer, got string"), a bad value or range, an unknown
//                     HERALD_ variable. File errors end with " (at <path>:<line>:<column>)",
//                     environment errors with " (from HERALD_...)".
// Environment: every scalar key `<section>.<key>` can be set by HERALD_<SECTION>_<KEY>, parsed
// with the same rules (integers in decimal, durations as above, strings verbatim). Queue
// tables are file-only; queue names are 1..128 of [A-Za-z0-9_.:-]. A variable in kNonConfigEnvVars
// is ignored; any other variable that starts with HERALD_STORE_, HERALD_ENGINE_, HERALD_SCHEDULER_
// or HERALD_LOG_, or is within two typos of a known variable, is an error; other HERALD_ variables
// and non-HERALD_ entries are ignored.
Result<Config> LoadConfig(const std::string& path, const std::map<std::string, std::string>& env);

// Checks every range documented in docs/CONFIGURATION.md (LoadConfig calls it). For configs
// built in code, e.g. by tests. InvalidArgument naming each offending key.
Status ValidateConfig(const Config& config);

// The process environment's HERALD_* variables. Reads `environ`: call it at start-up, before
// threads that might call setenv exist.
std::map<std::string, std::string> HeraldEnvironment();

}  // namespace herald::core
