#include "notify/template_store.h"

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "engine/job_table.h"

namespace herald::notify {
namespace {

using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "notification_templates", R"sql(
CREATE TABLE notification_templates (
  id         TEXT NOT NULL,
  channel    TEXT NOT NULL,
  locale     TEXT NOT NULL,
  version    INTEGER NOT NULL,
  subject    TEXT NOT NULL,
  html       TEXT NOT NULL,
  text       TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (id, channel, locale, version)
) WITHOUT ROWID;
)sql"},
};

constexpr std::string_view kColumns =
    "id, channel, locale, version, subject, html, text, body, created_at";

Result<TemplateVersion> FromRow(const Row& r) {
  TemplateVersion v;
  v.id = r.Text(0);
  HERALD_ASSIGN_OR_RETURN(v.channel, ParseChannel(r.Text(1)));
  v.locale = r.Text(2);
  v.version = static_cast<int>(r.Int(3));
  v.content = {std::string(r.Text(4)), std::string(r.Text(5)), std::string(r.Text(6)),
               std::string(r.Text(7))};
  v.created_at = engine::table::FromMicros(r.Int(8));
  return v;
}

Status CheckContent(Channel channel, const TemplateContent& c) {
  const std::pair<const char*, const std::string*> parts[] = {
      {"subject", &c.subject}, {"html", &c.html}, {"text", &c.text}, {"body", &c.body}};
  for (const auto& [name, source] : parts) {
    Result<Template> t = Template::Compile(*source);
    if (!t.ok()) return absl::InvalidArgumentError(StrCat(name, ": ", t.status().message()));
  }
  if (channel == Channel::kEmail) {
    // Partials (header, footer) are email templates made of a body only.
    if (c.subject.empty() && c.html.empty() && c.text.empty() && !c.body.empty()) {
      return absl::OkStatus();
    }
    if (c.subject.empty()) return absl::InvalidArgumentError("subject: an email needs a subject");
    if (c.html.empty() && c.text.empty()) {
      return absl::InvalidArgumentError("html: an email needs an html or a text body");
    }
  } else if (c.body.empty()) {
    return absl::InvalidArgumentError(
        StrCat("body: a ", ChannelName(channel), " template needs a body"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidLocale(std::string_view locale) {
  return locale.size() >= 2 && locale.size() <= 16 &&
         std::all_of(locale.begin(), locale.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
         });
}

Status TemplateStore::Migrate(store::Store& store) {
  return store.Migrate("notify_templates", kMigrations);
}

Result<std::unique_ptr<TemplateStore>> TemplateStore::Create(store::Store& store,
                                                             const core::Clock& clock,
                                                             std::string default_locale) {
  if (!IsValidLocale(default_locale)) {
    return absl::InvalidArgumentError("the default locale must look like fr, en or fr-BE");
  }
  std::unique_ptr<TemplateStore> ts(new TemplateStore(store, clock, std::move(default_locale)));
  HERALD_RETURN_IF_ERROR(ts->AddBuiltins());
  return ts;
}

Status TemplateStore::AddBuiltins() {
  const int64_t now = engine::table::ToMicros(clock_.Now());
  return store_.Write([&](Txn& txn) -> Status {
    for (const BuiltinTemplate& b : BuiltinTemplates()) {
      const std::string_view channel = ChannelName(b.channel);
      const Value params[] = {b.id,           channel,        b.locale,       b.content.subject,
                              b.content.html, b.content.text, b.content.body, now};
      HERALD_RETURN_IF_ERROR(
          txn.Exec(StrCat("INSERT INTO notification_templates (", kColumns,
                          ") SELECT ?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8 WHERE NOT EXISTS (SELECT 1"
                          " FROM notification_templates WHERE id = ?1 AND channel = ?2 AND"
                          " locale = ?3)"),
                   params)
              .status());
    }
    return absl::OkStatus();
  });
}

std::vector<std::string> TemplateStore::LocaleChain(std::string_view locale) const {
  std::vector<std::string> chain;
  auto add = [&](std::string_view l) {
    if (!l.empty() && std::find(chain.begin(), chain.end(), l) == chain.end()) {
      chain.emplace_back(l);
    }
  };
  if (IsValidLocale(locale)) {
    add(locale);
    add(locale.substr(0, std::min(locale.find_first_of("-_"), locale.size())));
  }
  add(default_locale_);
  add(default_locale_.substr(
      0, std::min(default_locale_.find_first_of("-_"), default_locale_.size())));
  add("en");
  return chain;
}

Result<TemplateVersion> TemplateStore::Save(std::string_view id, Channel channel,
                                            std::string_view locale,
                                            const TemplateContent& content) {
  if (!IsValidName(id)) {
    return absl::InvalidArgumentError("id: 1 to 128 characters of A-Z a-z 0-9 _ . : -");
  }
  if (!IsValidLocale(locale))
    return absl::InvalidArgumentError("locale: expected fr, en, fr-BE...");
  HERALD_RETURN_IF_ERROR(CheckContent(channel, content));
  TemplateVersion v;
  v.id = std::string(id);
  v.channel = channel;
  v.locale = std::string(locale);
  v.content = content;
  v.created_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    const Value key[] = {id, ChannelName(channel), locale};
    int version = 0;
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT coalesce(max(version), 0) FROM notification_templates"
                  " WHERE id = ? AND channel = ? AND locale = ?",
                  key, [&](const Row& r) {
                    version = static_cast<int>(r.Int(0));
                    return false;
                  }));
    v.version = version + 1;
    const Value params[] = {id,
                            ChannelName(channel),
                            locale,
                            int64_t{v.version},
                            content.subject,
                            content.html,
                            content.text,
                            content.body,
                            engine::table::ToMicros(v.created_at)};
    return txn
        .Exec(StrCat("INSERT INTO notification_templates (", kColumns,
                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
              params)
        .status();
  }));
  return v;
}

