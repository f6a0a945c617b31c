#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/strings.h"
#include "store/sqlite/page_cache.h"
#include "store/sqlite/wal_vfs.h"

namespace herald::store {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Closes a file descriptor (and so releases its flock) when destroyed.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  int fd_;
};

Status MapError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = StrCat(what, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(msg);
      }
      return absl::FailedPreconditionError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(msg);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(msg);
    case SQLITE_READONLY:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

class SqliteRow final : public Row {
 public:
  explicit SqliteRow(sqlite3_stmt* s) : s_(s) {}
  int size() const override { return sqlite3_column_count(s_); }
  bool IsNull(int col) const override { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  int64_t Int(int col) const override { return sqlite3_column_int64(s_, col); }
  double Double(int col) const override { return sqlite3_column_double(s_, col); }
  std::string_view Text(int col) const override {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(s_, col)) : std::string_view();
  }

 private:
  sqlite3_stmt* s_;
};

// One connection and its prepared statements. Used by one thread at a time.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const SqliteOptions& o, bool writer) {
    sqlite3* raw = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    // Without the VFS (it could not be registered), commits make more system calls.
    Result<const char*> vfs = WalVfs();
    int rc = sqlite3_open_v2(o.path.c_str(), &raw, flags, vfs.ok() ? *vfs : nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) return MapError(db.get(), rc, StrCat("open ", o.path));
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), static_cast<int>(absl::ToInt64Milliseconds(o.busy_timeout)));
    auto conn = std::unique_ptr<Connection>(new Connection(std::move(db)));
    std::string pragmas =
        StrCat("PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA synchronous=",
               o.synchronous_full ? "FULL" : "NORMAL", ";");
    // The writer keeps a larger page cache: the hot pages of the job tables and their indexes
    // stay in memory instead of being read back through the kernel on every group commit.
    // The writer never checkpoints on commit (wal_autocheckpoint=0): the store's checkpointer
    // does, on its own connection. A WAL that grew past 64 MiB is cut back when it restarts.
    if (writer)
      pragmas = StrCat(
          "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
          " PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-",
          o.writer_cache_kib, "; ", pragmas);
    HERALD_RETURN_IF_ERROR(conn->ExecScript(pragmas));
    return conn;
  }

  sqlite3* db() const { return db_.get(); }

  Status ExecScript(std::string_view sql) {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      Status st = MapError(db_.get(), rc, "exec");
      sqlite3_free(err);
      return st;
    }
    return absl::OkStatus();
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) return MapError(db_.get(), rc, StrCat("prepare ", sql));
    if (raw == nullptr) return absl::InvalidArgumentError("empty statement");
    sqlite3_stmt* s = raw;
    cache_.emplace(std::string(sql), StmtPtr(raw));
    return s;
  }

  Status Bind(sqlite3_stmt* s, std::span<const Value> params) {
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(s)) {
      return absl::InvalidArgumentError(StrCat("statement takes ", sqlite3_bind_parameter_count(s),
                                               " parameters, got ", params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return sqlite3_bind_null(s, idx);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              return sqlite3_bind_int64(s, idx, v);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(s, idx, v);
            } else {
              // A default string_view has no data pointer, which SQLite would bind as NULL:
              // an empty string is text.
              return sqlite3_bind_text64(s, idx, v.data() != nullptr ? v.data() : "", v.size(),
                                         SQLITE_STATIC, SQLITE_UTF8);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) return MapError(db_.get(), rc, "bind");
    }
    return absl::OkStatus();
  }

  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) {
    HERALD_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql));
    Status st = Bind(s, params);
    int rc = st.ok() ? sqlite3_step(s) : SQLITE_OK;
    while (st.ok() && rc == SQLITE_ROW) rc = sqlite3_step(s);
    if (st.ok() && rc != SQLITE_DONE) st = MapError(db_.get(), rc, "exec");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    HERALD_RETURN_IF_ERROR(st);
    return sqlite3_changes64(db_.get());
  }

  Status Query(std::string_view sql, std::span<const Value> params,
               const std::function<bool(const Row&)>& on_row) {
    HERALD_ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql));
    Status st = Bind(s, params);
    SqliteRow row(s);
    while (st.ok()) {
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        st = MapError(db_.get(), rc, "query");
        break;
      }
      if (!on_row(row)) break;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return st;
  }

 private:
  explicit Connection(DbPtr db) : db_(std::move(db)) {}

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return absl::Hash<std::string_view>()(s); }
  };
  struct StringEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  DbPtr db_;
  // Declared after db_ so statements are finalized before the connection closes.
  absl::flat_hash_map<std::string, StmtPtr, StringHash, StringEq> cache_;
};

