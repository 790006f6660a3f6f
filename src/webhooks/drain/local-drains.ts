import type { Db } from 'mongodb';
import { entriesById, type QueueEntryDoc, recentlyDueIds } from '../queue';

// The drains running in this process, by endpoint. A publisher in the same process hands its queued
// entry straight to the endpoint's drain (no poll, no wake); entries queued by other processes are
// found by one poll of the queue for all local drains together, every `pollIntervalMs` while any
// drain runs, asking only for entries due since the last poll (a drain reads its endpoint's whole
// queue when it starts, and knows its own retries).

export interface DrainHandle {
  readonly key: string;
  /** False when the drain no longer takes entries (it is going to sleep): the publisher wakes it. */
  offer(entry: QueueEntryDoc): boolean;
  /** Whether the drain would take this entry it has not seen (the poll then reads it). */
  wants(id: string, generation: number): boolean;
}

export const pollIntervalMs = 25;
/** Another process's clock may be this far behind ours (its entries' due_at are its own time). */
const clockSkewMarginMs = 5_000;
/** Past this many local drains, one poll asks for everything due rather than naming each endpoint. */
const maxNamedEndpoints = 500;

export class LocalDrains {
  private readonly drains = new Map<string, DrainHandle>();
  private polling = false;

  constructor(private readonly db: Db) {}

  get size(): number {
    return this.drains.size;
  }

  register(handle: DrainHandle): void {
    this.drains.set(handle.key, handle);
    if (!this.polling) void this.poll();
  }

  unregister(handle: DrainHandle): void {
    if (this.drains.get(handle.key) === handle) this.drains.delete(handle.key);
  }

  offer(entry: QueueEntryDoc): boolean {
    return this.drains.get(entry.endpoint_key)?.offer(entry) ?? false;
  }

  private async poll(): Promise<void> {
    this.polling = true;
    // A new drain has read its endpoint's whole queue; from then on only new entries need finding.
    let lastPollAt = Date.now();
    try {
      while (this.drains.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
        const keys = [...this.drains.keys()];
        if (keys.length === 0) break;
        try {
          const now = Date.now();
          const due = await recentlyDueIds(
            this.db,
            keys.length <= maxNamedEndpoints ? keys : 'every endpoint',
            new Date(lastPollAt - clockSkewMarginMs),
            new Date(now),
          );
          lastPollAt = now;
          const unseen = due.filter((entry) =>
            this.drains.get(entry.endpoint_key)?.wants(entry._id, entry.generation),
          );
          if (unseen.length === 0) continue;
          for (const entry of await entriesById(
            this.db,
            unseen.map((e) => e._id),
          )) {
            this.drains.get(entry.endpoint_key)?.offer(entry);
          }
        } catch {
          // The database is away: each drain notices on its own writes.
        }
      }
    } finally {
      this.polling = false;
    }
  }
}

const byDb = new WeakMap<Db, LocalDrains>();

export function localDrains(db: Db): LocalDrains {
  let drains = byDb.get(db);
  if (!drains) {
    drains = new LocalDrains(db);
    byDb.set(db, drains);
  }
  return drains;
}
