#include "store/sqlite/sqlite_store.h"

#include <filesystem>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace herald::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.path = dir_.File("t.db"); }

  std::unique_ptr<SqliteStore> OpenStore() {
    auto store = SqliteStore::Open(options_);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }

  int64_t Count(Store& store, std::string_view table) {
    int64_t n = -1;
    std::string sql = "SELECT count(*) FROM " + std::string(table);
    EXPECT_TRUE(store
                    .Read([&](Txn& txn) {
                      return txn.Query(sql, {}, [&](const Row& r) {
                        n = r.Int(0);
                        return false;
                      });
                    })
                    .ok());
    return n;
  }

  testing::TempDir dir_;
  SqliteOptions options_;
};

constexpr Migration kMigrations[] = {
    {1, "create t", "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"},
    {2, "index t.v", "CREATE INDEX t_v ON t (v)"},
};

TEST_F(SqliteStoreTest, MigrationsApplyOnceAndDetectRewrittenHistory) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());  // idempotent
  EXPECT_EQ(Count(*store, "schema_migrations"), 2);

  constexpr Migration kRewritten[] = {{1, "something else", "SELECT 1"}};
  Status st = store->Migrate("test", kRewritten);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("something else"), std::string_view::npos);
}

TEST_F(SqliteStoreTest, FailedMigrationNamesItselfAndChangesNothing) {
  auto store = OpenStore();
  constexpr Migration kBad[] = {{1, "broken", "CREATE TABLE x (a); CREATE TABLE nonsense("}};
  Status st = store->Migrate("bad", kBad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad/1 (broken)"), std::string_view::npos) << st;
  EXPECT_EQ(Count(*store, "schema_migrations"), 0);
  Status probe = store->Read([](Txn& txn) { return txn.Query("SELECT * FROM x", {}, nullptr); });
  EXPECT_FALSE(probe.ok()) << "table x from the failed migration must not exist";
}

TEST_F(SqliteStoreTest, WriteIsVisibleToReadersAndCallbacksRunAfterCommit) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  bool committed = false;
  ASSERT_TRUE(store
                  ->Write([&](Txn& txn) -> Status {
                    HERALD_RETURN_IF_ERROR(
                        txn.Exec("INSERT INTO t (k, v) VALUES (?, ?)", {"a", int64_t{1}}).status());
                    txn.OnCommit([&] { committed = true; });
                    EXPECT_FALSE(committed);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(committed);
  EXPECT_EQ(Count(*store, "t"), 1);
}

TEST_F(SqliteStoreTest, FailingWriterIsRolledBackAloneInAGroupCommit) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  constexpr int kWriters = 200;
  std::vector<Status> results(kWriters);
  std::vector<bool> callback_ran(kWriters, false);
  absl::Mutex mu;
  int finished = 0;
  for (int i = 0; i < kWriters; ++i) {
    store->WriteAsync(
        [i, &callback_ran](Txn& txn) -> Status {
          std::string key = "k" + std::to_string(i);
          HERALD_RETURN_IF_ERROR(
              txn.Exec("INSERT INTO t (k, v) VALUES (?, ?)", {key, int64_t{i}}).status());
          txn.OnCommit([i, &callback_ran] { callback_ran[i] = true; });
          if (i % 3 == 0) return absl::InvalidArgumentError("odd one out");
          return absl::OkStatus();
        },
        [&, i](Status st) {
          absl::MutexLock l(&mu);
          results[i] = st;
          ++finished;
        });
  }
  {
    absl::MutexLock l(&mu);
    mu.Await(absl::Condition(
        +[](int* f) { return *f == kWriters; }, &finished));
  }
  int ok = 0;
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_EQ(results[i].ok(), i % 3 != 0) << i;
    EXPECT_EQ(callback_ran[i], i % 3 != 0) << i;
    ok += results[i].ok();
  }
  EXPECT_EQ(Count(*store, "t"), ok);
}

// Rerunnable writes queued together share one savepoint; when one fails, the others run
// again one by one, so each commits exactly its last run's effects and callbacks.
TEST_F(SqliteStoreTest, RerunnableWritesShareASavepointAndRunAgainWhenOneFails) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  ASSERT_TRUE(store
                  ->Write([](Txn& txn) {
                    return txn.Exec("INSERT INTO t (k, v) VALUES ('n', 0)", {}).status();
                  })
                  .ok());
  // Holds the writer so that everything below is queued and taken as one batch.
  absl::Notification started, go;
  store->WriteAsync(
      [&](Txn&) {
        started.Notify();
        go.WaitForNotification();
        return absl::OkStatus();
      },
      nullptr);
  started.WaitForNotification();

  constexpr int kWriters = 30;
  std::vector<Status> results(kWriters);
  std::vector<int64_t> seen(kWriters, 0);
  std::vector<int> runs(kWriters, 0), callbacks(kWriters, 0);
  absl::Mutex mu;
  int finished = 0;
  for (int i = 0; i < kWriters; ++i) {
    const bool fails = i % 7 == 3;
    // Every tenth one may not run twice: it gets its own savepoint between shared ones.
    const Rerun rerun = i % 10 == 5 ? Rerun::kNever : Rerun::kAllowed;
    store->WriteAsync(
        [&, i, fails](Txn& txn) -> Status {
          ++runs[i];
          HERALD_RETURN_IF_ERROR(txn.Exec("UPDATE t SET v = v + 1 WHERE k = 'n'", {}).status());
          HERALD_RETURN_IF_ERROR(txn.Query("SELECT v FROM t WHERE k = 'n'", {}, [&](const Row& r) {
            seen[i] = r.Int(0);
            return false;
          }));
          txn.OnCommit([&, i] { ++callbacks[i]; });
          if (fails) return absl::InvalidArgumentError("odd one out");
          return absl::OkStatus();
        },
        [&, i](Status st) {
          absl::MutexLock l(&mu);
          results[i] = st;
          ++finished;
        },
        rerun);
  }
  go.Notify();
  {
    absl::MutexLock l(&mu);
    mu.Await(absl::Condition(
        +[](int* f) { return *f == kWriters; }, &finished));
  }
  int ok = 0;
  std::vector<int64_t> committed;
  bool any_rerun = false;
  for (int i = 0; i < kWriters; ++i) {
    const bool fails = i % 7 == 3;
    EXPECT_EQ(results[i].ok(), !fails) << i;
    EXPECT_EQ(callbacks[i], fails ? 0 : 1) << i;
    if (i % 10 == 5) {
      EXPECT_EQ(runs[i], 1) << i;
    }
    any_rerun |= runs[i] > 1;
    if (!fails) {
      ++ok;
      committed.push_back(seen[i]);
    }
  }
  EXPECT_TRUE(any_rerun) << "a failure among shared writes runs the others again";
  // In the first run of shared writes (0 to 4), 3 fails: 0 to 2 run again, 3 runs again
  // alone, and 4 goes on without running twice.
  EXPECT_EQ(runs[0], 2);
  EXPECT_EQ(runs[3], 2);
  EXPECT_EQ(runs[4], 1);
  // Each committed run counted once, in order: the failed runs left nothing behind.
  std::vector<int64_t> expected(ok);
  for (int i = 0; i < ok; ++i) expected[i] = i + 1;
  EXPECT_EQ(committed, expected);
  int64_t n = -1;
  ASSERT_TRUE(store
                  ->Read([&](Txn& txn) {
                    return txn.Query("SELECT v FROM t WHERE k = 'n'", {}, [&](const Row& r) {
                      n = r.Int(0);
                      return false;
                    });
                  })
                  .ok());
  EXPECT_EQ(n, ok);
}

