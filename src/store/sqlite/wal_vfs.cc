#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>

#include "core/log.h"
#include "core/strings.h"

namespace herald::store {
namespace {

constexpr char kName[] = "herald";
constexpr int kFrameHeaderSize = 24;  // wal.c's WAL_FRAME_HDRSIZE
constexpr size_t kLimit = 4 << 20;
constexpr size_t kKeep = 1 << 20;  // capacity a WAL file keeps between transactions
// The most the default VFS writes at once (unix.c, seekAndWriteFd, keeps 17 bits of the size).
constexpr size_t kMaxWrite = 0x1ffff;

sqlite3_vfs* inner = nullptr;  // the default VFS; set once, before the registration
std::atomic<long> writes{0};
std::atomic<long> written{0};
std::atomic<long> late{0};
std::atomic<long> dropped{0};

// What SQLite sees as a sqlite3_file (`base`, first), and the default VFS's file it wraps,
// in the same allocation.
struct Wrapped {
  sqlite3_file base;
  sqlite3_file* real;
};

struct DbFile;

// A WAL file. SQLite uses a file from one thread at a time.
struct WalFile : Wrapped {
  DbFile* db = nullptr;  // its database's file, while both are open
  std::string pending;   // writes gathered from offset `start`, not yet made
  sqlite3_int64 start = 0;
  sqlite3_int64 next = -1;        // where the last write ended: the next append starts there
  bool commit_page_next = false;  // the last write gathered was a commit frame's header
};

// A main database file, whose WAL index's barrier, and the release of its WAL's write lock or
// of the file's own lock, see to its WAL's gathered writes.
struct DbFile : Wrapped {
  WalFile* wal = nullptr;
};

// Each file is a WalFile or DbFile followed by the default VFS's file.
constexpr size_t kAlign = alignof(std::max_align_t);
constexpr size_t kHeadSize =
    (std::max(sizeof(WalFile), sizeof(DbFile)) + kAlign - 1) / kAlign * kAlign;

// `base` is Wrapped's first member, so the two share their address.
Wrapped* Of(sqlite3_file* f) { return reinterpret_cast<Wrapped*>(f); }
WalFile* Wal(sqlite3_file* f) { return static_cast<WalFile*>(Of(f)); }
DbFile* Db(sqlite3_file* f) { return static_cast<DbFile*>(Of(f)); }

// Forgets the gathered writes, keeping at most kKeep of their memory.
void Clear(WalFile* w) {
  w->commit_page_next = false;
  if (w->pending.capacity() > kKeep) {
    std::string().swap(w->pending);
  } else {
    w->pending.clear();
  }
}

int Flush(WalFile* w) {
  int rc = SQLITE_OK;
  for (size_t at = 0; at < w->pending.size() && rc == SQLITE_OK; at += kMaxWrite) {
    written.fetch_add(1, std::memory_order_relaxed);
    const size_t n = std::min(kMaxWrite, w->pending.size() - at);
    rc = w->real->pMethods->xWrite(w->real, w->pending.data() + at, static_cast<int>(n),
                                   w->start + static_cast<sqlite3_int64>(at));
  }
  Clear(w);  // written, or failed: SQLite fails the transaction either way
  if (rc != SQLITE_OK) w->next = -1;
  return rc;
}

// Writes out what was gathered, then this write.
int WriteNow(WalFile* w, const void* data, int n, sqlite3_int64 offset) {
  int rc = Flush(w);
  if (rc == SQLITE_OK) rc = w->real->pMethods->xWrite(w->real, data, n, offset);
  w->next = rc == SQLITE_OK ? offset + n : -1;
  return rc;
}

// --- the WAL file --------------------------------------------------------------------------

int WalClose(sqlite3_file* f) {
  WalFile* w = Wal(f);
  int rc = Flush(w);
  if (w->db != nullptr) w->db->wal = nullptr;
  int closed = w->real->pMethods->xClose(w->real);
  w->~WalFile();
  return rc != SQLITE_OK ? rc : closed;
}

int WalRead(sqlite3_file* f, void* out, int n, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xRead(w->real, out, n, offset);
}

int WalWrite(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  writes.fetch_add(1, std::memory_order_relaxed);
  // Not an append: a frame rewritten in place (a page written again in its transaction, a
  // header whose checksum SQLite recomputes), or the frames after a rolled-back savepoint.
  // Written at once, and its error is SQLite's to see.
  if (offset != w->next) return WriteNow(w, data, n, offset);
  if (w->pending.empty()) w->start = offset;
  try {
    w->pending.append(static_cast<const char*>(data), static_cast<size_t>(n));
  } catch (const std::bad_alloc&) {
    return WriteNow(w, data, n, offset);
  }
  w->next = offset + n;
  const bool ends_commit = w->commit_page_next;
  // A frame's header holds, at bytes 4-7, the database's size in pages after a commit, and
  // zero in the other frames (wal.c, walEncodeFrame).
  const auto* bytes = static_cast<const unsigned char*>(data);
  w->commit_page_next = n == kFrameHeaderSize && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  if (ends_commit || w->pending.size() >= kLimit) return Flush(w);
  return SQLITE_OK;
}

int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xTruncate(w->real, size);
}

int WalSync(sqlite3_file* f, int flags) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xSync(w->real, flags);
}

