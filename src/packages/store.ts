import type { Collection, Db } from 'mongodb';
import { collectionNames, isDuplicateKeyError } from '../mongo/collections';
import { defaultPackages } from './defaults';
import type { CreditPackage, PackageDocument } from './types';

export type PackageStore = ReturnType<typeof packageStore>;

function fromDocument({ _id, created_at: _c, updated_at: _u, ...rest }: PackageDocument): CreditPackage {
  return { id: _id, ...rest, stripe_price_id: rest.stripe_price_id ?? null };
}

/** Stable order for lists: by credit type, then currency, then price. */
function byTypeCurrencyPrice(a: CreditPackage, b: CreditPackage): number {
  return (
    a.credit_type.localeCompare(b.credit_type) ||
    a.price.currency.localeCompare(b.price.currency) ||
    a.price.amount - b.price.amount ||
    a.id.localeCompare(b.id)
  );
}

export function packageStore(db: Db, now: () => Date = () => new Date()) {
  const packages: Collection<PackageDocument> = db.collection<PackageDocument>(collectionNames.packages);

  return {
    async list(filter: { activeOnly?: boolean } = {}): Promise<CreditPackage[]> {
      const documents = await packages.find(filter.activeOnly ? { active: true } : {}).toArray();
      return documents.map(fromDocument).sort(byTypeCurrencyPrice);
    },

    async get(id: string): Promise<CreditPackage | null> {
      const document = await packages.findOne({ _id: id });
      return document ? fromDocument(document) : null;
    },

    /** Returns null when the id is taken. */
    async create(pkg: CreditPackage): Promise<CreditPackage | null> {
      const { id, ...fields } = pkg;
      const at = now();
      try {
        await packages.insertOne({ _id: id, ...fields, created_at: at, updated_at: at });
      } catch (error) {
        if (isDuplicateKeyError(error)) return null;
        throw error;
      }
      return { ...pkg, stripe_price_id: pkg.stripe_price_id ?? null };
    },

    /** Returns null when there is no such package. */
    async update(id: string, changes: Partial<Omit<CreditPackage, 'id'>>): Promise<CreditPackage | null> {
      const result = await packages.findOneAndUpdate(
        { _id: id },
        { $set: { ...changes, updated_at: now() } },
        { returnDocument: 'after' },
      );
      return result ? fromDocument(result) : null;
    },

    /** Inserts the default catalogue where missing; packages an operator has edited stay as they are. */
    async seed(creditTypes: readonly string[]): Promise<void> {
      const at = now();
      for (const { id, ...fields } of defaultPackages(creditTypes)) {
        try {
          await packages.updateOne(
            { _id: id },
            { $setOnInsert: { ...fields, created_at: at, updated_at: at } },
            { upsert: true },
          );
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error; // another process seeded it first
        }
      }
    },
  };
}
