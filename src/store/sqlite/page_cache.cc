#include "store/sqlite/page_cache.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <mutex>

namespace herald::store {
namespace {

// SQLite's PENDING_BYTE (1 GiB), whose page never holds data; btree.c uses the page number
// after it as a temporary key while it swaps two pages. Were it ever different, that key
// would count as an ordinary one: truncations would be passed on as before, nothing worse.
constexpr unsigned kPendingByte = 0x40000000;

sqlite3_pcache_methods2 inner;  // pcache1; written once, before any cache exists
std::atomic<long> forwarded{0};
std::atomic<long> skipped{0};
std::atomic<long> temporary_keys{0};

struct Cache {
  sqlite3_pcache* pages;  // pcache1's cache
  unsigned temp_key;
  unsigned max_key = 0;       // no page but the temporary one has a greater key
  bool temp_present = false;  // a page holds the temporary key
};

Cache* Of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int Init(void*) { return inner.xInit(inner.pArg); }
void Shutdown(void*) { inner.xShutdown(inner.pArg); }

sqlite3_pcache* Create(int page_size, int extra, int purgeable) {
  sqlite3_pcache* pages = inner.xCreate(page_size, extra, purgeable);
  if (pages == nullptr) return nullptr;
  auto* c = new (std::nothrow) Cache{pages, kPendingByte / static_cast<unsigned>(page_size) + 1};
  if (c == nullptr) inner.xDestroy(pages);
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void Cachesize(sqlite3_pcache* p, int n) { inner.xCachesize(Of(p)->pages, n); }
int Pagecount(sqlite3_pcache* p) { return inner.xPagecount(Of(p)->pages); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* c = Of(p);
  sqlite3_pcache_page* page = inner.xFetch(c->pages, key, create);
  if (page == nullptr) return nullptr;
  if (key == c->temp_key) {
    c->temp_present = true;
  } else {
    c->max_key = std::max(c->max_key, key);
  }
  return page;
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  inner.xUnpin(Of(p)->pages, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* c = Of(p);
  inner.xRekey(c->pages, page, old_key, new_key);
  if (old_key == c->temp_key) c->temp_present = false;
  if (new_key == c->temp_key) {
    c->temp_present = true;
    temporary_keys.fetch_add(1, std::memory_order_relaxed);
  } else {
    c->max_key = std::max(c->max_key, new_key);
  }
}

// Drops every page whose key is `limit` or more.
void Truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* c = Of(p);
  const bool temp_dropped = c->temp_present && c->temp_key >= limit;
  if (c->max_key < limit && !temp_dropped) {
    skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  forwarded.fetch_add(1, std::memory_order_relaxed);
  inner.xTruncate(c->pages, limit);
  if (limit == 0) {
    c->max_key = 0;
  } else {
    c->max_key = std::min(c->max_key, limit - 1);
  }
  if (temp_dropped) c->temp_present = false;
}

void Destroy(sqlite3_pcache* p) {
  Cache* c = Of(p);
  inner.xDestroy(c->pages);
  delete c;
}

void Shrink(sqlite3_pcache* p) { inner.xShrink(Of(p)->pages); }

Status Install() {
  sqlite3_pcache_methods2 pcache1{};
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &pcache1) != SQLITE_OK) {
    return absl::FailedPreconditionError("SQLite is already initialised");
  }
  inner = pcache1;
  static const sqlite3_pcache_methods2 kMethods = {
      1,      nullptr, &Init,  &Shutdown, &Create,  &Cachesize, &Pagecount,
      &Fetch, &Unpin,  &Rekey, &Truncate, &Destroy, &Shrink};
  if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &kMethods) != SQLITE_OK) {
    return absl::FailedPreconditionError("SQLite is already initialised");
  }
  return absl::OkStatus();
}

}  // namespace

Status InstallPageCache() {
  static Status installed;
  static std::once_flag once;
  std::call_once(once, [] { installed = Install(); });
  return installed;
}

PageCacheStats GetPageCacheStats() {
  return {forwarded.load(std::memory_order_relaxed), skipped.load(std::memory_order_relaxed),
          temporary_keys.load(std::memory_order_relaxed)};
}

}  // namespace herald::store
