#include "http/notify_routes.h"

#include "absl/strings/escaping.h"
#include "core/strings.h"
#include "http/contact_routes.h"
#include "http/json_fields.h"
#include "notify/log_provider.h"
#include "notify/sms_segments.h"

namespace herald::http {
namespace {

namespace json = boost::json;
using notify::Channel;
using notify::Notification;

// Seed 003's status shape, plus what a mature API reports (priority, attempts, error).
json::object NotificationJson(const Notification& n) {
  json::object o{{"notificationId", n.id},
                 {"type", notify::ChannelName(n.channel)},
                 {"status", notify::StatusName(n.status)},
                 {"recipient", n.recipient},
                 {"subject", n.subject},
                 {"template", n.template_id},
                 {"locale", n.locale},
                 {"priority", n.high_priority ? "high" : "normal"},
                 {"provider", n.provider},
                 {"providerMessageId", n.provider_message_id},
                 {"attempts", n.attempts},
                 {"createdAt", Rfc3339(n.created_at)},
                 {"scheduledAt", Rfc3339OrNull(n.scheduled_at)},
                 {"sentAt", Rfc3339OrNull(n.sent_at)},
                 {"updatedAt", Rfc3339(n.updated_at)},
                 {"jobId", n.job_id}};
  if (!n.contact_id.empty()) o["contactId"] = n.contact_id;
  if (n.quiet_deferred) o["deferredForQuietHours"] = true;
  if (!n.error.empty() || !n.error_code.empty()) {
    o["error"] = json::object{{"code", n.error_code}, {"message", n.error}};
  }
  for (const auto& [k, v] : n.metadata) o[k] = v;  // e.g. eventId, as the seed shows
  if (!n.attempt_log.empty()) {
    json::array log;
    for (const notify::Attempt& a : n.attempt_log) {
      log.push_back(json::object{{"attempt", a.attempt},
                                 {"provider", a.provider},
                                 {"outcome", a.outcome},
                                 {"code", a.code},
                                 {"message", a.message},
                                 {"latencyMs", absl::ToDoubleMilliseconds(a.latency)},
                                 {"at", Rfc3339(a.at)}});
    }
    o["attemptLog"] = std::move(log);
  }
  return o;
}

// Seed 003's send response.
json::object SendResponseJson(const Notification& n) {
  return json::object{
      {"success", true},
      {"data",
       {{"notificationId", n.id},
        {"messageId",
         n.provider_message_id.empty() ? json::value(nullptr) : json::value(n.provider_message_id)},
        {"status", notify::StatusName(n.status)},
        {"provider", n.provider.empty() ? json::value(nullptr) : json::value(n.provider)},
        {"sentAt", Rfc3339OrNull(n.sent_at)},
        {"scheduledAt", Rfc3339OrNull(n.scheduled_at)},
        {"jobId", n.job_id}}}};
}

Result<bool> ParsePriority(std::string_view p, const std::string& field) {
  std::string lower(p);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "high" || lower == "urgent") return true;
  if (lower == "normal" || lower == "low") return false;
  return absl::InvalidArgumentError(StrCat(field, ": expected high or normal"));
}

Result<Response> Submit(notify::Notifier& notifier, Channel channel, Request& req,
                        const json::object& body) {
  HERALD_ASSIGN_OR_RETURN(notify::SendRequest r, ParseSendRequest(channel, body));
  const std::string_view header_key = req.Header("idempotency-key");
  if (!header_key.empty()) {
    if (!r.idempotency_key.empty() && r.idempotency_key != header_key) {
      return absl::InvalidArgumentError("idempotencyKey: differs from the Idempotency-Key header");
    }
    r.idempotency_key = std::string(header_key);
  }
  if (req.principal) r.created_by = req.principal->name;
  if (r.to.starts_with("role:")) {
    HERALD_ASSIGN_OR_RETURN(std::vector<notify::SubmitResult> group, notifier.SubmitGroup(r));
    json::array items;
    for (const notify::SubmitResult& one : group) {
      items.push_back(SendResponseJson(one.notification).at("data"));
    }
    return Response::Json(201, json::object{{"success", true},
                                            {"data",
                                             {{"group", r.to},
                                              {"recipients", items.size()},
                                              {"notifications", std::move(items)}}}});
  }
  HERALD_ASSIGN_OR_RETURN(notify::SubmitResult result, notifier.Submit(r));
  Response resp = Response::Json(201, SendResponseJson(result.notification));
  if (result.replayed) resp.headers.emplace_back("Idempotent-Replayed", "true");
  return resp;
}

json::object TemplateJson(const notify::TemplateVersion& v) {
  json::object o{{"id", v.id},
                 {"channel", notify::ChannelName(v.channel)},
                 {"locale", v.locale},
                 {"version", v.version},
                 {"createdAt", Rfc3339(v.created_at)}};
  if (v.channel == Channel::kEmail && v.content.body.empty()) {
    o["subject"] = v.content.subject;
    o["html"] = v.content.html;
    o["text"] = v.content.text;
  } else {
    o["body"] = v.content.body;
  }
  return o;
}

json::object StatsJson(const notify::ChannelStats& s) {
  return json::object{{"total", s.total},         {"pending", s.pending},
                      {"sending", s.sending},     {"sent", s.sent},
                      {"delivered", s.delivered}, {"failed", s.failed},
                      {"bounced", s.bounced},     {"averageLatencyMs", s.average_latency_ms}};
}

Result<Channel> ChannelParam(const Request& req, const json::object* body) {
  std::string name = "email";
  if (auto q = req.Query("channel")) name = std::string(*q);
  if (body != nullptr) {
    Fields f(*body);
    HERALD_ASSIGN_OR_RETURN(auto c, f.String("channel"));
    if (c) name = *c;
  }
  return notify::ParseChannel(name);
}

}  // namespace

