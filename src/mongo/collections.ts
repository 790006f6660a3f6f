import type { Db, IndexDescription } from 'mongodb';

// The one place that names the collections and their indexes. Unique indexes here are what make
// writes safe to repeat: a retried insert hits the index instead of writing twice.

export const collectionNames = {
  instances: 'instances',
} as const;

const indexes: Record<string, IndexDescription[]> = {
  [collectionNames.instances]: [{ key: { instance_id: 1 }, name: 'instance_id_unique', unique: true }],
};

/** Creates every index; safe to run on each start and from several processes at once. */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, specs] of Object.entries(indexes)) {
    if (specs.length > 0) await db.collection(collection).createIndexes(specs);
  }
}
