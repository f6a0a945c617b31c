#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "store/sqlite/page_cache.h"

namespace herald::store {
namespace {

struct Close {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Db = std::unique_ptr<sqlite3, Close>;

// A connection in WAL mode, through the VFS (`vfs` true) or the default one.
Db Open(const std::string& path, bool vfs) {
  sqlite3* raw = nullptr;
  const char* name = nullptr;
  if (vfs) {
    // Registering initialises SQLite, after which the store's page cache cannot be installed
    // (PageCacheTest, in this binary, expects it).
    InstallPageCache().IgnoreError();
    auto registered = WalVfs();
    EXPECT_TRUE(registered.ok()) << registered.status();
    if (registered.ok()) name = *registered;
  }
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, name),
            SQLITE_OK);
  Db db(raw);
  sqlite3_busy_timeout(raw, 5000);
  EXPECT_EQ(sqlite3_exec(raw, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  return db;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
  sqlite3_free(error);
}

int64_t Int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return n;
}

std::string Text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::string s;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    s = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return s;
}

// Inserts `n` rows of about 300 bytes with random index keys: a transaction of many pages.
void Insert(sqlite3* db, int n) {
  Exec(db, "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < " +
               std::to_string(n) +
               ") INSERT INTO r (k, pad) SELECT hex(randomblob(8)), hex(randomblob(150)) FROM s");
}

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS r (id INTEGER PRIMARY KEY, k TEXT NOT NULL, pad TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS r_k ON r (k)";

// A connection through the VFS to a new database with kSchema.
Db Create(const std::string& path) {
  Db db = Open(path, true);
  Exec(db.get(), kSchema);
  return db;
}

TEST(WalVfsTest, ACommitIsOneWriteAndOtherConnectionsSeeIt) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  Db writer = Create(path);
  Db reader = Open(path, false);  // the default VFS: it reads only what reached the file

  const WalVfsStats before = GetWalVfsStats();
  int64_t rows = 0;
  for (int t = 0; t < 50; ++t) {
    Insert(writer.get(), 40);  // one transaction of several pages
    rows += 40;
    ASSERT_EQ(Int(reader.get(), "SELECT count(*) FROM r"), rows) << "after commit " << t;
  }
  const WalVfsStats after = GetWalVfsStats();
  const long asked = after.writes - before.writes;
  const long made = after.written - before.written;
  EXPECT_GE(asked, 50 * 2 * 4) << "each commit writes several frames of two writes each";
  EXPECT_LE(made, 50) << "one write per commit";
  EXPECT_EQ(after.late, before.late);

  // A transaction larger than what a WAL file gathers (4 MiB) is written in parts.
  Insert(writer.get(), 20000);
  rows += 20000;
  EXPECT_EQ(Int(reader.get(), "SELECT count(*) FROM r"), rows);
  EXPECT_EQ(Text(reader.get(), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(GetWalVfsStats().late, before.late);
}

// With a cache smaller than the transaction, SQLite writes frames before the commit, writes
// some pages again in place, and at the commit rewrites those frames' headers with new
// checksums, the commit frame's header last: none of that may wait past the commit.
constexpr char kSpillingTransaction[] =
    "PRAGMA cache_size=20; BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
    "FROM s WHERE i < 3000) INSERT INTO r (k, pad) SELECT hex(randomblob(8)), "
    "hex(randomblob(150)) FROM s; COMMIT";

TEST(WalVfsTest, ATransactionThatSpillsIsWrittenOutByItsCommit) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  Db writer = Create(path);
  Db reader = Open(path, false);
  const WalVfsStats before = GetWalVfsStats();
  Exec(writer.get(), kSpillingTransaction);
  EXPECT_EQ(GetWalVfsStats().late, before.late) << "written at the barrier, not by the commit";
  EXPECT_EQ(Int(reader.get(), "SELECT count(*) FROM r"), 3000);
  EXPECT_EQ(Text(reader.get(), "PRAGMA integrity_check"), "ok");
}

TEST(WalVfsTest, ACommitHasReachedTheFileWhenItReturns) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  Create(path);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Commits (without a sync: synchronous=NORMAL), then ends without closing anything or
    // running any destructor. The next connection recovers the WAL, checking every frame's
    // checksum.
    sqlite3* raw = nullptr;
    auto vfs = WalVfs();
    if (!vfs.ok() ||
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, *vfs) != SQLITE_OK ||
        sqlite3_exec(raw, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(raw,
                     "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE "
                     "i < 500) INSERT INTO r (k, pad) SELECT i, hex(randomblob(150)) FROM s",
                     nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(raw, kSpillingTransaction, nullptr, nullptr, nullptr) != SQLITE_OK) {
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  Db reader = Open(path, false);
  EXPECT_EQ(Int(reader.get(), "SELECT count(*) FROM r"), 3500);
  EXPECT_EQ(Text(reader.get(), "PRAGMA integrity_check"), "ok");
}

TEST(WalVfsTest, ARolledBackTransactionNeverOverwritesAnotherWritersFrames) {
  testing::TempDir dir;
  const std::string path = dir.File("w.db");
  Db first = Create(path);
  Insert(first.get(), 100);
  // Reading a page from the WAL writes out what was gathered: with an empty WAL, the
  // rollback reads none, and the spilled frames are still gathered when it ends, to be
  // dropped.
  Exec(first.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
  Db second = Open(path, false);

  // A transaction larger than its cache spills frames into the WAL, then rolls back: the
  // frames lie past the WAL's last commit, where the next writer writes its own.
  const WalVfsStats before = GetWalVfsStats();
  Exec(first.get(), "PRAGMA cache_size=10");
  Exec(first.get(), "BEGIN");
  // Appended rows: pages that spill are not read again.
  Exec(first.get(), "CREATE TABLE appended (pad TEXT NOT NULL)");
  Exec(first.get(),
       "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) "
       "INSERT INTO appended (pad) SELECT hex(randomblob(150)) FROM s");
  Exec(first.get(), "ROLLBACK");
  EXPECT_GT(GetWalVfsStats().dropped, before.dropped) << "the spilled frames were gathered";

  Exec(second.get(), "INSERT INTO r (k, pad) VALUES ('second', 'x')");
  Insert(first.get(), 10);  // its frames follow the second connection's
  Db check = Open(path, false);
  EXPECT_EQ(Text(check.get(), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Int(check.get(), "SELECT count(*) FROM r"), 111);
  EXPECT_EQ(Int(check.get(), "SELECT count(*) FROM r WHERE k = 'second'"), 1);
}

}  // namespace
}  // namespace herald::store
