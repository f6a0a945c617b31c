#include "notify/contacts.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "core/strings.h"
#include "engine/job_table.h"
#include "notify/mime.h"
#include "notify/sms_providers.h"
#include "notify/template_store.h"

namespace herald::notify {
namespace {

using engine::table::FromMicros;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "contacts", R"sql(
CREATE TABLE contacts (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  email        TEXT NOT NULL,
  phone        TEXT NOT NULL,
  whatsapp     TEXT NOT NULL,
  locale       TEXT NOT NULL,
  time_zone    TEXT NOT NULL,
  quiet_start  INTEGER,
  quiet_end    INTEGER,
  opted_out    TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_email ON contacts (email) WHERE email <> '';
CREATE UNIQUE INDEX contacts_phone ON contacts (phone) WHERE phone <> '';
CREATE UNIQUE INDEX contacts_whatsapp ON contacts (whatsapp) WHERE whatsapp <> '';
CREATE TABLE contact_roles (
  role       TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  PRIMARY KEY (role, contact_id)
) WITHOUT ROWID;
CREATE INDEX contact_roles_contact ON contact_roles (contact_id);
)sql"},
};

constexpr std::string_view kColumns =
    "id, name, email, phone, whatsapp, locale, time_zone, quiet_start, quiet_end, opted_out,"
    " created_at, updated_at, (SELECT group_concat(role, ',') FROM (SELECT role FROM"
    " contact_roles WHERE contact_id = contacts.id ORDER BY role))";

// The stored form of an email address: the addr-spec, lower-cased, so that "Jane@X.org" and
// "jane@x.org" are one person.
std::string EmailKey(std::string_view address) {
  Result<MailAddress> a = ParseMailAddress(address);
  return absl::AsciiStrToLower(ToAbsl(a.ok() ? a->email : std::string(address)));
}

std::string OptOutText(const std::set<Channel>& channels) {
  std::vector<absl::string_view> names;
  for (Channel c : channels) names.push_back(ToAbsl(ChannelName(c)));
  return absl::StrJoin(names, ",");
}

Result<Contact> FromRow(const Row& r) {
  Contact c;
  c.id = r.Text(0);
  c.name = r.Text(1);
  c.email = r.Text(2);
  c.phone = r.Text(3);
  c.whatsapp = r.Text(4);
  c.locale = r.Text(5);
  c.time_zone = r.Text(6);
  if (!r.IsNull(7) && !r.IsNull(8)) {
    c.quiet_hours = QuietHours{static_cast<int>(r.Int(7)), static_cast<int>(r.Int(8))};
  }
  for (absl::string_view name : absl::StrSplit(ToAbsl(r.Text(9)), ',', absl::SkipEmpty())) {
    HERALD_ASSIGN_OR_RETURN(Channel ch, ParseChannel(ToStd(name)));
    c.opted_out.insert(ch);
  }
  c.created_at = FromMicros(r.Int(10));
  c.updated_at = FromMicros(r.Int(11));
  if (!r.IsNull(12)) {
    for (absl::string_view role : absl::StrSplit(ToAbsl(r.Text(12)), ',', absl::SkipEmpty())) {
      c.roles.emplace_back(ToStd(role));
    }
  }
  return c;
}

Status WriteRoles(Txn& txn, const Contact& c) {
  const Value id[] = {c.id};
  HERALD_RETURN_IF_ERROR(txn.Exec("DELETE FROM contact_roles WHERE contact_id = ?", id).status());
  for (const std::string& role : c.roles) {
    const Value p[] = {role, c.id};
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO contact_roles (role, contact_id) VALUES (?, ?)", p).status());
  }
  return absl::OkStatus();
}

// AlreadyExists naming the field when another contact holds one of c's addresses.
Status CheckAddressesFree(Txn& txn, const Contact& c) {
  struct Field {
    std::string_view column;
    const std::string& value;
  };
  for (const Field& f :
       {Field{"email", c.email}, Field{"phone", c.phone}, Field{"whatsapp", c.whatsapp}}) {
    if (f.value.empty()) continue;
    bool taken = false;
    const Value p[] = {f.value, c.id};
    HERALD_RETURN_IF_ERROR(txn.Query(
        StrCat("SELECT 1 FROM contacts WHERE ", f.column, " = ? AND id <> ?"), p, [&](const Row&) {
          taken = true;
          return false;
        }));
    if (taken) {
      return absl::AlreadyExistsError(StrCat(f.column, ": another contact has this address"));
    }
  }
  return absl::OkStatus();
}

// Writes the contact's row with `sql`, whose 12 parameters are, in order: name, email, phone,
// whatsapp, locale, time_zone, quiet_start, quiet_end, opted_out, created_at, updated_at, id;
// then its roles.
Status WriteContact(Txn& txn, const Contact& c, std::string_view sql) {
  const std::string opted_out = OptOutText(c.opted_out);
  const Value p[] = {c.name,
                     c.email,
                     c.phone,
                     c.whatsapp,
                     c.locale,
                     c.time_zone,
                     c.quiet_hours ? Value(int64_t{c.quiet_hours->start_minute}) : Value(),
                     c.quiet_hours ? Value(int64_t{c.quiet_hours->end_minute}) : Value(),
                     opted_out,
                     ToMicros(c.created_at),
                     ToMicros(c.updated_at),
                     c.id};
  HERALD_RETURN_IF_ERROR(txn.Exec(sql, p).status());
  return WriteRoles(txn, c);
}

}  // namespace

