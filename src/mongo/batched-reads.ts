// Group reads by key for hot lookups that miss their cache at about the same time (a burst over many
// instances): while one read is on the wire, the keys asked for meanwhile gather, and go as one
// `$in` query when it is back. An idle caller waits for one round trip only; under load a command
// carries many keys. Each caller gets its own key's answer (undefined: none), or the read's error.

interface Waiting<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

export class BatchedReader<K, V> {
  private waiting = new Map<K, Waiting<V>[]>();
  private inFlight = 0;

  constructor(
    /** The answers for these keys (each at most once); a key left out has none. */
    private readonly readMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxInFlight = 1,
    private readonly maxBatch = 200,
  ) {}

  read(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const callers = this.waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const batch = new Map<K, Waiting<V>[]>();
      for (const [key, callers] of this.waiting) {
        if (batch.size >= this.maxBatch) break;
        batch.set(key, callers);
      }
      for (const key of batch.keys()) this.waiting.delete(key);
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async send(batch: Map<K, Waiting<V>[]>): Promise<void> {
    let found: Map<K, V>;
    try {
      found = await this.readMany([...batch.keys()]);
    } catch (error) {
      for (const callers of batch.values()) for (const caller of callers) caller.reject(error);
      return;
    }
    for (const [key, callers] of batch) {
      const value = found.get(key);
      for (const caller of callers) caller.resolve(value);
    }
  }
}
