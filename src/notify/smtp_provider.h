#pragma once
// SmtpProvider: sends email through one SMTP relay with libcurl.
//
// - smtp://host:port upgrades with STARTTLS (required, opportunistic or off); smtps:// is
//   implicit TLS. Certificates are always verified (against `ca_file` if set, else the
//   system store); AUTH is used when a username is set.
// - Up to `pool` connections are kept open and reused across messages (one curl handle
//   each; curl keeps the connection alive between transfers, sends QUIT on cleanup).
//   A sender waits for a free connection.
// - At most `rate` messages per second leave (0: unlimited); senders wait for a token.
// - The SMTP reply is classified: 2xx sent; 4xx retryable; 5xx permanent for the message
//   (MAIL FROM, RCPT TO or DATA refused); connection, TLS, authentication failures and
//   timeouts retryable (another provider may do better). The reply code is the result's code.
// The message is built by BuildMessage (mime.h); its Message-ID is the provider message id.
// Thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/status.h"
#include "notify/provider.h"
#include "notify/rate_pacer.h"

namespace herald::notify {

struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  enum class Tls { kRequired, kOpportunistic, kOff } tls = Tls::kRequired;
  std::string username;  // empty: no AUTH
  std::string password;
  std::string ca_file;  // PEM bundle to trust instead of the system store (tests)
  int pool = 5;
  int rate = 10;  // messages per second; 0 = unlimited
  absl::Duration timeout = absl::Seconds(30);
  std::string message_id_domain = "herald.local";
};

// "required", "opportunistic", "off".
Result<SmtpOptions::Tls> ParseSmtpTls(std::string_view name);

class SmtpProvider final : public Provider {
 public:
  // InvalidArgument for a URL that is not smtp:// or smtps:// or a pool outside 1..100.
  static Result<std::unique_ptr<SmtpProvider>> Create(SmtpOptions options,
                                                      const core::Clock& clock);
  ~SmtpProvider() override;

  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::kEmail; }
  SendResult Send(const OutboundMessage& message) override;

  // Connections opened since start (a reused connection is not counted again).
  int64_t connections_opened() const;

 private:
  struct Handle;
  SmtpProvider(SmtpOptions options, const core::Clock& clock);
  Handle* Acquire();
  void Release(Handle* h);

  const SmtpOptions options_;
  const core::Clock& clock_;
  const std::string name_ = "smtp";
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<std::unique_ptr<Handle>> idle_ ABSL_GUARDED_BY(mu_);
  int created_ ABSL_GUARDED_BY(mu_) = 0;
  RatePacer rate_;
  std::atomic<int64_t> connections_{0};
};

}  // namespace herald::notify