class SqliteTxn final : public Txn {
 public:
  SqliteTxn(Connection& conn, bool read_only) : conn_(conn), read_only_(read_only) {}

  Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) override {
    if (read_only_) return absl::FailedPreconditionError("write in a read transaction");
    return conn_.Exec(sql, params);
  }
  Result<int64_t> Insert(std::string_view sql, std::span<const Value> params) override {
    HERALD_ASSIGN_OR_RETURN(int64_t changed, Exec(sql, params));
    if (changed == 0) return absl::FailedPreconditionError("no row inserted");
    return sqlite3_last_insert_rowid(conn_.db());
  }
  Status Query(std::string_view sql, std::span<const Value> params,
               const std::function<bool(const Row&)>& on_row) override {
    return conn_.Query(sql, params, on_row);
  }
  Status ExecScript(std::string_view sql) override {
    if (read_only_) return absl::FailedPreconditionError("write in a read transaction");
    return conn_.ExecScript(sql);
  }
  void OnCommit(std::function<void()> fn) override { on_commit_.push_back(std::move(fn)); }
  bool read_only() const override { return read_only_; }

  std::vector<std::function<void()>> TakeCallbacks() { return std::move(on_commit_); }

 private:
  Connection& conn_;
  bool read_only_;
  std::vector<std::function<void()>> on_commit_;
};

}  // namespace

class SqliteStore::Impl {
 public:
  // `checkpoints` is the checkpointer's connection, opened (and its schema read) before any
  // write: a connection opening later would pin the WAL while it reads the schema.
  Impl(SqliteOptions options, std::unique_ptr<Connection> writer,
       std::unique_ptr<Connection> checkpoints, std::unique_ptr<FileLock> lock)
      : options_(std::move(options)), lock_(std::move(lock)), writer_(std::move(writer)) {
    data_version_ = ReadDataVersion();
    sqlite3_wal_hook(writer_->db(), &Impl::OnWalCommit, this);
    checkpointer_ = std::thread([this, conn = std::shared_ptr<Connection>(std::move(checkpoints))] {
      CheckpointLoop(*conn);
    });
    thread_ = std::thread([this] { WriterLoop(); });
  }

  ~Impl() {
    {
      absl::MutexLock l(&mu_);
      stopping_ = true;
    }
    thread_.join();
    {
      absl::MutexLock l(&checkpoint_mu_);
      checkpoint_stopping_ = true;
    }
    checkpointer_.join();
  }

  void Submit(TxnFn fn, std::function<void(Status)> done, Rerun rerun) {
    absl::MutexLock l(&mu_);
    queue_.push_back({std::move(fn), std::move(done), rerun});
  }

  Status Read(const TxnFn& fn) {
    std::unique_ptr<Connection> conn;
    {
      absl::MutexLock l(&readers_mu_);
      if (!readers_.empty()) {
        conn = std::move(readers_.back());
        readers_.pop_back();
      }
    }
    if (!conn) {
      HERALD_ASSIGN_OR_RETURN(conn, Connection::Open(options_, /*writer=*/false));
    }
    Status st = conn->ExecScript("BEGIN");
    if (st.ok()) {
      SqliteTxn txn(*conn, /*read_only=*/true);
      st = fn(txn);
      conn->ExecScript("COMMIT").IgnoreError();
    }
    absl::MutexLock l(&readers_mu_);
    if (readers_.size() < 8) readers_.push_back(std::move(conn));
    return st;
  }

  int AddListener(std::function<void()> fn) {
    absl::MutexLock l(&listeners_mu_);
    listeners_.emplace_back(++last_listener_, std::move(fn));
    return last_listener_;
  }

