#include "notify/log_provider.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "boost/json/array.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/log.h"
#include "core/strings.h"
#include "engine/job_table.h"

namespace herald::notify {

SendResult LogProvider::Send(const OutboundMessage& m) {
  const std::string id = ids_.Next().ToString();
  boost::json::array files;
  for (const Attachment& a : m.mail.attachments) files.emplace_back(a.filename);
  std::string body =
      m.channel == Channel::kEmail ? (m.mail.text.empty() ? m.mail.html : m.mail.text) : m.text;
  if (m.media) {
    files.emplace_back(m.media->link.empty() ? m.media->file.filename : m.media->link);
    body = m.media->caption;
  }
  if (m.whatsapp_template) {
    body = StrCat("[template ", m.whatsapp_template->name, " ", m.whatsapp_template->language, "] ",
                  absl::StrJoin(m.whatsapp_template->body_parameters, " | "));
  }
  const std::string& subject = m.channel == Channel::kEmail ? m.mail.subject : m.title;
  const std::string files_json = boost::json::serialize(files);
  const store::Value params[] = {id,
                                 m.notification_id,
                                 ChannelName(m.channel),
                                 m.recipient,
                                 subject,
                                 body,
                                 files_json,
                                 engine::table::ToMicros(clock_.Now())};
  Status st = store_.Write([&](store::Txn& txn) {
    return txn
        .Exec(
            "INSERT INTO notification_outbox (id, notification_id, channel, recipient, subject,"
            " body, attachments, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params)
        .status();
  });
  if (!st.ok()) return SendResult::Retryable("store", std::string(st.message()));
  core::LogInfo("notification recorded by the log provider",
                {{"notification_id", m.notification_id},
                 {"channel", ChannelName(m.channel)},
                 {"recipient", m.recipient}});
  return SendResult::Sent(id);
}

Result<std::vector<OutboxEntry>> LogProvider::List(store::Store& store, int limit) {
  std::vector<OutboxEntry> out;
  const store::Value params[] = {int64_t{std::clamp(limit, 1, 500)}};
  HERALD_RETURN_IF_ERROR(store.Read([&](store::Txn& txn) -> Status {
    return txn.Query(
        "SELECT id, notification_id, channel, recipient, subject, body, attachments, created_at"
        " FROM notification_outbox ORDER BY id DESC LIMIT ?",
        params, [&](const store::Row& r) {
          OutboxEntry e;
          e.id = r.Text(0);
          e.notification_id = r.Text(1);
          e.channel = r.Text(2);
          e.recipient = r.Text(3);
          e.subject = r.Text(4);
          e.body = r.Text(5);
          boost::system::error_code ec;
          boost::json::value files = boost::json::parse(r.Text(6), ec);
          if (!ec && files.is_array()) {
            for (const auto& f : files.get_array()) {
              if (f.is_string()) e.attachments.emplace_back(f.get_string());
            }
          }
          e.created_at = engine::table::FromMicros(r.Int(7));
          out.push_back(std::move(e));
          return true;
        });
  }));
  return out;
}

}  // namespace herald::notify
