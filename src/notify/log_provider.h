#pragma once
// LogProvider: the development provider. It sends nothing: it records what would have been
// sent in the store's notification_outbox table, which GET /api/notifications/outbox shows,
// so that a newcomer sees messages without any account. Thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/id.h"
#include "notify/provider.h"
#include "store/store.h"

namespace herald::notify {

struct OutboxEntry {
  std::string id;  // also the provider message id
  std::string notification_id;
  std::string channel;
  std::string recipient;
  std::string subject;
  std::string body;  // the text (the HTML alternative of an email when it has no text)
  std::vector<std::string> attachments;  // file names
  absl::Time created_at;
};

class LogProvider final : public Provider {
 public:
  LogProvider(Channel channel, store::Store& store, const core::Clock& clock)
      : channel_(channel), store_(store), ids_(clock), clock_(clock) {}

  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }
  SendResult Send(const OutboundMessage& message) override;

  // Newest first; `limit` clamped to 1..500.
  static Result<std::vector<OutboxEntry>> List(store::Store& store, int limit);

 private:
  const Channel channel_;
  store::Store& store_;
  core::IdGenerator ids_;
  const core::Clock& clock_;
  const std::string name_ = "log";
};

}  // namespace herald::notify