  void RemoveListener(int handle) {
    absl::MutexLock l(&listeners_mu_);  // waits for a listener call in progress
    listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(),
                                    [&](const auto& e) { return e.first == handle; }),
                     listeners_.end());
  }

 private:
  struct Request {
    TxnFn fn;
    std::function<void(Status)> done;
    Rerun rerun;
  };

  int64_t ReadDataVersion() {
    int64_t v = 0;
    writer_
        ->Query("PRAGMA data_version", {},
                [&](const Row& r) {
                  v = r.Int(0);
                  return false;
                })
        .IgnoreError();
    return v;
  }

  void WriterLoop() {
    std::vector<Request> batch;
    for (;;) {
      {
        absl::MutexLock l(&mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !queue_.empty() || stopping_;
        };
        mu_.AwaitWithTimeout(absl::Condition(&ready), options_.external_poll);
        if (queue_.empty() && stopping_) return;
        size_t n = std::min(queue_.size(), static_cast<size_t>(options_.max_batch));
        for (size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      // Before the batch: a writer that saw another process commit hears of it before its
      // own Write returns.
      NotifyExternalChanges();
      if (!batch.empty()) RunBatch(batch);
      batch.clear();
    }
  }

  // SQLite's WAL hook: runs on the writer thread after each commit, with the WAL's size.
  static int OnWalCommit(void* arg, sqlite3* db, const char* name, int pages) {
    auto* self = static_cast<Impl*>(arg);
    const int64_t wake = std::max(1, self->options_.checkpoint_pages);
    if (pages >= 16 * wake) {
      // The checkpointer cannot keep up (its checkpoints run while commits add frames, so the
      // WAL never gets to start over): wait for the one under way, then checkpoint here, with
      // no commit adding frames meanwhile, as SQLite would by default. PASSIVE never waits
      // for readers (one that pins the WAL lets it grow, with or without the checkpointer).
      absl::MutexLock run(&self->checkpoint_run_mu_);
      sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= wake) {
      absl::MutexLock l(&self->checkpoint_mu_);
      self->checkpoint_wanted_ = true;
    }
    return SQLITE_OK;
  }

  // Copies committed WAL frames into the database file, concurrently with the writer, each
  // time the WAL reaches checkpoint_pages. Once every frame is copied and no reader needs
  // them, the writer's next transaction starts the WAL over from its beginning.
  void CheckpointLoop(Connection& conn) {
    for (;;) {
      {
        absl::MutexLock l(&checkpoint_mu_);
        auto wanted = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_) {
          return checkpoint_wanted_ || checkpoint_stopping_;
        };
        checkpoint_mu_.Await(absl::Condition(&wanted));
        if (checkpoint_stopping_) return;
        checkpoint_wanted_ = false;
      }
      // An I/O error: the next commit past checkpoint_pages asks again.
      absl::MutexLock run(&checkpoint_run_mu_);
      sqlite3_wal_checkpoint_v2(conn.db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
  }

  void NotifyExternalChanges() {
    absl::MutexLock l(&listeners_mu_);
    if (listeners_.empty()) return;
    int64_t v = ReadDataVersion();
    if (v != data_version_) {
      data_version_ = v;
      for (auto& [handle, fn] : listeners_) fn();
    }
  }

  // One group commit. A request that is not rerunnable runs in its own savepoint; a run of
  // consecutive rerunnable ones shares one (RunShared).
  void RunBatch(std::vector<Request>& batch) {
    Status begin = writer_->Exec("BEGIN IMMEDIATE", {}).status();
    if (!begin.ok()) {
      for (auto& r : batch)
        if (r.done) r.done(begin);
      return;
    }
    Batch b{batch, std::vector<Status>(batch.size()),
            std::vector<std::vector<std::function<void()>>>(batch.size()), absl::OkStatus()};
    for (size_t i = 0; i < batch.size();) {
      size_t end = i + 1;
      if (batch[i].rerun == Rerun::kAllowed) {
        while (end < batch.size() && batch[end].rerun == Rerun::kAllowed) ++end;
      }
      RunShared(b, i, end);
      i = end;
    }
    Status commit = b.aborted.ok() ? writer_->Exec("COMMIT", {}).status() : b.aborted;
    if (!commit.ok()) {
      writer_->ExecScript("ROLLBACK").IgnoreError();
      for (size_t i = 0; i < batch.size(); ++i) {
        if (b.results[i].ok()) b.results[i] = commit;
        b.callbacks[i].clear();
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      for (auto& cb : b.callbacks[i]) cb();
      if (batch[i].done) batch[i].done(b.results[i]);
    }
  }

  struct Batch {
    std::vector<Request>& requests;
    std::vector<Status> results;
    std::vector<std::vector<std::function<void()>>> callbacks;
    Status aborted;  // set once the transaction is gone: nothing more runs, nothing commits
  };

  // Runs requests [begin, end) in one savepoint. When request i fails, the savepoint is
  // rolled back: the requests before i run again together, i runs alone in its own
  // savepoint, and those after i go on together. So a request whose callback gives the same
  // result each time runs at most twice.
  void RunShared(Batch& b, size_t begin, size_t end) {
    while (begin < end) {
      const size_t failed = end - begin == 1 ? begin : TryShared(b, begin, end);
      if (failed == end) return;
      if (failed > begin) RunShared(b, begin, failed);
      RunAlone(b, failed);
      begin = failed + 1;
    }
  }

  // One attempt at [begin, end) in savepoint "s": `end` if every request succeeded, else the
  // index of the first that failed, with the savepoint's effects and callbacks undone.
  size_t TryShared(Batch& b, size_t begin, size_t end) {
    if (!b.aborted.ok() || !writer_->Exec("SAVEPOINT s", {}).ok()) return begin;
    for (size_t i = begin; i < end; ++i) {
      SqliteTxn txn(*writer_, /*read_only=*/false);
      Status st = b.requests[i].fn(txn);
      if (!st.ok() || Ended(b, st)) {
        Undo(b, begin, i, st, "ROLLBACK TO s", "RELEASE s");
        return i;
      }
      b.callbacks[i] = txn.TakeCallbacks();
    }
    Status release = writer_->Exec("RELEASE s", {}).status();
    if (release.ok()) return end;
    Undo(b, begin, end, release, "ROLLBACK TO s", "RELEASE s");
    return begin;
  }

  // Runs request i in savepoint "w".
  void RunAlone(Batch& b, size_t i) {
    Status st = b.aborted;
    if (st.ok()) st = writer_->Exec("SAVEPOINT w", {}).status();
    if (st.ok()) {
      SqliteTxn txn(*writer_, /*read_only=*/false);
      st = b.requests[i].fn(txn);
      if (st.ok() && !Ended(b, st)) st = writer_->Exec("RELEASE w", {}).status();
      if (st.ok() && b.aborted.ok()) {
        b.callbacks[i] = txn.TakeCallbacks();
      } else {
        Undo(b, i, i, st, "ROLLBACK TO w", "RELEASE w");
      }
    }
    b.results[i] = b.aborted.ok() ? st : b.aborted;
  }

  // After `cause`: forgets the callbacks of [begin, end) and rolls back a savepoint. If that
  // is impossible (the transaction is gone, or the rollback fails), the batch is aborted, as
  // what ran before can no longer be told apart from what must not commit.
  void Undo(Batch& b, size_t begin, size_t end, const Status& cause, std::string_view rollback,
            std::string_view release) {
    for (size_t k = begin; k < end; ++k) b.callbacks[k].clear();
    if (Ended(b, cause)) return;
    Status st = writer_->Exec(rollback, {}).status();
    if (st.ok()) st = writer_->Exec(release, {}).status();
    if (!st.ok()) Ended(b, st, /*force=*/true);
  }

  // Whether the transaction is over: some errors (disk full, I/O, out of memory) roll the
  // whole of it back, even if a request went on as if nothing happened. Sets b.aborted (from
  // `cause`, the error that ended it if known) the first time, or when `force` is set.
  bool Ended(Batch& b, const Status& cause, bool force = false) {
    if (!b.aborted.ok()) return true;
    if (!force && !sqlite3_get_autocommit(writer_->db())) return false;
    const bool known = !cause.ok();
    b.aborted = absl::Status(known ? cause.code() : absl::StatusCode::kInternal,
                             StrCat("transaction rolled back: ",
                                    known ? cause.message() : sqlite3_errmsg(writer_->db())));
    return true;
  }

  const SqliteOptions options_;
  std::unique_ptr<FileLock> lock_;      // released after the writer's close (its last checkpoint)
  std::unique_ptr<Connection> writer_;  // used only by the writer thread after construction
  int64_t data_version_ = 0;            // writer thread only

  absl::Mutex mu_;
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Held while listeners run, so RemoveListener can wait for a call in progress.
  absl::Mutex listeners_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::vector<std::pair<int, std::function<void()>>> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  int last_listener_ ABSL_GUARDED_BY(listeners_mu_) = 0;

  absl::Mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_ ABSL_GUARDED_BY(readers_mu_);

  absl::Mutex checkpoint_run_mu_;  // held by whoever runs a checkpoint
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_stopping_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  std::thread checkpointer_;

  std::thread thread_;
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("store.path is empty");
  // Before SQLite's first use in the process; if it was used before, these fail and commits
  // cost more, nothing else changes. Memory statistics are off: nothing reads them, and they
  // take a process-wide mutex on every allocation and free of SQLite's (Debian builds it
  // without lookaside memory, so a write transaction makes dozens).
  static std::once_flag configured;
  std::call_once(configured, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    InstallPageCache().IgnoreError();
  });
  std::unique_ptr<FileLock> lock;
  if (options.exclusive_owner) {
    std::string lock_path = options.path + ".lock";
    int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::PermissionDeniedError(StrCat("cannot open lock file ", lock_path));
    }
    lock = std::make_unique<FileLock>(fd);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      return absl::UnavailableError(
          StrCat("another herald server is already using ", options.path));
    }
  }
  HERALD_ASSIGN_OR_RETURN(auto writer, Connection::Open(options, /*writer=*/true));
  HERALD_RETURN_IF_ERROR(
      writer->ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
                         " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
                         " PRIMARY KEY (module, version))"));
  HERALD_ASSIGN_OR_RETURN(auto checkpoints, Connection::Open(options, /*writer=*/false));
  HERALD_RETURN_IF_ERROR(checkpoints->ExecScript("PRAGMA schema_version"));
  auto impl =
      std::make_unique<Impl>(options, std::move(writer), std::move(checkpoints), std::move(lock));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Status SqliteStore::Write(TxnFn fn) {
  absl::Notification done;
  Status result;
  impl_->Submit(
      std::move(fn),
      [&](Status st) {
        result = std::move(st);
        done.Notify();
      },
      Rerun::kNever);
  done.WaitForNotification();
  return result;
}