std::string NotifyMetricsText(const notify::Notifier& notifier) {
  std::string out;
  auto line = [&](std::string s) { out.append(s).push_back('\n'); };
  const std::vector<notify::ProviderMetrics> all = notifier.Metrics();
  line("# HELP herald_notify_provider_calls_total Provider calls by channel, provider, outcome.");
  line("# TYPE herald_notify_provider_calls_total counter");
  for (const auto& m : all) {
    const std::string labels = StrCat("channel=\"", m.channel, "\",provider=\"", m.provider, "\"");
    line(StrCat("herald_notify_provider_calls_total{", labels, ",outcome=\"sent\"} ", m.sent));
    line(StrCat("herald_notify_provider_calls_total{", labels, ",outcome=\"retryable\"} ",
                m.retryable));
    line(StrCat("herald_notify_provider_calls_total{", labels, ",outcome=\"permanent\"} ",
                m.permanent));
  }
  line("# HELP herald_notify_provider_latency_seconds Duration of provider calls.");
  line("# TYPE herald_notify_provider_latency_seconds histogram");
  for (const auto& m : all) {
    const std::string labels = StrCat("channel=\"", m.channel, "\",provider=\"", m.provider, "\"");
    int64_t cumulative = 0;
    for (size_t i = 0; i < std::size(notify::kProviderLatencyBuckets); ++i) {
      cumulative += m.latency_buckets[i];
      line(StrCat("herald_notify_provider_latency_seconds_bucket{", labels, ",le=\"",
                  notify::kProviderLatencyBuckets[i], "\"} ", cumulative));
    }
    line(StrCat("herald_notify_provider_latency_seconds_bucket{", labels, ",le=\"+Inf\"} ",
                m.latency_count));
    line(
        StrCat("herald_notify_provider_latency_seconds_sum{", labels, "} ", m.latency_sum_seconds));
    line(StrCat("herald_notify_provider_latency_seconds_count{", labels, "} ", m.latency_count));
  }
  line("# HELP herald_notify_circuit_state Provider circuit: 0 closed, 1 half-open, 2 open.");
  line("# TYPE herald_notify_circuit_state gauge");
  for (const auto& m : all) {
    line(StrCat("herald_notify_circuit_state{channel=\"", m.channel, "\",provider=\"", m.provider,
                "\"} ",
                m.breaker == "closed"      ? 0
                : m.breaker == "half_open" ? 1
                                           : 2));
  }
  return out;
}

