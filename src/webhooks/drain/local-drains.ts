import type { Db } from 'mongodb';
import { dueEntries, type QueueEntryDoc } from '../queue';

// The drains running in this process, by endpoint. A publisher in the same process hands its queued
// entry straight to the endpoint's drain (no poll, no wake); entries queued by other processes are
// found by one poll of the queue for all local drains together, every `pollIntervalMs` while any
// drain runs.

export interface DrainHandle {
  readonly key: string;
  /** False when the drain no longer takes entries (it is going to sleep): the publisher wakes it. */
  offer(entry: QueueEntryDoc): boolean;
}

export const pollIntervalMs = 25;
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
    try {
      while (this.drains.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
        const keys = [...this.drains.keys()];
        if (keys.length === 0) break;
        let due: QueueEntryDoc[];
        try {
          due =
            keys.length <= maxNamedEndpoints
              ? await dueEntries(this.db, keys, new Date())
              : await dueEntries(this.db, [], new Date(), 5_000, true);
        } catch {
          continue; // the database is away: each drain notices on its own writes
        }
        for (const entry of due) this.drains.get(entry.endpoint_key)?.offer(entry);
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
