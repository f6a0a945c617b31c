#include "store/sqlite/page_cache.h"

#include <random>
#include <string>

#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::store {
namespace {

constexpr Migration kSchema[] = {
    {1, "rows",
     "CREATE TABLE r (id INTEGER PRIMARY KEY, k TEXT NOT NULL, pad TEXT NOT NULL);"
     "CREATE INDEX r_k ON r (k)"}};

int64_t Count(Store& store) {
  int64_t n = -1;
  EXPECT_TRUE(store
                  .Read([&](Txn& txn) {
                    return txn.Query("SELECT count(*) FROM r", {}, [&](const Row& row) {
                      n = row.Int(0);
                      return false;
                    });
                  })
                  .ok());
  return n;
}

// Inserts `n` rows with random index keys, so that B-tree rebalances reorder pages.
Status InsertRandom(Txn& txn, std::mt19937_64& rng, int n) {
  for (int i = 0; i < n; ++i) {
    const std::string key = std::to_string(rng());
    HERALD_RETURN_IF_ERROR(txn.Exec("INSERT INTO r (k, pad) VALUES (?, ?)",
                                    {key, std::string_view("padding padding padding")})
                               .status());
  }
  return absl::OkStatus();
}

TEST(PageCacheTest, CommitsSkipTheTruncationAndARolledBackGrowthIsDropped) {
  ASSERT_TRUE(InstallPageCache().ok()) << "the store's tests open SQLite only through the store";
  testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.File("p.db");
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Migrate("p", kSchema).ok());
  std::mt19937_64 rng(7);

  // Many small commits into a random-key index: rebalances give pages the temporary key,
  // and no commit has a page beyond the database's end to drop.
  const PageCacheStats before = GetPageCacheStats();
  for (int t = 0; t < 300; ++t) {
    ASSERT_TRUE((*store)->Write([&](Txn& txn) { return InsertRandom(txn, rng, 50); }).ok());
  }
  const PageCacheStats clean = GetPageCacheStats();
  EXPECT_GT(clean.temporary_keys, before.temporary_keys) << "no rebalance reordered pages";
  EXPECT_GE(clean.skipped - before.skipped, 300);
  EXPECT_EQ(clean.forwarded, before.forwarded);

  // A write that grows the file by many pages and fails: its pages lie beyond the end, so
  // the commit's truncation must reach pcache1.
  Status failed = (*store)->Write([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(InsertRandom(txn, rng, 5000));
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_GT(GetPageCacheStats().forwarded, clean.forwarded);

  // The file is whole and the pages handed out again hold the new rows.
  ASSERT_TRUE((*store)->Write([&](Txn& txn) { return InsertRandom(txn, rng, 5000); }).ok());
  EXPECT_EQ(Count(**store), 300 * 50 + 5000);
  auto check = (*store)->IntegrityCheck();
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(*check, "ok");
}

}  // namespace
}  // namespace herald::store