TEST_F(SqliteStoreTest, InsertReturnsTheNewRowsKey) {
  auto store = OpenStore();
  constexpr Migration kKeyed[] = {
      {1, "create r", "CREATE TABLE r (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"}};
  ASSERT_TRUE(store->Migrate("keyed", kKeyed).ok());
  std::vector<int64_t> ids;
  Status ignored;
  ASSERT_TRUE(store
                  ->Write([&](Txn& txn) -> Status {
                    for (std::string_view name : {"a", "b"}) {
                      HERALD_ASSIGN_OR_RETURN(
                          int64_t id, txn.Insert("INSERT INTO r (name) VALUES (?)", {name}));
                      ids.push_back(id);
                    }
                    ignored =
                        txn.Insert("INSERT OR IGNORE INTO r (name) VALUES (?)", {"a"}).status();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ignored.code(), absl::StatusCode::kFailedPrecondition) << ignored;
  EXPECT_EQ(Count(*store, "r"), 2);
}

TEST_F(SqliteStoreTest, ConstraintViolationMapsToAlreadyExists) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  auto insert = [](Txn& txn) {
    return txn.Exec("INSERT INTO t (k, v) VALUES (?, ?)", {"same", int64_t{1}}).status();
  };
  ASSERT_TRUE(store->Write(insert).ok());
  EXPECT_EQ(store->Write(insert).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count(*store, "t"), 1);
}

TEST_F(SqliteStoreTest, WrongParameterCountIsAnError) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  Status st = store->Write(
      [](Txn& txn) { return txn.Exec("INSERT INTO t (k, v) VALUES (?, ?)", {"x"}).status(); });
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, ReadTransactionsRefuseWrites) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  Status st = store->Read([](Txn& txn) { return txn.Exec("DELETE FROM t", {}).status(); });
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, ExclusiveOwnerLocksOutASecondServer) {
  options_.exclusive_owner = true;
  auto first = OpenStore();
  auto second = SqliteStore::Open(options_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  first.reset();
  auto third = SqliteStore::Open(options_);
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST_F(SqliteStoreTest, ListenerHearsCommitsOfAnotherConnectionOnly) {
  options_.external_poll = absl::Milliseconds(5);
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  std::atomic<int> calls{0};
  absl::Notification heard;
  store->AddExternalChangeListener([&] {
    if (calls.fetch_add(1) == 0) heard.Notify();
  });
  ASSERT_TRUE(store
                  ->Write([](Txn& txn) {
                    return txn.Exec("INSERT INTO t (k, v) VALUES ('own', 1)", {}).status();
                  })
                  .ok());
  absl::SleepFor(absl::Milliseconds(50));  // several polls: our own commit must not count
  EXPECT_EQ(calls.load(), 0);

  SqliteOptions other = options_;
  other.exclusive_owner = false;
  auto second = SqliteStore::Open(other);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)
                  ->Write([](Txn& txn) {
                    return txn.Exec("INSERT INTO t (k, v) VALUES ('other', 2)", {}).status();
                  })
                  .ok());
  EXPECT_TRUE(heard.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_F(SqliteStoreTest, RemovedListenerIsNotCalledAgain) {
  options_.external_poll = absl::Milliseconds(5);
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kMigrations).ok());
  std::atomic<int> removed_calls{0};
  absl::Notification kept_heard;
  int removed = store->AddExternalChangeListener([&] { removed_calls++; });
  store->AddExternalChangeListener([&] {
    if (!kept_heard.HasBeenNotified()) kept_heard.Notify();
  });
  store->RemoveExternalChangeListener(removed);
  SqliteOptions other = options_;
  auto second = SqliteStore::Open(other);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)
                  ->Write([](Txn& txn) {
                    return txn.Exec("INSERT INTO t (k, v) VALUES ('x', 1)", {}).status();
                  })
                  .ok());
  ASSERT_TRUE(kept_heard.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(removed_calls.load(), 0);
}

