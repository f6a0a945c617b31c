#pragma once
// The page cache every SQLite connection of the process uses: SQLite's own (pcache1), with
// its truncation made to cost nothing when there is nothing to truncate.
//
// Why: at the end of every write transaction SQLite truncates its page cache to the
// database's size. pcache1 walks only the hash buckets between that size and the highest key
// it ever held, unless that span exceeds its table, in which case it walks every bucket and
// every cached page. A B-tree rebalance that reorders pages gives one of them the page
// number of the 1 GiB lock byte as a temporary key (btree.c, balance_nonroot), which leaves
// the highest key at 262,145 for 4 KiB pages until the next truncation: every commit with
// such a rebalance (nearly all of them, under door scans that insert into several indexes)
// walked the whole cache, a pointer chase over up to 8,192 pages that took 13 % of the
// writer thread. This cache tracks an upper bound of the keys it holds (the temporary key
// apart, tracked on its own) and passes a truncation on only when a page may lie beyond
// the limit.

#include "core/status.h"

namespace herald::store {

// Installs the cache. Must run before SQLite's first use in the process (sqlite3_initialize,
// which opening a connection does); later, it changes nothing and returns
// FailedPrecondition. Safe to call more than once and from several threads.
Status InstallPageCache();

// Counts since the process started.
struct PageCacheStats {
  long forwarded = 0;       // truncations passed on to pcache1
  long skipped = 0;         // truncations with nothing to drop
  long temporary_keys = 0;  // pages given the temporary key
};
PageCacheStats GetPageCacheStats();

}  // namespace herald::store