Result<int> ParseTimeOfDay(std::string_view t) {
  auto digit = [&](size_t i) { return t[i] >= '0' && t[i] <= '9' ? t[i] - '0' : -1; };
  if (t.size() == 5 && t[2] == ':' && digit(0) >= 0 && digit(1) >= 0 && digit(3) >= 0 &&
      digit(4) >= 0) {
    const int h = digit(0) * 10 + digit(1), m = digit(3) * 10 + digit(4);
    if (h < 24 && m < 60) return h * 60 + m;
  }
  return absl::InvalidArgumentError("expected a time of day HH:MM, 00:00 to 23:59");
}

std::string FormatTimeOfDay(int minute) {
  const int h = minute / 60, m = minute % 60;
  return std::string{static_cast<char>('0' + h / 10), static_cast<char>('0' + h % 10), ':',
                     static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10)};
}

bool IsValidRole(std::string_view role) {
  if (role.empty() || role.size() > 64) return false;
  return std::all_of(role.begin(), role.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
}

const std::string& Contact::AddressFor(Channel channel) const {
  static const std::string kNone;
  switch (channel) {
    case Channel::kEmail:
      return email;
    case Channel::kSms:
      return phone;
    case Channel::kWhatsApp:
      return whatsapp;
    case Channel::kChat:
      return kNone;
  }
  return kNone;
}

Status ContactStore::Migrate(store::Store& store) { return store.Migrate("contacts", kMigrations); }

ContactStore::ContactStore(store::Store& store, const core::Clock& clock)
    : store_(store), clock_(clock), ids_(clock) {}

Status ContactStore::Validate(Contact& c) const {
  if (!IsValidName(c.id)) return absl::InvalidArgumentError("id: 1 to 128 of A-Z a-z 0-9 _ . : -");
  if (c.name.size() > 200) return absl::InvalidArgumentError("name: at most 200 bytes");
  if (!c.email.empty()) {
    if (!ParseMailAddress(c.email).ok()) {
      return absl::InvalidArgumentError("email: not a valid address");
    }
    c.email = EmailKey(c.email);
  }
  if (!c.phone.empty() && !IsE164(c.phone)) {
    return absl::InvalidArgumentError("phone: expected an E.164 number such as +33612345678");
  }
  if (!c.whatsapp.empty() && !IsE164(c.whatsapp)) {
    return absl::InvalidArgumentError("whatsapp: expected an E.164 number such as +33612345678");
  }
  if (!c.locale.empty() && !IsValidLocale(c.locale)) {
    return absl::InvalidArgumentError("locale: expected fr, en, fr-BE...");
  }
  if (c.time_zone.empty()) c.time_zone = "UTC";
  absl::TimeZone zone;
  if (c.time_zone.size() > 64 || !absl::LoadTimeZone(ToAbsl(c.time_zone), &zone)) {
    return absl::InvalidArgumentError("timeZone: not an IANA time zone such as Europe/Paris");
  }
  if (c.quiet_hours) {
    const QuietHours& q = *c.quiet_hours;
    if (q.start_minute < 0 || q.start_minute >= 1440 || q.end_minute < 0 || q.end_minute >= 1440 ||
        q.start_minute == q.end_minute) {
      return absl::InvalidArgumentError("quietHours: start and end must differ, HH:MM each");
    }
  }
  std::sort(c.roles.begin(), c.roles.end());
  c.roles.erase(std::unique(c.roles.begin(), c.roles.end()), c.roles.end());
  if (c.roles.size() > 32) return absl::InvalidArgumentError("roles: at most 32");
  for (const std::string& role : c.roles) {
    if (!IsValidRole(role)) {
      return absl::InvalidArgumentError("roles: 1 to 64 of A-Z 0-9 _, e.g. OPERATIONS_MANAGER");
    }
  }
  return absl::OkStatus();
}

Result<Contact> ContactStore::Create(Contact c) {
  if (c.id.empty()) c.id = StrCat("ct_", ids_.Next().ToString());
  HERALD_RETURN_IF_ERROR(Validate(c));
  c.created_at = c.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    bool exists = false;
    const Value key[] = {c.id};
    HERALD_RETURN_IF_ERROR(txn.Query("SELECT 1 FROM contacts WHERE id = ?", key, [&](const Row&) {
      exists = true;
      return false;
    }));
    if (exists) return absl::AlreadyExistsError(StrCat("a contact ", c.id, " already exists"));
    HERALD_RETURN_IF_ERROR(CheckAddressesFree(txn, c));
    return WriteContact(txn, c,
                        "INSERT INTO contacts (name, email, phone, whatsapp, locale, time_zone,"
                        " quiet_start, quiet_end, opted_out, created_at, updated_at, id)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  }));
  return c;
}

Result<Contact> ContactStore::Update(const Contact& in) {
  Contact c = in;
  HERALD_RETURN_IF_ERROR(Validate(c));
  c.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    std::optional<absl::Time> created;
    const Value key[] = {c.id};
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT created_at FROM contacts WHERE id = ?", key, [&](const Row& r) {
          created = FromMicros(r.Int(0));
          return false;
        }));
    if (!created) return absl::NotFoundError(StrCat("no contact ", c.id));
    c.created_at = *created;
    HERALD_RETURN_IF_ERROR(CheckAddressesFree(txn, c));
    return WriteContact(txn, c,
                        "UPDATE contacts SET name = ?, email = ?, phone = ?, whatsapp = ?,"
                        " locale = ?, time_zone = ?, quiet_start = ?, quiet_end = ?,"
                        " opted_out = ?, created_at = ?, updated_at = ? WHERE id = ?");
  }));
  return c;
}

