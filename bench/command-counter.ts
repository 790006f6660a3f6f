import type { MongoClient } from 'mongodb';

// Counts a client's database commands by command and collection (driver command monitoring), so a
// bench can say how many each request of a hot path issues. The client must be made with
// monitorCommands (the option, or `monitorCommands=true` in its connection string).

export type CommandCounts = Record<string, number>;

export function countCommands(client: MongoClient) {
  const counts: CommandCounts = {};
  client.on('commandStarted', (event) => {
    const target = event.command[event.commandName];
    const key = typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
    counts[key] = (counts[key] ?? 0) + 1;
  });
  return { snapshot: (): CommandCounts => ({ ...counts }) };
}

/** What was issued between two snapshots. */
export function commandsBetween(before: CommandCounts, after: CommandCounts): CommandCounts {
  const delta: CommandCounts = {};
  for (const [key, count] of Object.entries(after)) {
    const issued = count - (before[key] ?? 0);
    if (issued > 0) delta[key] = issued;
  }
  return delta;
}

/** Adds several processes' counts together. */
export function sumCommands(...counts: CommandCounts[]): CommandCounts {
  const sum: CommandCounts = {};
  for (const one of counts) for (const [key, n] of Object.entries(one)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}
