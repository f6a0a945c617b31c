#pragma once
// TemplateStore: the notification templates, stored and versioned in the store, per
// (id, channel, locale). Saving a template adds a version; rendering uses the newest.
//
// Content is Mustache (core/mustache.h): an email has a subject, an HTML and a text body; the
// other channels have a body. Partials ({{> name}}) are templates of the same channel and
// locale chain, so layouts are shared: the built-in email templates use {{> header}} and
// {{> footer}}.
//
// Locale resolution for a request in `locale` (e.g. "fr-BE"): "fr-BE", then its language
// "fr", then the configured default locale, then "en"; the first that has the template wins.
//
// The seeds' templates (builtin_templates.cc) are added as version 1 in French and English
// when missing, so they exist out of the box and can be edited (a new version).
// Thread-safe; compiled templates are cached per version.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/clock.h"
#include "core/mustache.h"
#include "core/status.h"
#include "notify/provider.h"
#include "store/store.h"

namespace herald::notify {

using core::Template;

struct TemplateContent {
  std::string subject;  // email
  std::string html;     // email
  std::string text;     // email (plain alternative); other channels use `body`
  std::string body;     // sms, whatsapp, chat
};

struct TemplateVersion {
  std::string id;
  Channel channel = Channel::kEmail;
  std::string locale;
  int version = 0;
  TemplateContent content;
  absl::Time created_at;
};

// A template rendered with data.
struct Rendered {
  TemplateVersion source;  // what was rendered
  TemplateContent output;
  std::vector<std::string> missing;  // variables (and ">partial"s) that resolved to nothing
};

class TemplateStore {
 public:
  // The module's tables; run before Create.
  static Status Migrate(store::Store& store);
  // Adds the built-in templates that are missing.
  static Result<std::unique_ptr<TemplateStore>> Create(store::Store& store,
                                                       const core::Clock& clock,
                                                       std::string default_locale);

  // Validates (id is a core IsValidName name; locale like "fr" or "fr-BE"; content compiles;
  // an email needs a subject and html or text, other channels a body) and saves a new
  // version. InvalidArgument naming the field otherwise.
  Result<TemplateVersion> Save(std::string_view id, Channel channel, std::string_view locale,
                               const TemplateContent& content);
  // The newest version, following the locale chain. NotFound if no locale has it.
  Result<TemplateVersion> Resolve(std::string_view id, Channel channel, std::string_view locale);
  // Newest version of every (id, channel, locale), ordered by id, channel, locale.
  Result<std::vector<TemplateVersion>> List();
  // Every version of `id`, newest first.
  Result<std::vector<TemplateVersion>> Versions(std::string_view id);

  // Resolves and renders `id` for `channel` with `data` (an object). NotFound for an unknown
  // template, InvalidArgument for a render error.
  Result<Rendered> Render(std::string_view id, Channel channel, std::string_view locale,
                          const boost::json::value& data);

  // The locale chain for `locale` (see above), without duplicates.
  std::vector<std::string> LocaleChain(std::string_view locale) const;

 private:
  TemplateStore(store::Store& store, const core::Clock& clock, std::string default_locale)
      : store_(store), clock_(clock), default_locale_(std::move(default_locale)) {}
  Status AddBuiltins();
  Result<std::shared_ptr<const Template>> Compiled(const TemplateVersion& v, std::string_view part,
                                                   const std::string& source);

  store::Store& store_;
  const core::Clock& clock_;
  const std::string default_locale_;
  absl::Mutex mu_;
  // "id|channel|locale|version|part" -> compiled.
  absl::flat_hash_map<std::string, std::shared_ptr<const Template>> cache_ ABSL_GUARDED_BY(mu_);
};

// Built-in templates (builtin_templates.cc).
struct BuiltinTemplate {
  const char* id;
  Channel channel;
  const char* locale;
  TemplateContent content;
};
const std::vector<BuiltinTemplate>& BuiltinTemplates();

// Whether `locale` looks like "fr", "en", "fr-BE", "pt_BR" (2..16 letters, '-' or '_').
bool IsValidLocale(std::string_view locale);

}  // namespace herald::notify
