import { type Db, MongoClient } from 'mongodb';
import type { Config } from '../config';

export interface Mongo {
  client: MongoClient;
  db: Db;
}

/**
 * Connects lazily: the driver retries the server on each operation, so a process started before
 * MongoDB (or surviving a MongoDB restart) recovers on its own.
 */
export function createMongo(config: Pick<Config, 'MONGODB_URL' | 'MONGODB_DATABASE'>): Mongo {
  const client = new MongoClient(config.MONGODB_URL, {
    serverSelectionTimeoutMS: 5_000,
    appName: 'rakubun-credits',
  });
  return { client, db: client.db(config.MONGODB_DATABASE) };
}

export async function pingMongo(db: Db): Promise<boolean> {
  try {
    await db.command({ ping: 1 }, { timeoutMS: 2_000 });
    return true;
  } catch {
    return false;
  }
}