int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileSize(w->real, size);
}

int WalFileControl(sqlite3_file* f, int op, void* arg) {
  WalFile* w = Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileControl(w->real, op, arg);
}

int WalFetch(sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
  WalFile* w = Wal(f);
  *out = nullptr;
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFetch(w->real, offset, n, out);
}

// --- the database file ---------------------------------------------------------------------

int DbClose(sqlite3_file* f) {
  DbFile* d = Db(f);
  if (d->wal != nullptr) d->wal->db = nullptr;
  int rc = d->real->pMethods->xClose(d->real);
  d->~DbFile();
  return rc;
}

// Drops what the database's WAL gathered: frames of a transaction that did not commit (a
// commit writes them out at its commit frame), past the WAL's last commit, where no reader
// and no recovery looks. Written later, they could land on another writer's frames.
void Drop(DbFile* d) {
  if (d->wal == nullptr || d->wal->pending.empty()) return;
  dropped.fetch_add(1, std::memory_order_relaxed);
  Clear(d->wal);
  d->wal->next = -1;
}

// Writes out what the database's WAL gathered, where SQLite can take no error.
void FlushLate(DbFile* d) {
  if (d->wal == nullptr || d->wal->pending.empty()) return;
  late.fetch_add(1, std::memory_order_relaxed);
  if (Flush(d->wal) != SQLITE_OK) {
    // SQLite may be about to publish these frames; readers must never see unwritten ones.
    // After a restart, recovery keeps the WAL's valid commits, all of which returned.
    core::LogError("store: cannot write WAL frames SQLite is publishing; stopping", {});
    std::abort();
  }
}

int DbShmLock(sqlite3_file* f, int offset, int n, int flags) {
  DbFile* d = Db(f);
  // Offset 0 is the WAL's write lock (wal.c, WAL_WRITE_LOCK).
  if (offset == 0 && (flags & SQLITE_SHM_UNLOCK) != 0 && (flags & SQLITE_SHM_EXCLUSIVE) != 0) {
    Drop(d);
  }
  return d->real->pMethods->xShmLock(d->real, offset, n, flags);
}

// The file's own lock, released at the end of a transaction with locking_mode=EXCLUSIVE
// (which takes no WAL write lock).
int DbUnlock(sqlite3_file* f, int level) {
  DbFile* d = Db(f);
  Drop(d);
  return d->real->pMethods->xUnlock(d->real, level);
}

void DbShmBarrier(sqlite3_file* f) {
  DbFile* d = Db(f);
  FlushLate(d);
  d->real->pMethods->xShmBarrier(d->real);
}

// --- forwarding ----------------------------------------------------------------------------

// The methods a file passes on unchanged, for WalFile and DbFile alike.
sqlite3_file* Real(sqlite3_file* f) { return Of(f)->real; }

int Read(sqlite3_file* f, void* out, int n, sqlite3_int64 offset) {
  return Real(f)->pMethods->xRead(Real(f), out, n, offset);
}
int Write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  return Real(f)->pMethods->xWrite(Real(f), data, n, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) { return Real(f)->pMethods->xSync(Real(f), flags); }
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int remove) { return Real(f)->pMethods->xShmUnmap(Real(f), remove); }
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), offset, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), offset, p);
}