void SqliteStore::WriteAsync(TxnFn fn, std::function<void(Status)> done, Rerun rerun) {
  impl_->Submit(std::move(fn), std::move(done), rerun);
}

Status SqliteStore::Read(TxnFn fn) { return impl_->Read(fn); }

Status SqliteStore::Migrate(std::string_view module, std::span<const Migration> migrations) {
  for (const Migration& m : migrations) {
    HERALD_RETURN_IF_ERROR(Write([&](Txn& txn) -> Status {
      std::string applied_name;
      bool applied = false;
      HERALD_RETURN_IF_ERROR(
          txn.Query("SELECT name FROM schema_migrations WHERE module = ? AND version = ?",
                    {module, int64_t{m.version}}, [&](const Row& r) {
                      applied = true;
                      applied_name = std::string(r.Text(0));
                      return false;
                    }));
      if (applied) {
        if (applied_name != m.name) {
          return absl::FailedPreconditionError(StrCat("migration ", module, "/", m.version,
                                                      " was applied as '", applied_name,
                                                      "' but is now named '", m.name, "'"));
        }
        return absl::OkStatus();
      }
      Status st = txn.ExecScript(m.sql);
      if (!st.ok()) {
        return absl::Status(st.code(), StrCat("migration ", module, "/", m.version, " (", m.name,
                                              "): ", st.message()));
      }
      return txn
          .Exec("INSERT INTO schema_migrations (module, version, name) VALUES (?, ?, ?)",
                {module, int64_t{m.version}, m.name})
          .status();
    }));
  }
  if (!migrations.empty()) {
    absl::MutexLock l(&migrated_mu_);
    int& last = migrated_[std::string(module)];
    last = std::max(last, migrations.back().version);
  }
  return absl::OkStatus();
}

