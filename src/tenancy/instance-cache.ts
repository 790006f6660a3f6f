import type { Db } from 'mongodb';

// Plugin authentication reads the caller's instance on every request. This keeps each instance for
// at most a second per API process (per database handle), so a busy site costs one read a second,
// not one a request. The writes to an instance in tenancy/instances.ts forget it here, so this
// process sees a rotation, a profile change or a disable at once; other API processes within the
// second.

export const instanceCacheTtlMs = 1_000;
const maxEntries = 10_000;

interface Entry {
  at: number;
  doc: Promise<unknown>;
}

const caches = new WeakMap<Db, Map<string, Entry>>();

function cacheOf(db: Db): Map<string, Entry> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  return cache;
}

/** The instance as read at most a second ago; concurrent misses share one read. */
export function cachedInstance<Doc>(
  db: Db,
  instanceId: string,
  read: (db: Db, instanceId: string) => Promise<Doc | null>,
  now = Date.now(),
): Promise<Doc | null> {
  const cache = cacheOf(db);
  const hit = cache.get(instanceId);
  // One reader per database handle (tenancy/instances.ts), so what is cached is always a Doc.
  if (hit && now - hit.at < instanceCacheTtlMs) return hit.doc as Promise<Doc | null>;
  if (cache.size >= maxEntries) cache.clear(); // bounded: unknown ids are cached (briefly) too
  const doc = read(db, instanceId);
  const entry = { at: now, doc };
  cache.set(instanceId, entry);
  // A failed read is not kept: the next request reads again.
  doc.catch(() => {
    if (cache.get(instanceId) === entry) cache.delete(instanceId);
  });
  return doc;
}

export function forgetInstance(db: Db, instanceId: string): void {
  caches.get(db)?.delete(instanceId);
}