// Version 3 of the methods, as the default VFS's files have (unix.c); a database whose
// file has fewer is opened without this VFS's help (see Open).
const sqlite3_io_methods kWalMethods = {3,
                                        &WalClose,
                                        &WalRead,
                                        &WalWrite,
                                        &WalTruncate,
                                        &WalSync,
                                        &WalFileSize,
                                        &Lock,
                                        &Unlock,
                                        &CheckReservedLock,
                                        &WalFileControl,
                                        &SectorSize,
                                        &DeviceCharacteristics,
                                        &ShmMap,
                                        &ShmLock,
                                        &ShmBarrier,
                                        &ShmUnmap,
                                        &WalFetch,
                                        &Unfetch};

const sqlite3_io_methods kDbMethods = {3,
                                       &DbClose,
                                       &Read,
                                       &Write,
                                       &Truncate,
                                       &Sync,
                                       &FileSize,
                                       &Lock,
                                       &DbUnlock,
                                       &CheckReservedLock,
                                       &FileControl,
                                       &SectorSize,
                                       &DeviceCharacteristics,
                                       &ShmMap,
                                       &DbShmLock,
                                       &DbShmBarrier,
                                       &ShmUnmap,
                                       &Fetch,
                                       &Unfetch};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  DbFile* owner = nullptr;
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    // The database's file, which SQLite opened first (sqlite3.h). A WAL whose database this
    // VFS does not watch (see below) writes as the default VFS does.
    sqlite3_file* db = sqlite3_database_file_object(name);
    if (db != nullptr && db->pMethods == &kDbMethods) owner = Db(db);
  }
  if (owner == nullptr && (flags & SQLITE_OPEN_MAIN_DB) == 0) {
    return inner->xOpen(inner, name, f, flags, out_flags);
  }
  auto* real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kHeadSize);
  real->pMethods = nullptr;
  int rc = inner->xOpen(inner, name, real, flags, out_flags);
  if (rc != SQLITE_OK || real->pMethods == nullptr || real->pMethods->iVersion < 3) {
    // Failed, or a file without shared memory and memory mapping: opened again where SQLite
    // uses the default VFS's file as is.
    if (real->pMethods != nullptr) real->pMethods->xClose(real);
    f->pMethods = nullptr;
    if (rc != SQLITE_OK) return rc;
    return inner->xOpen(inner, name, f, flags, out_flags);
  }
  if (owner != nullptr) {
    auto* w = new (f) WalFile;
    w->base.pMethods = &kWalMethods;
    w->real = real;
    w->db = owner;
    owner->wal = w;
  } else {
    auto* d = new (f) DbFile;
    d->base.pMethods = &kDbMethods;
    d->real = real;
  }
  return SQLITE_OK;
}

Status Register() {
  inner = sqlite3_vfs_find(nullptr);
  if (inner == nullptr) return absl::InternalError("SQLite has no default VFS");
  static sqlite3_vfs vfs;
  vfs = *inner;  // the same methods and data (unix.c finds its locking style in pAppData)
  vfs.szOsFile = static_cast<int>(kHeadSize) + inner->szOsFile;
  vfs.pNext = nullptr;
  vfs.zName = kName;
  vfs.xOpen = &Open;
  if (int rc = sqlite3_vfs_register(&vfs, /*makeDflt=*/0); rc != SQLITE_OK) {
    return absl::InternalError(StrCat("cannot register the SQLite VFS: ", sqlite3_errstr(rc)));
  }
  return absl::OkStatus();
}

}  // namespace

Result<const char*> WalVfs() {
  static Status registered;
  static std::once_flag once;
  std::call_once(once, [] { registered = Register(); });
  if (!registered.ok()) return registered;
  return kName;
}

WalVfsStats GetWalVfsStats() {
  return {writes.load(std::memory_order_relaxed), written.load(std::memory_order_relaxed),
          late.load(std::memory_order_relaxed), dropped.load(std::memory_order_relaxed)};
}

}  // namespace herald::store