Status SqliteStore::MigrationsCurrent() {
  std::map<std::string, int, std::less<>> wanted;
  {
    absl::MutexLock l(&migrated_mu_);
    wanted = migrated_;
  }
  std::map<std::string, int64_t, std::less<>> applied;
  HERALD_RETURN_IF_ERROR(Read([&](Txn& txn) {
    return txn.Query("SELECT module, max(version) FROM schema_migrations GROUP BY module", {},
                     [&](const Row& r) {
                       applied[std::string(r.Text(0))] = r.Int(1);
                       return true;
                     });
  }));
  for (const auto& [module, last] : wanted) {
    auto it = applied.find(module);
    const int64_t have = it == applied.end() ? 0 : it->second;
    if (have < last) {
      return absl::FailedPreconditionError(
          StrCat("module ", module, ": migrations applied up to version ", have, " of ", last));
    }
  }
  return absl::OkStatus();
}

int SqliteStore::AddExternalChangeListener(std::function<void()> fn) {
  return impl_->AddListener(std::move(fn));
}

void SqliteStore::RemoveExternalChangeListener(int handle) { impl_->RemoveListener(handle); }

Result<std::string> SqliteStore::IntegrityCheck() {
  std::string out;
  HERALD_RETURN_IF_ERROR(Read([&](Txn& txn) {
    return txn.Query("PRAGMA integrity_check", {}, [&](const Row& r) {
      if (!out.empty()) out += "\n";
      out += r.Text(0);
      return true;
    });
  }));
  return out;
}

}  // namespace herald::store
