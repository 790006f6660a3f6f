import { z } from 'zod';
import { maxCreditsPerEntry } from '../../ledger/types';

// Field shapes shared by several routes; each request schema is composed from these once.

export const instanceIdField = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, { message: 'letters, digits and . _ : - only' });

export const siteUrlField = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).max(2048);

export const emailField = z.email({ message: 'expected an email address' }).max(320);

export const versionField = z.string().min(1).max(64);

/** WordPress sends integer user ids, desktop apps strings: both are accepted (the ledger normalises). */
export const userIdField = z.union([
  z.string().trim().min(1, { message: 'must not be empty' }).max(191),
  z.number().int().nonnegative(),
]);

export function creditTypeField(creditTypes: readonly string[]) {
  return z.enum(creditTypes as [string, ...string[]], {
    message: `expected one of ${creditTypes.join(', ')}`,
  });
}

const boundMessage = `at most ${maxCreditsPerEntry.toLocaleString('en')} credits at once`;

/** A number of credits to grant or spend: a positive integer within the per-entry bound. */
export const creditAmountField = z
  .number()
  .int({ message: 'must be an integer' })
  .min(1, { message: 'must be an integer of at least 1' })
  .max(maxCreditsPerEntry, { message: boundMessage });

/** A change of balance either way: a non-zero integer within the per-entry bound. */
export const creditDeltaField = z
  .number()
  .int({ message: 'must be an integer' })
  .min(-maxCreditsPerEntry, { message: boundMessage })
  .max(maxCreditsPerEntry, { message: boundMessage })
  .refine((delta) => delta !== 0, { message: 'must be a non-zero integer' });

export const isoDateField = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time' });

/**
 * An integer that may arrive as JSON number or as a decimal string (values WordPress reads with
 * `$wpdb->get_results` are strings: `"12"`); answered as a number.
 */
export function integerField(options: { min?: number; message?: string } = {}) {
  const message =
    options.message ?? (options.min === 0 ? 'expected a non-negative integer' : 'expected an integer');
  let int = z.number().int();
  if (options.min !== undefined) int = int.min(options.min);
  return z.union(
    [
      int,
      z
        .string()
        .trim()
        .regex(/^-?\d{1,15}$/)
        .transform(Number)
        .pipe(int),
    ],
    { message },
  );
}

/**
 * A time as plugins send it: MySQL local time (`2025-11-06 10:00:00`) or ISO 8601. Never refused
 * for its format (tenancy/site-time.ts reads it, and keeps what it cannot read as text).
 */
export const pluginTimeField = z
  .string()
  .max(64)
  .describe('MySQL local time (`2025-11-06 10:00:00`, read in the site time zone) or ISO 8601');
