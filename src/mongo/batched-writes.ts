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

export interface BatchedWriterOptions {
  /**
   * Hold a write this long before sending it, so that more share its command: for writes nobody
   * waits for on the hot path (each command costs the process far more than its documents do).
   */
  lingerMs?: number;
}

export class BatchedWriter<T extends Document> {
  private queue: Pending<T>[] = [];
  private inFlight = 0;
  /** When the oldest queued write was queued (lingering writers only). */
  private oldestAt = 0;
  private lingering: NodeJS.Timeout | undefined;

  constructor(
    private readonly collection: Collection<T>,
    /** Commands on the wire at once: one, so that under load the next batch fills meanwhile. */
    private readonly maxInFlight = 1,
    private readonly maxBatch = 500,
    private readonly options: BatchedWriterOptions = {},
  ) {}

  write(operation: AnyBulkWriteOperation<T>): Promise<BatchedOutcome> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) this.oldestAt = this.options.lingerMs ? performance.now() : 0;
      this.queue.push({ operation, resolve, reject });
      this.pump();
    });
  }

  insert(doc: Parameters<Collection<T>['insertOne']>[0]): Promise<BatchedOutcome> {
    return this.write({ insertOne: { document: doc } } as AnyBulkWriteOperation<T>);
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const linger = this.options.lingerMs;
      if (linger && this.queue.length < this.maxBatch) {
        const wait = this.oldestAt + linger - performance.now();
        if (wait > 0) {
          this.lingering ??= setTimeout(() => {
            this.lingering = undefined;
            this.pump();
          }, wait);
          return;
        }
      }
      if (this.lingering) {
        clearTimeout(this.lingering);
        this.lingering = undefined;
      }
      const batch = this.queue.splice(0, this.maxBatch);
      // What is left (a full batch's overflow) counts from now.
      if (this.queue.length > 0) this.oldestAt = performance.now();
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

/**
 * With `options`, a writer of its own for the collection (one per set of options), apart from the
 * plain one: a lingering writer's batches never hold back writes someone is waiting for.
 */
export function batchedWriter<T extends Document>(
  db: Db,
  collectionName: string,
  options?: BatchedWriterOptions,
): BatchedWriter<T> {
  let byName = writers.get(db);
  if (!byName) {
    byName = new Map();
    writers.set(db, byName);
  }
  const key = options ? `${collectionName}\n${JSON.stringify(options)}` : collectionName;
  let writer = byName.get(key);
  if (!writer) {
    writer = new BatchedWriter(db.collection<Document>(collectionName), 1, 500, options);
    byName.set(key, writer);
  }
  return writer as unknown as BatchedWriter<T>;
}
