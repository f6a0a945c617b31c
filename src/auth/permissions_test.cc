#include "auth/permissions.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace herald::auth {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Role, NamesRoundTripAndUnknownNamesAreRejected) {
  for (Role r : AllRoles()) {
    Result<Role> parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_EQ(RoleName(Role::kOperationsManager), "operations_manager");
  EXPECT_EQ(ParseRole("Admin").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRole("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Permissions, CatalogIsSortedUniqueAndValid) {
  auto known = KnownPermissions();
  EXPECT_TRUE(std::is_sorted(known.begin(), known.end()));
  EXPECT_EQ(std::adjacent_find(known.begin(), known.end()), known.end());
  for (std::string_view p : known) {
    EXPECT_TRUE(IsValidPermission(p)) << p;
    EXPECT_EQ(p.find('*'), std::string_view::npos) << p;
  }
  for (Role r : AllRoles()) {
    for (std::string_view p : DefaultPermissions(r)) EXPECT_TRUE(IsValidPermission(p)) << p;
  }
}

// The repository root (this file is src/auth/permissions_test.cc, compiled by absolute path).
std::filesystem::path SourceDir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

// docs/AUTH.md's table of default grants says what the code grants, role by role.
TEST(Permissions, TheDocumentedDefaultGrantsAreTheCodes) {
  std::ifstream in(SourceDir() / "docs" / "AUTH.md");
  ASSERT_TRUE(in) << "docs/AUTH.md";
  std::string line;
  std::map<std::string, std::set<std::string>> documented;
  while (std::getline(in, line)) {
    // "| `role` | who | `grant`, `grant` (note), ... |"
    if (!line.starts_with("| `")) continue;
    const size_t name_end = line.find('`', 3);
    const std::string role = line.substr(3, name_end - 3);
    if (!ParseRole(role).ok()) continue;
    const std::string grants = line.substr(line.rfind(" | ", line.size() - 3));
    std::set<std::string>& set = documented[role];
    for (size_t at = grants.find('`'); at != std::string::npos; at = grants.find('`', at)) {
      const size_t end = grants.find('`', at + 1);
      set.insert(grants.substr(at + 1, end - at - 1));
      at = end + 1;
    }
  }
  for (Role r : AllRoles()) {
    std::set<std::string> code;
    for (std::string_view p : DefaultPermissions(r)) code.emplace(p);
    EXPECT_EQ(documented[std::string(RoleName(r))], code) << RoleName(r);
  }
}

TEST(Permissions, DefaultGrantsOnlyNameKnownResources) {
  for (Role r : AllRoles()) {
    for (std::string_view p : DefaultPermissions(r)) {
      if (p == "*") continue;
      bool covers_known = false;
      for (std::string_view k : KnownPermissions()) covers_known |= PermissionMatches(p, k);
      EXPECT_TRUE(covers_known) << RoleName(r) << " grants " << p;
    }
  }
}

TEST(PermissionMatches, SupportsStarAndResourceStar) {
  EXPECT_TRUE(PermissionMatches("events:read", "events:read"));
  EXPECT_FALSE(PermissionMatches("events:read", "events:create"));
  EXPECT_TRUE(PermissionMatches("*", "anything:at_all"));
  EXPECT_TRUE(PermissionMatches("events:*", "events:delete"));
  EXPECT_FALSE(PermissionMatches("events:*", "eventsx:read"));
  EXPECT_FALSE(PermissionMatches("events:*", "events:"));
  EXPECT_FALSE(PermissionMatches("events:*", "tickets:read"));
  EXPECT_FALSE(PermissionMatches("events:read", "*"));
}

TEST(IsValidPermission, AcceptsResourceActionShapesOnly) {
  for (std::string_view ok : {"*", "events:read", "events:*", "api_keys:create", "a-b:c_d"}) {
    EXPECT_TRUE(IsValidPermission(ok)) << ok;
  }
  for (std::string_view bad : {"", "events", "events:", ":read", "Events:read", "*:read",
                               "events:read:extra", "events :read", "ev*:read"}) {
    EXPECT_FALSE(IsValidPermission(bad)) << bad;
  }
  std::vector<std::string> many(101, "events:read");
  EXPECT_EQ(ValidatePermissions(many).code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> one_bad = {"events:read", "nope"};
  EXPECT_EQ(ValidatePermissions(one_bad).code(), absl::StatusCode::kInvalidArgument);
}

// A test table: fields in reading order rather than packing order.
// NOLINTNEXTLINE(clang-analyzer-optin.performance.Padding)
struct MatrixCase {
  Role role;
  std::string_view permission;
  bool allowed;
};

TEST(PermissionSet, DefaultRoleMatrix) {
  const MatrixCase cases[] = {
      {Role::kAdmin, "users:delete", true},
      {Role::kAdmin, "future_resource:anything", true},
      {Role::kOrganizer, "events:read", true},
      {Role::kOrganizer, "events:delete", true},
      {Role::kOrganizer, "tickets:create", true},
      {Role::kOrganizer, "guests:update", true},
      {Role::kOrganizer, "bookings:create", true},
      {Role::kOrganizer, "payments:read", true},
      {Role::kOrganizer, "payments:create", false},
      {Role::kOrganizer, "users:create", false},
      {Role::kOrganizer, "jobs:read", false},
      {Role::kOperationsManager, "jobs:manage", true},
      {Role::kOperationsManager, "queues:manage", true},
      {Role::kOperationsManager, "schedules:delete", true},
      {Role::kOperationsManager, "webhooks:create", true},
      {Role::kOperationsManager, "metrics:read", true},
      {Role::kOperationsManager, "events:create", false},
      {Role::kOperationsManager, "users:create", false},
      {Role::kAccounting, "payments:read", true},
      {Role::kAccounting, "invoices:create", true},
      {Role::kAccounting, "reports:read", true},
      {Role::kAccounting, "payments:create", false},
      {Role::kAccounting, "events:delete", false},
      {Role::kOperator, "scans:create", true},
      {Role::kOperator, "tickets:read", true},
      {Role::kOperator, "events:read", true},
      {Role::kOperator, "tickets:create", false},
      {Role::kOperator, "scans:read", true},
      {Role::kOperator, "scans:delete", false},
      {Role::kOperator, "guests:read", false},
      {Role::kService, "scans:create", true},
      {Role::kService, "payments:update", true},
      {Role::kService, "tickets:update", true},
      {Role::kService, "notifications:create", true},
      {Role::kService, "users:read", false},
      {Role::kService, "events:delete", false},
  };
  for (const MatrixCase& c : cases) {
    EXPECT_EQ(PermissionSet::ForRole(c.role).Can(c.permission), c.allowed)
        << RoleName(c.role) << " " << c.permission;
  }
}

TEST(PermissionSet, ExtraGrantsAddAndRevocationsWinOverWildcards) {
  std::vector<std::string> granted = {"reports:create", "metrics:read"};
  std::vector<std::string> revoked = {"events:delete"};
  PermissionSet s = PermissionSet::ForRole(Role::kOrganizer, granted, revoked);
  EXPECT_TRUE(s.Can("reports:create"));
  EXPECT_TRUE(s.Can("metrics:read"));
  EXPECT_TRUE(s.Can("events:read"));
  EXPECT_FALSE(s.Can("events:delete"));

  std::vector<std::string> all = {"*"};
  PermissionSet admin_without_users =
      PermissionSet::ForRole(Role::kAdmin, {}, std::vector<std::string>{"users:*"});
  EXPECT_FALSE(admin_without_users.Can("users:read"));
  EXPECT_TRUE(admin_without_users.Can("jobs:read"));
  EXPECT_FALSE(PermissionSet::ForRole(Role::kOperator, {}, all).Can("scans:create"));
}

TEST(PermissionSet, ListIsFlatSortedAndHonoursRevocations) {
  std::vector<std::string> op = PermissionSet::ForRole(Role::kOperator).List();
  EXPECT_EQ(
      op, (std::vector<std::string>{"events:read", "scans:create", "scans:read", "tickets:read"}));

  std::vector<std::string> admin = PermissionSet::ForRole(Role::kAdmin).List();
  EXPECT_TRUE(Contains(admin, "*"));
  EXPECT_TRUE(Contains(admin, "users:delete"));
  EXPECT_TRUE(std::is_sorted(admin.begin(), admin.end()));

  std::vector<std::string> revoked = {"events:delete"};
  std::vector<std::string> organizer = PermissionSet::ForRole(Role::kOrganizer, {}, revoked).List();
  EXPECT_TRUE(Contains(organizer, "events:read"));
  EXPECT_TRUE(Contains(organizer, "tickets:*"));  // untouched wildcard kept
  EXPECT_TRUE(Contains(organizer, "tickets:create"));
  EXPECT_FALSE(Contains(organizer, "events:*"));  // cut by the revocation
  EXPECT_FALSE(Contains(organizer, "events:delete"));

  std::vector<std::string> custom = {"invoices:export"};
  EXPECT_TRUE(
      Contains(PermissionSet::ForRole(Role::kAccounting, custom).List(), "invoices:export"));
}

}  // namespace
}  // namespace herald::auth
