#pragma once
// The VFS every connection of the store opens with: the platform's default one (unix),
// except that a WAL file hands each transaction's frames to the kernel in one write.
//
// Why: SQLite writes a WAL frame as two writes, its 24-byte header and then its page, so a
// commit of n pages made 2n system calls. On a virtual machine where a system call costs
// about a microsecond (this project's reference machine), that was 1.1 writes per enqueue on
// the writer thread, the thread that bounds throughput.
//
// How it stays correct: other connections learn of frames only from the WAL index, which
// SQLite updates after the frames are written, and the last frame of a commit says so in
// its header (the database's size; zero in other frames). A WAL file gathers the writes that
// append to it, one after the other, and:
//   - writes them out once the commit frame's page is given, before that write returns: a
//     failure is that write's error, which SQLite handles as any failed write (the
//     transaction fails);
//   - writes them out before any read, sync, truncation, size query, file control or close
//     of the file, and when they reach 4 MiB;
//   - writes them out, then the write, at once, for a write that does not append: a frame
//     rewritten in place (a page written again in its transaction, a header whose checksum
//     SQLite recomputes at commit), or the frames after a rolled-back savepoint;
//   - drops them when its connection releases the WAL's write lock (or, with
//     locking_mode=EXCLUSIVE, the database file's lock): they then belong to a transaction
//     that did not commit and lie past the WAL's last commit, where no reader and no
//     recovery looks, and written later they could land on another writer's frames;
//   - writes them out at a memory barrier on its database's WAL index, which SQLite places
//     before it publishes a commit: a safety net, which finds nothing to write with this
//     SQLite (the commit frame wrote everything), and stops the process if it cannot write.
// A commit therefore returns after its frames reached the kernel, as with the default VFS,
// and after they were synced with synchronous=FULL, which syncs after the commit frame.

#include "core/status.h"

namespace herald::store {

// The VFS's name for sqlite3_open_v2, registered on the first call, which initialises SQLite
// (so InstallPageCache must come first). Safe to call from several threads.
Result<const char*> WalVfs();

// Counts since the process started, over all files opened through the VFS.
struct WalVfsStats {
  long writes = 0;   // WAL writes SQLite asked for
  long written = 0;  // WAL writes made
  long late = 0;     // writes made at a memory barrier (0 unless SQLite changed how it
                     // writes commits)
  long dropped = 0;  // gatherings dropped when a write lock was released (a transaction
                     // that wrote frames before its commit, then rolled back)
};
WalVfsStats GetWalVfsStats();

}  // namespace herald::store