// Writes `n` commits of one ~3,000-byte row each (a page or so of WAL per commit).
void WriteRows(Store& store, int from, int n) {
  const std::string blob(3000, 'x');
  for (int i = from; i < from + n; ++i) {
    const std::string key = std::to_string(i);
    ASSERT_TRUE(store
                    .Write([&](Txn& txn) {
                      return txn
                          .Exec("INSERT INTO b (k, v) VALUES (?, ?)",
                                {std::string_view(key), std::string_view(blob)})
                          .status();
                    })
                    .ok());
  }
}

constexpr Migration kBlobs[] = {{1, "create b", "CREATE TABLE b (k TEXT PRIMARY KEY, v BLOB)"}};

TEST_F(SqliteStoreTest, CheckpointerCopiesTheWalIntoTheFileBesideTheWriter) {
  // 30 commits stay far below the writer's own bound (16 x 16 pages): only the checkpointer
  // can move their pages into the database file while the store is open.
  options_.checkpoint_pages = 16;
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kBlobs).ok());
  WriteRows(*store, 0, 30);
  // The checkpointer runs on its own thread: wait for it (up to 20 s).
  for (int i = 0; i < 4000 && std::filesystem::file_size(options_.path) < 30 * 3000; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GE(std::filesystem::file_size(options_.path), 30u * 3000u);
  EXPECT_EQ(Count(*store, "b"), 30);
}

TEST_F(SqliteStoreTest, WalStaysBoundedUnderConstantWrites) {
  // 600 commits write about 1,500 WAL frames; checkpoints (the checkpointer's, or the writer's
  // past 16 x 4 pages) let the WAL start over, so the file never holds more than about 64.
  options_.checkpoint_pages = 4;
  auto store = OpenStore();
  ASSERT_TRUE(store->Migrate("test", kBlobs).ok());
  const std::string wal = options_.path + "-wal";
  uintmax_t largest = 0;
  for (int i = 0; i < 60; ++i) {
    WriteRows(*store, i * 10, 10);
    largest = std::max(largest, std::filesystem::file_size(wal));
  }
  EXPECT_LE(largest, 100u * (4096 + 24));  // pages with their frame headers
  EXPECT_EQ(Count(*store, "b"), 600);
  EXPECT_EQ(*store->IntegrityCheck(), "ok");
}

TEST_F(SqliteStoreTest, IntegrityCheckSaysOk) {
  auto store = OpenStore();
  auto r = store->IntegrityCheck();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "ok");
}

}  // namespace
}  // namespace herald::store
