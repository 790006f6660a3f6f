import type { AnyBulkWriteOperation, Collection, Db, Document, MongoBulkWriteError } from 'mongodb';
import { isDuplicateKeyError } from './errors';

// Group commit for hot single-document writes. Callers that write to the same collection at about the
// same time share one `bulkWrite` command: while one batch is on the wire the next one fills up, so
// under load a command carries many writes and an idle caller waits for one round trip only. Each
// caller still learns the fate of its own write (done, duplicate key, or its error). Unordered, so
// one refused write does not hold back the others.

export type BatchedOutcome = 'done' | 'duplicate';

interface Pending<T extends Document> {
  operation: AnyBulkWriteOperation<T>;
  resolve(outcome: BatchedOutcome): void;
  reject(error: unknown): void;
}

export class BatchedWriter<T extends Document> {
  private queue: Pending<T>[] = [];
  private inFlight = 0;

  constructor(
    private readonly collection: Collection<T>,
    /** Commands on the wire at once: one, so that under load the next batch fills meanwhile. */
    private readonly maxInFlight = 1,
    private readonly maxBatch = 500,
  ) {}

  write(operation: AnyBulkWriteOperation<T>): Promise<BatchedOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ operation, resolve, reject });
      this.pump();
    });
  }

  insert(doc: Parameters<Collection<T>['insertOne']>[0]): Promise<BatchedOutcome> {
    return this.write({ insertOne: { document: doc } } as AnyBulkWriteOperation<T>);
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async send(batch: Pending<T>[]): Promise<void> {
    try {
      await this.collection.bulkWrite(
        batch.map((pending) => pending.operation),
        { ordered: false },
      );
      for (const pending of batch) pending.resolve('done');
    } catch (error) {
      const writeErrors = bulkWriteErrors(error);
      if (!writeErrors) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      // Unordered: every write without an error of its own went through.
      const failed = new Map(writeErrors.map((writeError) => [writeError.index, writeError]));
      batch.forEach((pending, index) => {
        const writeError = failed.get(index);
        if (!writeError) pending.resolve('done');
        else if (isDuplicateKeyError(writeError)) pending.resolve('duplicate');
        else pending.reject(new Error(`write refused: ${writeError.errmsg ?? 'unknown error'}`));
      });
    }
  }
}

interface IndexedWriteError {
  index: number;
  code?: number;
  errmsg?: string;
}

function bulkWriteErrors(error: unknown): IndexedWriteError[] | undefined {
  const writeErrors = (error as Partial<MongoBulkWriteError> | null)?.writeErrors;
  if (!writeErrors) return undefined;
  const list = Array.isArray(writeErrors) ? writeErrors : Object.values(writeErrors);
  return list.map((writeError) => ({
    index: writeError.index,
    code: writeError.code,
    errmsg: writeError.errmsg,
  }));
}

/** One writer per (database handle, collection), shared by everything in the process. */
const writers = new WeakMap<Db, Map<string, BatchedWriter<Document>>>();

export function batchedWriter<T extends Document>(db: Db, collectionName: string): BatchedWriter<T> {
  let byName = writers.get(db);
  if (!byName) {
    byName = new Map();
    writers.set(db, byName);
  }
  let writer = byName.get(collectionName);
  if (!writer) {
    writer = new BatchedWriter(db.collection<Document>(collectionName));
    byName.set(collectionName, writer);
  }
  return writer as unknown as BatchedWriter<T>;
}
