#pragma once
// ContactStore: the people notifications go to (seed 001's customers, professionals and
// internal staff), with what the Notifier needs to respect them:
//   - an address per channel (email, phone for SMS, WhatsApp number);
//   - a locale, used when a request names none;
//   - per-channel opt-outs: a delivery to an opted-out address fails at once ("opted_out"),
//     whatever the request said, including notifications queued before the opt-out;
//   - quiet hours in the contact's IANA time zone: a NORMAL notification that would go out
//     inside them waits until they end; HIGH ones go at once;
//   - roles (groups), such as seed 001's internal staff OPERATIONS_MANAGER, ADMIN and
//     ACCOUNTING: a request to "role:ACCOUNTING" goes to every contact with that role.
// An address belongs to at most one contact per channel (unique in the store), so a delivery
// to a plain address finds its contact's preferences too.
// Thread-safe (all state is in the store).

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/status.h"
#include "notify/provider.h"
#include "store/store.h"

namespace herald::notify {

// Local times of day, in minutes since midnight (0..1439). start > end spans midnight
// (22:00-07:00); start == end is refused.
struct QuietHours {
  int start_minute = 0;
  int end_minute = 0;
};
// "HH:MM" (00:00..23:59) -> minutes since midnight; InvalidArgument otherwise.
Result<int> ParseTimeOfDay(std::string_view text);
std::string FormatTimeOfDay(int minute);

struct Contact {
  std::string id;  // generated when empty at creation; else 1..128 of [A-Za-z0-9_.:-]
  std::string name;
  std::string email;
  std::string phone;     // E.164
  std::string whatsapp;  // E.164
  std::string locale;    // "" = the request's or the default
  std::string time_zone = "UTC";
  std::optional<QuietHours> quiet_hours;
  std::vector<std::string> roles;  // sorted, unique; 1..64 of [A-Z0-9_] each
  std::set<Channel> opted_out;
  absl::Time created_at;
  absl::Time updated_at;

  // The address for `channel` ("" when none; chat has none).
  const std::string& AddressFor(Channel channel) const;
};

struct ContactFilter {
  std::string role;      // only contacts with this role
  std::string after_id;  // cursor: ids greater than this one
  int limit = 100;       // clamped to 1..1000
};

class ContactStore {
 public:
  static Status Migrate(store::Store& store);
  ContactStore(store::Store& store, const core::Clock& clock);

  // InvalidArgument naming the field (bad address, zone, quiet hours, role, locale);
  // AlreadyExists for a taken id or an address that belongs to another contact.
  Result<Contact> Create(Contact contact);
  // Replaces every field but id and created_at. NotFound, InvalidArgument, AlreadyExists.
  Result<Contact> Update(const Contact& contact);
  Status Delete(std::string_view id);        // NotFound
  Result<Contact> Get(std::string_view id);  // NotFound
  Result<std::vector<Contact>> List(const ContactFilter& filter);
  // The contact whose address for `channel` is `address`, if any.
  Result<std::optional<Contact>> FindByAddress(Channel channel, std::string_view address);

  // The earliest time at or after `t` outside `c`'s quiet hours (t itself when it has none).
  static absl::Time NextAllowed(const Contact& c, absl::Time t);

 private:
  Status Validate(Contact& c) const;  // also normalises roles
  store::Store& store_;
  const core::Clock& clock_;
  core::IdGenerator ids_;
};

// Whether `role` is a valid role name: 1..64 of [A-Z0-9_].
bool IsValidRole(std::string_view role);

}  // namespace herald::notify
