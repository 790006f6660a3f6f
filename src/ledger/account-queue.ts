/**
 * Runs writes to one account one after another within this process. Only a speed-up: concurrent
 * writers in one process would otherwise mostly lose races to each other and retry. Correctness
 * never depends on it; other processes write to the same accounts and the unique indexes decide.
 */
export function createAccountQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return function run<T>(accountId: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(accountId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    tails.set(accountId, tail);
    void tail.then(() => {
      if (tails.get(accountId) === tail) tails.delete(accountId); // keep the map as small as the traffic
    });
    return result;
  };
}