Result<notify::SendRequest> ParseSendRequest(Channel channel, const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"to", "template", "template_id", "data", "variables", "locale", "subject",
                    "replyTo", "options", "priority", "scheduled_at", "idempotencyKey",
                    "attachments", "metadata", "eventId", "channel", "title", "whatsapp"}));
  notify::SendRequest r;
  r.channel = channel;
  HERALD_ASSIGN_OR_RETURN(auto to, f.String("to"));
  if (!to) return absl::InvalidArgumentError("to: required");
  r.to = *to;
  HERALD_ASSIGN_OR_RETURN(auto tpl, f.String("template"));
  HERALD_ASSIGN_OR_RETURN(auto tpl_id, f.String("template_id"));
  if (tpl && tpl_id) return absl::InvalidArgumentError("template: give template or template_id");
  r.template_id = tpl ? *tpl : tpl_id ? *tpl_id : "";
  if (const json::value* wa = f.Get("whatsapp"); wa != nullptr && !wa->is_null()) {
    if (!wa->is_object()) return absl::InvalidArgumentError("whatsapp: expected an object");
    Fields w(wa->get_object(), "whatsapp.");
    HERALD_RETURN_IF_ERROR(w.CheckKnown({"template", "media"}));
    if (const json::value* t = w.Get("template"); t != nullptr && !t->is_null()) {
      if (!t->is_object())
        return absl::InvalidArgumentError("whatsapp.template: expected an object");
      Fields wt(t->get_object(), "whatsapp.template.");
      HERALD_RETURN_IF_ERROR(wt.CheckKnown({"name", "language", "parameters"}));
      notify::WhatsAppTemplate out;
      HERALD_RETURN_IF_ERROR(wt.StringInto("name", out.name));
      HERALD_RETURN_IF_ERROR(wt.StringInto("language", out.language));
      if (const json::value* ps = wt.Get("parameters"); ps != nullptr && !ps->is_null()) {
        if (!ps->is_array()) {
          return absl::InvalidArgumentError("whatsapp.template.parameters: expected an array");
        }
        for (const json::value& p : ps->get_array()) {
          if (!p.is_string()) {
            return absl::InvalidArgumentError("whatsapp.template.parameters: expected strings");
          }
          out.body_parameters.emplace_back(p.get_string());
        }
      }
      r.whatsapp_template = std::move(out);
    }
    if (const json::value* m = w.Get("media"); m != nullptr && !m->is_null()) {
      if (!m->is_object()) return absl::InvalidArgumentError("whatsapp.media: expected an object");
      Fields wm(m->get_object(), "whatsapp.media.");
      HERALD_RETURN_IF_ERROR(wm.CheckKnown({"type", "link", "caption"}));
      notify::Media media;
      HERALD_RETURN_IF_ERROR(wm.StringInto("type", media.type));
      HERALD_RETURN_IF_ERROR(wm.StringInto("link", media.link));
      HERALD_RETURN_IF_ERROR(wm.StringInto("caption", media.caption));
      r.media = std::move(media);
    }
  }
  if (r.template_id.empty() && !r.whatsapp_template) {
    return absl::InvalidArgumentError("template: required");
  }
  const json::value* data = f.Get("data");
  const json::value* variables = f.Get("variables");
  if (data != nullptr && variables != nullptr) {
    return absl::InvalidArgumentError("data: give data or variables");
  }
  if (variables != nullptr) data = variables;
  if (data != nullptr && !data->is_null()) {
    if (!data->is_object()) return absl::InvalidArgumentError("data: expected an object");
    r.data = data->get_object();
  }
  HERALD_RETURN_IF_ERROR(f.StringInto("locale", r.locale));
  HERALD_RETURN_IF_ERROR(f.StringInto("subject", r.subject));
  HERALD_ASSIGN_OR_RETURN(auto title, f.String("title"));
  if (title) {
    if (!r.subject.empty()) return absl::InvalidArgumentError("title: give subject or title");
    r.subject = *title;
  }
  HERALD_RETURN_IF_ERROR(f.StringInto("replyTo", r.reply_to));
  HERALD_RETURN_IF_ERROR(f.StringInto("idempotencyKey", r.idempotency_key));
  HERALD_ASSIGN_OR_RETURN(auto priority, f.String("priority"));
  if (priority) {
    HERALD_ASSIGN_OR_RETURN(r.high_priority, ParsePriority(*priority, "priority"));
  }
  HERALD_ASSIGN_OR_RETURN(auto scheduled, f.Time("scheduled_at"));
  if (scheduled) r.scheduled_at = *scheduled;
  if (const json::value* options = f.Get("options"); options != nullptr && !options->is_null()) {
    if (!options->is_object()) return absl::InvalidArgumentError("options: expected an object");
    Fields o(options->get_object(), "options.");
    HERALD_RETURN_IF_ERROR(o.CheckKnown({"priority", "scheduledAt", "locale"}));
    HERALD_ASSIGN_OR_RETURN(auto p, o.String("priority"));
    if (p) {
      HERALD_ASSIGN_OR_RETURN(r.high_priority, ParsePriority(*p, "options.priority"));
    }
    HERALD_ASSIGN_OR_RETURN(auto at, o.Time("scheduledAt"));
    if (at) r.scheduled_at = *at;
    HERALD_RETURN_IF_ERROR(o.StringInto("locale", r.locale));
  }
  if (const json::value* meta = f.Get("metadata"); meta != nullptr && !meta->is_null()) {
    if (!meta->is_object()) return absl::InvalidArgumentError("metadata: expected an object");
    r.metadata = meta->get_object();
  }
  if (const json::value* event = f.Get("eventId"); event != nullptr) {
    if (!event->is_string() && !event->is_int64() && !event->is_uint64()) {
      return absl::InvalidArgumentError("eventId: expected a string or an integer");
    }
    r.metadata["eventId"] = *event;
  }
  if (const json::value* files = f.Get("attachments"); files != nullptr && !files->is_null()) {
    if (!files->is_array()) return absl::InvalidArgumentError("attachments: expected an array");
    int i = 0;
    for (const json::value& file : files->get_array()) {
      const std::string prefix = StrCat("attachments[", i++, "].");
      if (!file.is_object()) {
        return absl::InvalidArgumentError(
            StrCat(prefix.substr(0, prefix.size() - 1), ": expected an object"));
      }
      Fields a(file.get_object(), prefix);
      HERALD_RETURN_IF_ERROR(a.CheckKnown({"filename", "content", "contentType", "mimeType"}));
      notify::AttachmentInput in;
      HERALD_ASSIGN_OR_RETURN(auto name, a.String("filename"));
      HERALD_ASSIGN_OR_RETURN(auto content, a.String("content"));
      HERALD_ASSIGN_OR_RETURN(auto type, a.String("contentType"));
      HERALD_ASSIGN_OR_RETURN(auto mime, a.String("mimeType"));
      if (!name || name->empty())
        return absl::InvalidArgumentError(StrCat(prefix, "filename: required"));
      if (!content) return absl::InvalidArgumentError(StrCat(prefix, "content: required (base64)"));
      in.filename = *name;
      if (!absl::Base64Unescape(ToAbsl(*content), &in.data)) {
        return absl::InvalidArgumentError(StrCat(prefix, "content: not valid base64"));
      }
      in.content_type = type ? *type : mime ? *mime : "";
      r.attachments.push_back(std::move(in));
    }
  }
  return r;
}

