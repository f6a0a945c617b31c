#include "notify/smtp_provider.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>

#include "core/log.h"
#include "core/strings.h"
#include "net/http_client.h"

namespace herald::notify {
namespace {

struct Upload {
  std::string_view data;
  size_t offset = 0;
};

size_t ReadCallback(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  const size_t n = std::min(size * nitems, up->data.size() - up->offset);
  std::memcpy(buffer, up->data.data() + up->offset, n);
  up->offset += n;
  return n;
}

// Counts new connections (curl calls it for each socket it opens).
curl_socket_t OpenSocket(void* clientp, curlsocktype, struct curl_sockaddr* address) {
  static_cast<std::atomic<int64_t>*>(clientp)->fetch_add(1);
  return socket(address->family, address->socktype, address->protocol);
}

}  // namespace

struct SmtpProvider::Handle {
  CURL* curl = curl_easy_init();
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);  // sends QUIT on an open connection
  }
};

Result<SmtpOptions::Tls> ParseSmtpTls(std::string_view name) {
  if (name == "required") return SmtpOptions::Tls::kRequired;
  if (name == "opportunistic") return SmtpOptions::Tls::kOpportunistic;
  if (name == "off") return SmtpOptions::Tls::kOff;
  return absl::InvalidArgumentError("smtp tls must be one of required, opportunistic, off");
}

Result<std::unique_ptr<SmtpProvider>> SmtpProvider::Create(SmtpOptions options,
                                                           const core::Clock& clock) {
  if (!options.url.starts_with("smtp://") && !options.url.starts_with("smtps://")) {
    return absl::InvalidArgumentError("the SMTP url must start with smtp:// or smtps://");
  }
  if (options.pool < 1 || options.pool > 100) {
    return absl::InvalidArgumentError("the SMTP pool must have 1..100 connections");
  }
  net::EnsureCurlInitialized();
  return std::unique_ptr<SmtpProvider>(new SmtpProvider(std::move(options), clock));
}

SmtpProvider::SmtpProvider(SmtpOptions options, const core::Clock& clock)
    : options_(std::move(options)), clock_(clock), rate_(clock, options_.rate) {}

SmtpProvider::~SmtpProvider() = default;

int64_t SmtpProvider::connections_opened() const { return connections_.load(); }

SmtpProvider::Handle* SmtpProvider::Acquire() {
  absl::MutexLock l(&mu_);
  while (idle_.empty() && created_ >= options_.pool) cv_.Wait(&mu_);
  if (!idle_.empty()) {
    Handle* h = idle_.back().release();
    idle_.pop_back();
    return h;
  }
  created_++;
  return new Handle();
}

void SmtpProvider::Release(Handle* h) {
  absl::MutexLock l(&mu_);
  idle_.emplace_back(h);
  cv_.Signal();
}

SendResult SmtpProvider::Send(const OutboundMessage& message) {
  BuildOptions build;
  build.date = clock_.Now();
  build.message_id_domain = options_.message_id_domain;
  Result<BuiltMessage> built = BuildMessage(message.mail, build);
  if (!built.ok())
    return SendResult::Permanent("invalid_message", std::string(built.status().message()));

  rate_.Wait();
  std::unique_ptr<Handle, std::function<void(Handle*)>> handle(Acquire(),
                                                               [this](Handle* h) { Release(h); });
  CURL* curl = handle->curl;
  if (curl == nullptr) return SendResult::Retryable("curl", "could not create a curl handle");
  curl_easy_reset(curl);  // keeps the connection cache, forgets the previous options

  Upload upload{built->data, 0};
  curl_slist* rcpt = nullptr;
  for (const MailAddress& a : message.mail.to) rcpt = curl_slist_append(rcpt, a.email.c_str());
  for (const MailAddress& a : message.mail.cc) rcpt = curl_slist_append(rcpt, a.email.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpt_guard(rcpt, curl_slist_free_all);
  const std::string from = StrCat("<", message.mail.from.email, ">");

  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadCallback);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(built->data.size()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(
      curl, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(std::min<int64_t>(absl::ToInt64Milliseconds(options_.timeout), 10000)));
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &connections_);
  if (options_.url.starts_with("smtp://")) {
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     options_.tls == SmtpOptions::Tls::kRequired        ? CURLUSESSL_ALL
                     : options_.tls == SmtpOptions::Tls::kOpportunistic ? CURLUSESSL_TRY
                                                                        : CURLUSESSL_NONE);
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
  }
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);

  const CURLcode rc = curl_easy_perform(curl);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  if (rc == CURLE_OK) return SendResult::Sent(built->message_id);
  const std::string text = error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc);
  // Forget a connection in an unknown state rather than reuse it.
  curl_easy_cleanup(curl);
  handle->curl = curl_easy_init();
  // 5xx to MAIL FROM, RCPT TO or DATA is CURLE_SEND_ERROR; 5xx after the message was sent
  // is CURLE_WEIRD_SERVER_REPLY with the whole upload consumed (the same code for a refused
  // greeting is a server problem: retryable).
  const bool uploaded = upload.offset == upload.data.size();
  if (reply >= 500 && reply < 600 &&
      (rc == CURLE_SEND_ERROR || (rc == CURLE_WEIRD_SERVER_REPLY && uploaded))) {
    return SendResult::Permanent(std::to_string(reply), text);
  }
  if (reply >= 400 && reply < 500) return SendResult::Retryable(std::to_string(reply), text);
  return SendResult::Retryable(StrCat("curl_", static_cast<int>(rc)), text);
}

}  // namespace herald::notify
