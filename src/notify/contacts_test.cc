#include "notify/contacts.h"

#include "absl/time/civil_time.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::notify {
namespace {

class ContactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions o;
    o.path = dir_.File("contacts.db");
    store_ = std::move(store::SqliteStore::Open(o)).value();
    ASSERT_TRUE(ContactStore::Migrate(*store_).ok());
    contacts_ = std::make_unique<ContactStore>(*store_, clock_);
  }
  testing::TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<ContactStore> contacts_;
};

TEST_F(ContactStoreTest, CreatesReadsUpdatesAndDeletes) {
  Contact c;
  c.name = "Zoé Martin";
  c.email = "Zoe.Martin@Example.com";
  c.phone = "+33612345678";
  c.time_zone = "Europe/Paris";
  c.quiet_hours = QuietHours{22 * 60, 7 * 60};
  c.roles = {"ADMIN", "ACCOUNTING", "ADMIN"};
  c.opted_out = {Channel::kSms};
  auto created = contacts_->Create(c);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->id.starts_with("ct_"));
  EXPECT_EQ(created->email, "zoe.martin@example.com");
  EXPECT_EQ(created->roles, (std::vector<std::string>{"ACCOUNTING", "ADMIN"}));

  auto read = contacts_->Get(created->id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->name, "Zoé Martin");
  EXPECT_EQ(read->roles, created->roles);
  EXPECT_EQ(read->opted_out, std::set<Channel>{Channel::kSms});
  ASSERT_TRUE(read->quiet_hours.has_value());
  EXPECT_EQ(read->quiet_hours->start_minute, 22 * 60);

  auto by_phone = contacts_->FindByAddress(Channel::kSms, "+33612345678");
  ASSERT_TRUE(by_phone.ok() && by_phone->has_value());
  EXPECT_EQ((*by_phone)->id, created->id);
  auto by_mail = contacts_->FindByAddress(Channel::kEmail, "Zoé <ZOE.martin@example.com>");
  ASSERT_TRUE(by_mail.ok() && by_mail->has_value());
  EXPECT_FALSE(contacts_->FindByAddress(Channel::kWhatsApp, "+33612345678")->has_value());

  Contact changed = *read;
  changed.roles = {"OPERATIONS_MANAGER"};
  changed.opted_out.clear();
  changed.quiet_hours.reset();
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(contacts_->Update(changed).ok());
  auto after = contacts_->Get(created->id);
  EXPECT_EQ(after->roles, (std::vector<std::string>{"OPERATIONS_MANAGER"}));
  EXPECT_TRUE(after->opted_out.empty());
  EXPECT_FALSE(after->quiet_hours.has_value());
  EXPECT_EQ(after->created_at, created->created_at);
  EXPECT_GT(after->updated_at, created->updated_at);

  ASSERT_TRUE(contacts_->Delete(created->id).ok());
  EXPECT_EQ(contacts_->Get(created->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(contacts_->Delete(created->id).code(), absl::StatusCode::kNotFound);
  ContactFilter ops;
  ops.role = "OPERATIONS_MANAGER";
  EXPECT_TRUE(contacts_->List(ops)->empty());  // its roles went with it
}

TEST_F(ContactStoreTest, RefusesBadFieldsAndTakenAddresses) {
  auto bad = [&](auto mutate) {
    Contact c;
    c.email = "ok@example.com";
    mutate(c);
    return contacts_->Create(c).status().code();
  };
  using absl::StatusCode;
  EXPECT_EQ(bad([](Contact& c) { c.email = "not-an-address"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) { c.phone = "0612345678"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) { c.whatsapp = "+0"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) { c.time_zone = "Mars/Olympus"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) {
              c.quiet_hours = QuietHours{60, 60};
            }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) {
              c.quiet_hours = QuietHours{0, 1440};
            }),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) { c.roles = {"admin"}; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) { c.locale = "français"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](Contact& c) { c.id = "has space"; }), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contacts_->List({})->empty());

  Contact first;
  first.id = "first";
  first.email = "shared@example.com";
  ASSERT_TRUE(contacts_->Create(first).ok());
  Contact same_id = first;
  same_id.email = "other@example.com";
  EXPECT_EQ(contacts_->Create(same_id).status().code(), StatusCode::kAlreadyExists);
  Contact same_mail;
  same_mail.email = "SHARED@example.com";
  auto taken = contacts_->Create(same_mail);
  EXPECT_EQ(taken.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(taken.status().message().find("email"), std::string_view::npos);
  Contact missing;
  missing.id = "missing";
  EXPECT_EQ(contacts_->Update(missing).status().code(), StatusCode::kNotFound);
}

TEST_F(ContactStoreTest, ListsByRoleWithACursor) {
  for (const char* id : {"c1", "c2", "c3", "c4"}) {
    Contact c;
    c.id = id;
    c.roles = {std::string(id) == "c3" ? "ADMIN" : "ACCOUNTING"};
    ASSERT_TRUE(contacts_->Create(c).ok());
  }
  ContactFilter f;
  f.role = "ACCOUNTING";
  f.limit = 2;
  auto page = contacts_->List(f);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(page->at(0).id, "c1");
  EXPECT_EQ(page->at(1).id, "c2");
  f.after_id = "c2";
  page = contacts_->List(f);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->at(0).id, "c4");
}

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

TEST(QuietHoursTest, NextAllowedFollowsTheContactsZoneAndDst) {
  Contact c;
  c.time_zone = "Europe/Paris";
  c.quiet_hours = QuietHours{22 * 60, 7 * 60};
  // Winter (UTC+1): 21:59 Paris is allowed, 22:00 waits until 07:00 the next morning.
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 1, 10, 20, 59)), Utc(2026, 1, 10, 20, 59));
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 1, 10, 21, 0)), Utc(2026, 1, 11, 6, 0));
  // After midnight: the same morning.
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 1, 11, 3, 0)), Utc(2026, 1, 11, 6, 0));
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 1, 11, 6, 0)), Utc(2026, 1, 11, 6, 0));
  // The night DST starts (2026-03-29, 02:00 -> 03:00): 07:00 Paris is 05:00 UTC.
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 3, 28, 23, 0)), Utc(2026, 3, 29, 5, 0));
  // A daytime window that does not span midnight (12:00-14:00 in New York, UTC-5 in January).
  c.time_zone = "America/New_York";
  c.quiet_hours = QuietHours{12 * 60, 14 * 60};
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 1, 10, 17, 30)), Utc(2026, 1, 10, 19, 0));
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 1, 10, 19, 0)), Utc(2026, 1, 10, 19, 0));
  c.quiet_hours.reset();
  EXPECT_EQ(ContactStore::NextAllowed(c, Utc(2026, 1, 10, 17, 30)), Utc(2026, 1, 10, 17, 30));
}

TEST(QuietHoursTest, TimesOfDayParseStrictly) {
  EXPECT_EQ(*ParseTimeOfDay("00:00"), 0);
  EXPECT_EQ(*ParseTimeOfDay("23:59"), 1439);
  EXPECT_EQ(FormatTimeOfDay(7 * 60 + 5), "07:05");
  for (const char* bad : {"24:00", "7:00", "07:60", "07-00", "", "07:00 ", "ab:cd"}) {
    EXPECT_FALSE(ParseTimeOfDay(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace herald::notify
