#pragma once
// Store: Herald's one seam to durable storage. Every module reads and writes through it with
// `?`-placeholder SQL and bound parameters (never string-built SQL). Two implementations are
// planned: store/sqlite (embedded default, here) and store/postgres (scale-out).
//
// Writes go through Write/WriteAsync. An implementation may run many writers' callbacks in one
// transaction (group commit): a callback that returns an error is rolled back alone (its own
// savepoint), while the others commit. Write returns only once the transaction holding the
// callback's effects is durable (or has failed).

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace herald::store {

enum class Dialect { kSqlite, kPostgres };

// A parameter value. Strings are borrowed: they must outlive the Exec/Query call.
using Value = std::variant<std::monostate, int64_t, double, std::string_view>;

// The current row of a query. Valid only during the row callback.
class Row {
 public:
  virtual ~Row() = default;
  virtual int size() const = 0;
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  // Text or blob bytes; valid only during the row callback.
  virtual std::string_view Text(int col) const = 0;
};

// An open transaction. Not thread-safe; valid only inside the callback it was passed to.
class Txn {
 public:
  virtual ~Txn() = default;

  // Executes one statement; returns the number of rows it changed. Statements are prepared
  // once and cached by their text, so pass constant SQL and vary only the parameters.
  virtual Result<int64_t> Exec(std::string_view sql, std::span<const Value> params) = 0;
  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Exec(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Executes an INSERT of one row into a rowid table keyed by an INTEGER PRIMARY KEY;
  // returns the new row's key (cheaper than RETURNING, which SQLite buffers in a temporary
  // table). FailedPrecondition if the statement inserted nothing (an ignored conflict). Not
  // for an upsert (ON CONFLICT DO UPDATE changes a row without giving its key).
  virtual Result<int64_t> Insert(std::string_view sql, std::span<const Value> params) = 0;
  Result<int64_t> Insert(std::string_view sql, std::initializer_list<Value> params) {
    return Insert(sql, std::span<const Value>(params.begin(), params.size()));
  }

  // Runs a query and calls `on_row` for each row until it returns false.
  virtual Status Query(std::string_view sql, std::span<const Value> params,
                       const std::function<bool(const Row&)>& on_row) = 0;
  Status Query(std::string_view sql, std::initializer_list<Value> params,
               const std::function<bool(const Row&)>& on_row) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()), on_row);
  }

  // Runs a script of several statements without parameters (migrations only).
  virtual Status ExecScript(std::string_view sql) = 0;

  // Runs `fn` after the transaction commits; never if it rolls back. Callbacks run in
  // registration order on the writer's thread and must not block or call Write.
  virtual void OnCommit(std::function<void()> fn) = 0;

  virtual bool read_only() const = 0;
};

using TxnFn = std::function<Status(Txn&)>;

// Whether a write's callback may run more than once. kAllowed promises that a run leaves
// nothing behind but its effects in the transaction and its OnCommit callbacks (it resets
// whatever it captured), so that the store may undo a run and run it again. The store then
// shares one savepoint among consecutive such callbacks; when one fails, the savepoint is
// rolled back, the callbacks before it run again together and it runs alone (a callback
// that gives the same result each time runs at most twice).
enum class Rerun { kNever, kAllowed };

// Runs a query, converts each row with `from_row` (const Row& -> Result<T>) and hands the
// value to `on_value` (T&& -> bool; false stops). Returns the query's error, or the first
// conversion error (which also stops the query).
template <typename FromRow, typename OnValue>
Status QueryEach(Txn& txn, std::string_view sql, std::span<const Value> params, FromRow from_row,
                 OnValue on_value) {
  Status conversion;
  HERALD_RETURN_IF_ERROR(txn.Query(sql, params, [&](const Row& r) {
    auto value = from_row(r);
    if (!value.ok()) {
      conversion = value.status();
      return false;
    }
    return on_value(std::move(*value));
  }));
  return conversion;
}

// QueryEach into a vector.
template <typename T, typename FromRow>
Result<std::vector<T>> QueryAll(Txn& txn, std::string_view sql, std::span<const Value> params,
                                FromRow from_row) {
  std::vector<T> out;
  HERALD_RETURN_IF_ERROR(QueryEach(txn, sql, params, from_row, [&](T&& v) {
    out.push_back(std::move(v));
    return true;
  }));
  return out;
}

// One schema change of one module. Versions start at 1 and never change once released.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;  // in the store's dialect
};

// Thread-safe.
class Store {
 public:
  virtual ~Store() = default;

  virtual Dialect dialect() const = 0;

  // Runs `fn` in a write transaction and blocks until it is durable. Returns fn's error (its
  // effects rolled back, nothing else affected) or the commit's error.
  virtual Status Write(TxnFn fn) = 0;

  // Like Write without blocking. `done` (may be empty) gets the same status as Write would
  // return, on the writer thread, after the OnCommit callbacks; it must not block.
  virtual void WriteAsync(TxnFn fn, std::function<void(Status)> done, Rerun rerun) = 0;
  void WriteAsync(TxnFn fn, std::function<void(Status)> done) {
    WriteAsync(std::move(fn), std::move(done), Rerun::kNever);
  }

  // Runs `fn` in a read-only transaction over a consistent snapshot, concurrently with writes.
  virtual Status Read(TxnFn fn) = 0;

  // Applies, in order and each in its own transaction, the migrations of `module` not yet
  // applied. Fails if an applied version's name differs (the history was rewritten).
  virtual Status Migrate(std::string_view module, std::span<const Migration> migrations) = 0;

  // OK if the store holds, for every module migrated through this object, the last version
  // it was given (readiness: the schema this process needs is there, even if the file was
  // replaced since). FailedPrecondition names the first module behind; a failed read is
  // returned as is.
  virtual Status MigrationsCurrent() = 0;

  // Calls `fn` on the writer thread, between transactions, whenever another process (or
  // connection) has committed to the store since the last call; checked before every batch
  // of writes (so a Write returns only after the listeners heard of what was committed
  // before it began) and at least every poll interval otherwise. Returns a handle for
  // RemoveExternalChangeListener.
  virtual int AddExternalChangeListener(std::function<void()> fn) = 0;
  // Unregisters a listener; once this returns the listener is not running and never will be.
  // Must not be called from a listener.
  virtual void RemoveExternalChangeListener(int handle) = 0;

  // Verifies the store's physical integrity ("ok" or the problems found).
  virtual Result<std::string> IntegrityCheck() = 0;
};

}  // namespace herald::store