void AddNotifyRoutes(Router& router, notify::Notifier& notifier, notify::TemplateStore& templates,
                     store::Store& store) {
  AddContactRoutes(router, notifier.contacts());
  const std::string tag = "notifications";
  for (Channel channel : {Channel::kEmail, Channel::kSms, Channel::kWhatsApp, Channel::kChat}) {
    router.Add({"POST", StrCat("/api/notifications/", notify::ChannelName(channel)),
                "notifications:create",
                StrCat("Send a ", notify::ChannelName(channel), " notification from a template"),
                [&notifier, channel](Request& req) -> Result<Response> {
                  HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                  return Submit(notifier, channel, req, body);
                },
                201, tag});
  }
  router.Add(
      {"POST", "/api/notifications/bulk", "notifications:create",
       "Send many notifications: each item has a channel and the single route's body",
       [&notifier](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
         Fields f(body);
         HERALD_RETURN_IF_ERROR(f.CheckKnown({"notifications"}));
         const json::value* items = f.Get("notifications");
         if (items == nullptr || !items->is_array() || items->get_array().empty() ||
             items->get_array().size() > 1000) {
           return absl::InvalidArgumentError("notifications: expected an array of 1 to 1000 items");
         }
         json::array results;
         int accepted = 0;
         for (const json::value& item : items->get_array()) {
           Result<json::object> one = [&]() -> Result<json::object> {
             if (!item.is_object()) return absl::InvalidArgumentError("expected an object");
             Fields i(item.get_object());
             HERALD_ASSIGN_OR_RETURN(auto c, i.String("channel"));
             HERALD_ASSIGN_OR_RETURN(Channel channel, notify::ParseChannel(c ? *c : "email"));
             HERALD_ASSIGN_OR_RETURN(notify::SendRequest r,
                                     ParseSendRequest(channel, item.get_object()));
             if (req.principal) r.created_by = req.principal->name;
             HERALD_ASSIGN_OR_RETURN(notify::SubmitResult s, notifier.Submit(r));
             return SendResponseJson(s.notification);
           }();
           if (one.ok()) {
             accepted++;
             results.push_back(std::move(*one));
           } else {
             results.push_back(json::object{{"success", false},
                                            {"error",
                                             {{"status", HttpStatus(one.status())},
                                              {"message", std::string(one.status().message())}}}});
           }
         }
         return Response::Json(
             201, json::object{{"success", accepted == static_cast<int>(results.size())},
                               {"accepted", accepted},
                               {"rejected", static_cast<int>(results.size()) - accepted},
                               {"results", std::move(results)}});
       },
       201, tag});
  router.Add({"POST", "/api/notifications/callbacks/twilio", "",
              "Twilio delivery reports (authenticated by X-Twilio-Signature, not a token)",
              [&notifier](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(
                    notifier.HandleTwilioCallback(req.body, req.Header("x-twilio-signature")));
                return Response::Json(200, json::object{{"success", true}});
              },
              200, tag});
  router.Add({"GET",
              "/api/notifications/callbacks/whatsapp",
              "",
              "Meta's webhook subscription handshake (hub.mode, hub.verify_token, hub.challenge)",
              [&notifier](Request& req) -> Result<Response> {
                auto param = [&](std::string_view name) {
                  auto v = req.Query(name);
                  return v ? std::string(*v) : std::string();
                };
                HERALD_ASSIGN_OR_RETURN(
                    std::string challenge,
                    notifier.VerifyWhatsAppSubscription(
                        param("hub.mode"), param("hub.verify_token"), param("hub.challenge")));
                return Response::Text(200, std::move(challenge), "text/plain");
              },
              200,
              tag,
              {{"hub.mode", "subscribe"},
               {"hub.verify_token", "the verify token configured for WhatsApp"},
               {"hub.challenge", "echoed back when the token matches"}}});
  router.Add({"POST", "/api/notifications/callbacks/whatsapp", "",
              "WhatsApp delivery statuses (authenticated by X-Hub-Signature-256, not a token)",
              [&notifier](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(
                    notifier.HandleWhatsAppCallback(req.body, req.Header("x-hub-signature-256")));
                return Response::Json(200, json::object{{"success", true}});
              },
              200, tag});
  router.Add(
      {"GET", "/api/notifications/{id}/status", "notifications:read",
       "A notification's status, with its attempts",
       [&notifier](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(Notification n, notifier.Get(req.params.at("id")));
         return Response::Json(200, json::object{{"success", true}, {"data", NotificationJson(n)}});
       },
       200, tag});
  router.Add(
      {"POST", "/api/notifications/{id}/retry", "notifications:create",
       "Send a failed notification again, from its first provider",
       [&notifier](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(Notification n, notifier.Retry(req.params.at("id")));
         return Response::Json(200, json::object{{"success", true}, {"data", NotificationJson(n)}});
       },
       200, tag});
  router.Add(
      {"GET", "/api/notifications/history", "notifications:read",
       "Notifications, newest first; filters channel, status, recipient, template, from, to",
       [&notifier](Request& req) -> Result<Response> {
         notify::HistoryFilter f;
         if (auto c = req.Query("channel")) {
           HERALD_ASSIGN_OR_RETURN(f.channel, notify::ParseChannel(*c));
         }
         if (auto s = req.Query("status")) {
           HERALD_ASSIGN_OR_RETURN(f.status, notify::ParseStatus(*s));
         }
         if (auto r = req.Query("recipient")) f.recipient = std::string(*r);
         if (auto t = req.Query("template")) f.template_id = std::string(*t);
         if (auto c = req.Query("cursor")) f.before_id = std::string(*c);
         HERALD_ASSIGN_OR_RETURN(f.from, QueryTime(req, "from"));
         HERALD_ASSIGN_OR_RETURN(f.to, QueryTime(req, "to"));
         HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 500));
         if (limit) f.limit = static_cast<int>(*limit);
         HERALD_ASSIGN_OR_RETURN(auto list, notifier.History(f));
         json::array data;
         for (const Notification& n : list) data.push_back(NotificationJson(n));
         json::value next = nullptr;
         if (static_cast<int>(list.size()) == f.limit) next = json::value(list.back().id);
         return Response::Json(
             200, json::object{{"success", true}, {"data", std::move(data)}, {"nextCursor", next}});
       },
       200, tag,
       PageQuery({{"channel", "email, sms, whatsapp or chat"},
                  {"status", "only notifications in this status"},
                  {"recipient", "only this recipient"},
                  {"template", "only this template"},
                  {"from", "created at or after (RFC 3339)"},
                  {"to", "created before (RFC 3339)"}})});
  router.Add({"GET",
              "/api/notifications/statistics",
              "notifications:read",
              "Counts and average latency per channel and per provider; optional from, to",
              [&notifier](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto from, QueryTime(req, "from"));
                HERALD_ASSIGN_OR_RETURN(auto to, QueryTime(req, "to"));
                HERALD_ASSIGN_OR_RETURN(notify::Statistics s, notifier.Stats(from, to));
                json::object channels, providers;
                for (const auto& [name, c] : s.by_channel) channels[name] = StatsJson(c);
                for (const auto& [name, c] : s.by_provider) providers[name] = StatsJson(c);
                json::array health;
                for (const notify::ProviderHealth& h : notifier.Providers()) {
                  health.push_back(json::object{
                      {"name", h.name}, {"channel", h.channel}, {"circuit", h.breaker}});
                }
                return Response::Json(200, json::object{{"success", true},
                                                        {"data",
                                                         {{"total", StatsJson(s.total)},
                                                          {"byChannel", std::move(channels)},
                                                          {"byProvider", std::move(providers)},
                                                          {"providers", std::move(health)}}}});
              },
              200,
              tag,
              {{"from", "created at or after (RFC 3339)"}, {"to", "created before (RFC 3339)"}}});
  router.Add(
      {"GET",
       "/api/notifications/outbox",
       "notifications:read",
       "What the log provider recorded instead of sending, newest first",
       [&store](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 500));
         HERALD_ASSIGN_OR_RETURN(auto list, notify::LogProvider::List(store, limit ? *limit : 50));
         json::array data;
         for (const notify::OutboxEntry& e : list) {
           json::array files;
           for (const std::string& a : e.attachments) files.emplace_back(a);
           data.push_back(json::object{{"id", e.id},
                                       {"notificationId", e.notification_id},
                                       {"channel", e.channel},
                                       {"recipient", e.recipient},
                                       {"subject", e.subject},
                                       {"body", e.body},
                                       {"attachments", std::move(files)},
                                       {"createdAt", Rfc3339(e.created_at)}});
         }
         return Response::Json(200, json::object{{"success", true}, {"data", std::move(data)}});
       },
       200,
       tag,
       {{"limit", "the most messages to return", "integer"}}});
  router.Add(
      {"GET", "/api/notifications/providers", "notifications:read",
       "Configured providers per channel in priority order, with their circuit state",
       [&notifier](Request&) -> Result<Response> {
         json::array data;
         for (const notify::ProviderHealth& h : notifier.Providers()) {
           data.push_back(
               json::object{{"name", h.name}, {"channel", h.channel}, {"circuit", h.breaker}});
         }
         return Response::Json(200, json::object{{"success", true}, {"data", std::move(data)}});
       },
       200, tag});

  const std::string ttag = "templates";
  router.Add(
      {"GET", "/api/templates", "templates:read",
       "Templates: the newest version of each (id, channel, locale)",
       [&templates](Request&) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(auto list, templates.List());
         json::array data;
         for (const auto& v : list) data.push_back(TemplateJson(v));
         return Response::Json(200, json::object{{"success", true}, {"data", std::move(data)}});
       },
       200, ttag});
  router.Add(
      {"GET", "/api/templates/{id}", "templates:read", "Every version of a template, newest first",
       [&templates](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(auto list, templates.Versions(req.params.at("id")));
         if (list.empty()) return absl::NotFoundError("no such template");
         json::array data;
         for (const auto& v : list) data.push_back(TemplateJson(v));
         return Response::Json(200, json::object{{"success", true}, {"data", std::move(data)}});
       },
       200, ttag});
  router.Add(
      {"PUT",
       "/api/templates/{id}",
       "templates:update",
       "Save a new version of a template: {channel, locale, subject, html, text, body}",
       [&templates](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
         Fields f(body);
         HERALD_RETURN_IF_ERROR(
             f.CheckKnown({"channel", "locale", "subject", "html", "text", "body"}));
         HERALD_ASSIGN_OR_RETURN(Channel channel, ChannelParam(req, &body));
         HERALD_ASSIGN_OR_RETURN(auto locale, f.String("locale"));
         if (!locale) return absl::InvalidArgumentError("locale: required");
         notify::TemplateContent c;
         HERALD_RETURN_IF_ERROR(f.StringInto("subject", c.subject));
         HERALD_RETURN_IF_ERROR(f.StringInto("html", c.html));
         HERALD_RETURN_IF_ERROR(f.StringInto("text", c.text));
         HERALD_RETURN_IF_ERROR(f.StringInto("body", c.body));
         HERALD_ASSIGN_OR_RETURN(auto v, templates.Save(req.params.at("id"), channel, *locale, c));
         return Response::Json(200, json::object{{"success", true}, {"data", TemplateJson(v)}});
       },
       200,
       ttag,
       {{"channel", "the template's channel, when the body does not say"}}});
  router.Add(
      {"POST",
       "/api/templates/{id}/preview",
       "templates:read",
       "Render a template with sample data: missing variables, SMS encoding and segments, size",
       [&templates](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
         Fields f(body);
         HERALD_RETURN_IF_ERROR(f.CheckKnown({"channel", "locale", "data", "maxSegments"}));
         HERALD_ASSIGN_OR_RETURN(auto max_segments, f.Int("maxSegments", 1, 10));
         HERALD_ASSIGN_OR_RETURN(Channel channel, ChannelParam(req, &body));
         HERALD_ASSIGN_OR_RETURN(auto locale, f.String("locale"));
         json::value data = json::object();
         if (const json::value* d = f.Get("data"); d != nullptr) {
           if (!d->is_object()) return absl::InvalidArgumentError("data: expected an object");
           data = *d;
         }
         HERALD_ASSIGN_OR_RETURN(notify::Rendered r, templates.Render(req.params.at("id"), channel,
                                                                      locale ? *locale : "", data));
         json::array missing;
         for (const std::string& m : r.missing) missing.emplace_back(m);
         json::object out{{"template", TemplateJson(r.source)}, {"missing", std::move(missing)}};
         if (channel == Channel::kEmail) {
           out["subject"] = r.output.subject;
           out["html"] = r.output.html;
           out["text"] = r.output.text;
           out["bytes"] = r.output.subject.size() + r.output.html.size() + r.output.text.size();
         } else {
           out["body"] = r.output.body;
           out["bytes"] = r.output.body.size();
         }
         if (channel == Channel::kSms) {
           HERALD_ASSIGN_OR_RETURN(notify::SmsSegments s, notify::CountSmsSegments(r.output.body));
           json::array non_gsm;
           for (const std::string& c : s.non_gsm) non_gsm.emplace_back(c);
           // The budget: the request's maxSegments, else 1 (a single SMS).
           const int64_t budget = max_segments ? *max_segments : 1;
           out["sms"] = json::object{{"encoding", notify::SmsEncodingName(s.encoding)},
                                     {"segments", s.segments},
                                     {"units", s.units},
                                     {"nonGsmCharacters", std::move(non_gsm)},
                                     {"maxSegments", budget},
                                     {"overBudget", s.segments > budget}};
         }
         return Response::Json(200, json::object{{"success", true}, {"data", std::move(out)}});
       },
       200,
       ttag,
       {{"channel", "the template's channel, when the body does not say"}}});
}

}  // namespace herald::http
