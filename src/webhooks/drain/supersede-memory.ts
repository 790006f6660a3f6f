import type { QueueEntryDoc } from '../queue';

// `credits_updated` carries the user's whole balance and its `ledger_seq`: for one (endpoint, user)
// only the newest needs to arrive. The drain of an endpoint sees every entry queued for it, so it
// knows the newest; this memory (per worker process, the 50,000 most recent pairs) also remembers
// it after the newer one was delivered, so an older one published late is not sent after it.

const maxPairs = 50_000;

export class SupersedeMemory {
  private readonly newest = new Map<string, number>();

  note(endpointKey: string, entry: Pick<QueueEntryDoc, 'supersede_key' | 'supersede_rank'>): void {
    if (entry.supersede_key === undefined || entry.supersede_rank === undefined) return;
    const pair = `${endpointKey}\n${entry.supersede_key}`;
    const known = this.newest.get(pair);
    if (known !== undefined && known >= entry.supersede_rank) return;
    this.newest.delete(pair); // re-insert: the map's order is the recency order
    this.newest.set(pair, entry.supersede_rank);
    if (this.newest.size > maxPairs) this.newest.delete(this.newest.keys().next().value!);
  }

  isSuperseded(endpointKey: string, entry: Pick<QueueEntryDoc, 'supersede_key' | 'supersede_rank'>): boolean {
    if (entry.supersede_key === undefined || entry.supersede_rank === undefined) return false;
    const known = this.newest.get(`${endpointKey}\n${entry.supersede_key}`);
    return known !== undefined && known > entry.supersede_rank;
  }
}

const shared = new SupersedeMemory();

export function supersedeMemory(): SupersedeMemory {
  return shared;
}
