#pragma once
// SqliteStore: the embedded default Store. One file in WAL mode; one writer thread that runs
// every write through group commit (many callers' transactions per COMMIT, each in its own
// savepoint, or consecutive rerunnable ones in a shared one), so durability does not cost one fsync
// per job; a pool of reader connections that read concurrently with the writer; and a checkpointer
// thread that copies the WAL back into the database file beside the writer, so a commit never waits
// for a checkpoint's page writes and fsync (the writer checkpoints itself only if the WAL outgrows
// 16 times `checkpoint_pages`, which bounds the file if the checkpointer cannot keep up).

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/store.h"

namespace herald::store {

struct SqliteOptions {
  std::string path;               // the database file; its folder must exist
  bool synchronous_full = false;  // FULL fsyncs every commit; NORMAL is crash-safe
                                  // for the process (WAL), not for power loss
  absl::Duration busy_timeout = absl::Seconds(5);
  int max_batch = 4096;  // write requests per group commit
  absl::Duration external_poll = absl::Milliseconds(100);
  int writer_cache_kib = 32 * 1024;  // the writer connection's page cache
  int checkpoint_pages = 1000;       // WAL size that wakes the checkpointer (SQLite's default)
  // Take an exclusive lock on "<path>.lock" for the life of the store, so two servers never
  // share one file. Command-line tools that only read or make small edits leave it false.
  bool exclusive_owner = false;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database. Fails with Unavailable if
  // `exclusive_owner` is set and another process holds the lock.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;  // finishes queued writes, then closes

  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Write(TxnFn fn) override;
  using Store::WriteAsync;
  void WriteAsync(TxnFn fn, std::function<void(Status)> done, Rerun rerun) override;
  Status Read(TxnFn fn) override;
  Status Migrate(std::string_view module, std::span<const Migration> migrations) override;
  Status MigrationsCurrent() override;
  int AddExternalChangeListener(std::function<void()> fn) override;
  void RemoveExternalChangeListener(int handle) override;
  Result<std::string> IntegrityCheck() override;

  class Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;

  absl::Mutex migrated_mu_;
  // Module -> the last migration version Migrate was given for it.
  std::map<std::string, int, std::less<>> migrated_ ABSL_GUARDED_BY(migrated_mu_);
};

}  // namespace herald::store
