/**
 * Runs writes to one account one after another within this process. Only a speed-up: concurrent
 * writers in one process would otherwise mostly lose races to each other and retry. Correctness
 * never depends on it; other processes write to the same accounts and the unique indexes decide.
 */
export function createAccountQueue() {
  const tails = new Map<string, Promise<unknown>>();
  const waiting = new Map<string, number>();

  function run<T>(accountId: string, task: () => Promise<T>): Promise<T> {
    waiting.set(accountId, (waiting.get(accountId) ?? 0) + 1);
    const start = () => {
      const left = (waiting.get(accountId) ?? 1) - 1;
      if (left > 0) waiting.set(accountId, left);
      else waiting.delete(accountId);
      return task();
    };
    const previous = tails.get(accountId) ?? Promise.resolve();
    const result = previous.then(start, start);
    const tail = result.catch(() => undefined);
    tails.set(accountId, tail);
    void tail.then(() => {
      if (tails.get(accountId) === tail) tails.delete(accountId); // keep the maps as small as the traffic
    });
    return result;
  }

  /** How many writes to this account are queued and not started yet. */
  function waitingFor(accountId: string): number {
    return waiting.get(accountId) ?? 0;
  }

  return { run, waitingFor };
}