Status ContactStore::Delete(std::string_view id) {
  return store_.Write([&](Txn& txn) -> Status {
    const Value key[] = {id};
    HERALD_ASSIGN_OR_RETURN(int64_t n, txn.Exec("DELETE FROM contacts WHERE id = ?", key));
    if (n == 0) return absl::NotFoundError(StrCat("no contact ", id.substr(0, 128)));
    return txn.Exec("DELETE FROM contact_roles WHERE contact_id = ?", key).status();
  });
}

Result<Contact> ContactStore::Get(std::string_view id) {
  std::optional<Contact> found;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value key[] = {id};
    return store::QueryEach(txn, StrCat("SELECT ", kColumns, " FROM contacts WHERE id = ?"), key,
                            FromRow, [&](Contact&& c) {
                              found = std::move(c);
                              return false;
                            });
  }));
  if (!found) return absl::NotFoundError(StrCat("no contact ", id.substr(0, 128)));
  return *std::move(found);
}

Result<std::vector<Contact>> ContactStore::List(const ContactFilter& f) {
  const int64_t limit = std::clamp(f.limit, 1, 1000);
  std::vector<Contact> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    if (f.role.empty()) {
      const Value p[] = {f.after_id, limit};
      HERALD_ASSIGN_OR_RETURN(
          out,
          store::QueryAll<Contact>(
              txn, StrCat("SELECT ", kColumns, " FROM contacts WHERE id > ? ORDER BY id LIMIT ?"),
              p, FromRow));
    } else {
      const Value p[] = {f.role, f.after_id, limit};
      HERALD_ASSIGN_OR_RETURN(
          out, store::QueryAll<Contact>(
                   txn,
                   StrCat("SELECT ", kColumns,
                          " FROM contacts WHERE id IN (SELECT contact_id FROM contact_roles"
                          " WHERE role = ?) AND id > ? ORDER BY id LIMIT ?"),
                   p, FromRow));
    }
    return absl::OkStatus();
  }));
  return out;
}

Result<std::optional<Contact>> ContactStore::FindByAddress(Channel channel,
                                                           std::string_view address) {
  std::string_view column;
  std::string key(address);
  switch (channel) {
    case Channel::kEmail:
      column = "email";
      key = EmailKey(address);
      break;
    case Channel::kSms:
      column = "phone";
      break;
    case Channel::kWhatsApp:
      column = "whatsapp";
      break;
    case Channel::kChat:
      return std::optional<Contact>();
  }
  if (key.empty()) return std::optional<Contact>();
  std::optional<Contact> found;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {key};
    return store::QueryEach(txn,
                            StrCat("SELECT ", kColumns, " FROM contacts WHERE ", column, " = ?"), p,
                            FromRow, [&](Contact&& c) {
                              found = std::move(c);
                              return false;
                            });
  }));
  return found;
}

absl::Time ContactStore::NextAllowed(const Contact& c, absl::Time t) {
  if (!c.quiet_hours) return t;
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(ToAbsl(c.time_zone), &zone)) return t;
  const absl::CivilMinute local = absl::ToCivilMinute(t, zone);
  const int minute = local.hour() * 60 + local.minute();
  const int start = c.quiet_hours->start_minute, end = c.quiet_hours->end_minute;
  const bool overnight = start > end;
  const bool quiet =
      overnight ? (minute >= start || minute < end) : (minute >= start && minute < end);
  if (!quiet) return t;
  // The end of this quiet period: today at `end`, or tomorrow when it spans midnight and we
  // are before midnight.
  absl::CivilDay day = absl::CivilDay(local);
  if (overnight && minute >= start) day += 1;
  const absl::CivilMinute end_local(day.year(), day.month(), day.day(), end / 60, end % 60);
  // A DST gap may skip `end`: FromCivil picks the instant after the gap, still >= t.
  return std::max(t, absl::FromCivil(end_local, zone));
}

}  // namespace herald::notify