Result<TemplateVersion> TemplateStore::Resolve(std::string_view id, Channel channel,
                                               std::string_view locale) {
  std::optional<TemplateVersion> found;
  const std::vector<std::string> chain = LocaleChain(locale);
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    for (const std::string& l : chain) {
      const Value params[] = {id, ChannelName(channel), l};
      HERALD_RETURN_IF_ERROR(store::QueryEach(
          txn,
          StrCat("SELECT ", kColumns,
                 " FROM notification_templates WHERE id = ? AND channel = ? AND locale = ?"
                 " ORDER BY version DESC LIMIT 1"),
          params, FromRow, [&](TemplateVersion&& v) {
            found = std::move(v);
            return false;
          }));
      if (found) break;
    }
    return absl::OkStatus();
  }));
  if (!found) {
    return absl::NotFoundError(
        StrCat("no ", ChannelName(channel), " template '", id.substr(0, 128), "'"));
  }
  return *found;
}

Result<std::vector<TemplateVersion>> TemplateStore::List() {
  std::vector<TemplateVersion> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        out, store::QueryAll<TemplateVersion>(
                 txn,
                 StrCat("SELECT ", kColumns,
                        " FROM notification_templates t WHERE version = (SELECT max(version) FROM"
                        " notification_templates u WHERE u.id = t.id AND u.channel = t.channel"
                        " AND u.locale = t.locale) ORDER BY id, channel, locale"),
                 {}, FromRow));
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<TemplateVersion>> TemplateStore::Versions(std::string_view id) {
  std::vector<TemplateVersion> out;
  const Value params[] = {id};
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        out, store::QueryAll<TemplateVersion>(txn,
                                              StrCat("SELECT ", kColumns,
                                                     " FROM notification_templates WHERE id = ?"
                                                     " ORDER BY version DESC, channel, locale"),
                                              params, FromRow));
    return absl::OkStatus();
  }));
  return out;
}

Result<std::shared_ptr<const Template>> TemplateStore::Compiled(const TemplateVersion& v,
                                                                std::string_view part,
                                                                const std::string& source) {
  const std::string key =
      StrCat(v.id, "|", ChannelName(v.channel), "|", v.locale, "|", v.version, "|", part);
  {
    absl::MutexLock l(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  Result<Template> t = Template::Compile(source);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        StrCat("template '", v.id, "' ", part, ": ", t.status().message()));
  }
  auto compiled = std::make_shared<const Template>(std::move(*t));
  absl::MutexLock l(&mu_);
  if (cache_.size() > 4096) cache_.clear();
  cache_.emplace(key, compiled);
  return compiled;
}

Result<Rendered> TemplateStore::Render(std::string_view id, Channel channel,
                                       std::string_view locale, const boost::json::value& data) {
  HERALD_ASSIGN_OR_RETURN(TemplateVersion v, Resolve(id, channel, locale));
  Rendered out;
  // Partials: resolved in the same locale chain, kept alive for the render.
  std::vector<std::shared_ptr<const Template>> keep;
  std::vector<std::pair<std::string, const Template*>> partials;
  Status partial_error;
  core::PartialLookup lookup = [&](std::string_view name) -> const Template* {
    for (const auto& [n, t] : partials) {
      if (n == name) return t;
    }
    Result<TemplateVersion> pv = Resolve(name, channel, v.locale);
    if (!pv.ok()) return nullptr;
    Result<std::shared_ptr<const Template>> t = Compiled(*pv, "body", pv->content.body);
    if (!t.ok()) {
      partial_error = t.status();
      return nullptr;
    }
    keep.push_back(*t);
    partials.emplace_back(std::string(name), t->get());
    return t->get();
  };
  std::set<std::string> missing;
  auto render = [&](std::string_view part, const std::string& source, bool html,
                    std::string& dest) -> Status {
    if (source.empty()) return absl::OkStatus();
    HERALD_ASSIGN_OR_RETURN(std::shared_ptr<const Template> t, Compiled(v, part, source));
    core::RenderOptions options;
    options.html_escape = html;
    HERALD_ASSIGN_OR_RETURN(core::RenderResult r, core::Render(*t, data, lookup, options));
    HERALD_RETURN_IF_ERROR(partial_error);
    dest = std::move(r.text);
    for (std::string& m : r.missing) {
      if (missing.insert(m).second) out.missing.push_back(std::move(m));
    }
    return absl::OkStatus();
  };
  HERALD_RETURN_IF_ERROR(render("subject", v.content.subject, false, out.output.subject));
  HERALD_RETURN_IF_ERROR(render("html", v.content.html, true, out.output.html));
  HERALD_RETURN_IF_ERROR(render("text", v.content.text, false, out.output.text));
  HERALD_RETURN_IF_ERROR(render("body", v.content.body, false, out.output.body));
  out.source = std::move(v);
  return out;
}

}  // namespace herald::notify
