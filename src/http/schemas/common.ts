import { z } from 'zod';
import { maxCreditsPerEntry } from '../../ledger/types';

// Field shapes shared by several routes; each request schema is composed from these once.

export const instanceIdField = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, { message: 'letters, digits and . _ : - only' });

export const siteUrlField = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).max(2048);

/**
 * The one email rule, the same in validation and in the OpenAPI document (`format: email` with this
 * pattern): an RFC 5321 dot-atom address (every character WordPress's is_email() takes before the @,
 * no leading, trailing or doubled dot), at most 64 characters before the @ and 254 in all, host
 * labels of at most 63 letters, digits and inner hyphens, and a top-level domain of letters.
 */
const emailPattern =
  /^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export const emailField = z.email({ pattern: emailPattern, message: 'expected an email address' }).max(254);

/**
 * An email an operator searches by: the same rule, after trimming (matching is case-insensitive too,
 * see mongo/text-match.ts).
 */
export const emailSearchField = z
  .string()
  .trim()
  .email({ pattern: emailPattern, message: 'expected an email address' })
  .max(254);

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

/** A bound of a time range an operator asks for: a day (`2025-11-06`, midnight UTC) or an ISO 8601 time. */
export const timeBoundField = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    message: 'expected a date (2025-11-06) or an ISO 8601 time',
  })
  .transform((text) => new Date(text.length === 10 ? `${text}T00:00:00Z` : text));

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

const maxJsonDepth = 16;
const maxJsonBytes = 16 * 1024;

/** What in a free-form JSON value no store should be asked to hold, or undefined when all is well. */
function jsonProblem(root: unknown): string | undefined {
  // Iterative: a value nested thousands deep must not take the stack with it.
  const stack: Array<{ value: unknown; depth: number; inArray: boolean }> = [
    { value: root, depth: 0, inArray: false },
  ];
  while (stack.length > 0) {
    const { value, depth, inArray } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return 'a string holds a null byte';
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxJsonDepth) return `nested more than ${maxJsonDepth} levels deep`;
    if (Array.isArray(value)) {
      if (inArray) return 'an array directly inside an array';
      for (const item of value) stack.push({ value: item, depth: depth + 1, inArray: true });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('.') || key.startsWith('$') || key.includes('\u0000')) {
        return `key ${JSON.stringify(key.slice(0, 40))}: no ".", leading "$" or null byte`;
      }
      stack.push({ value: item, depth: depth + 1, inArray: false });
    }
  }
  if (Buffer.byteLength(JSON.stringify(root)) > maxJsonBytes) return `larger than ${maxJsonBytes / 1024} KiB`;
  return undefined;
}

/**
 * A free-form JSON object (analytics metadata, configuration values, broadcast data), refused
 * before it reaches the store when the store could not hold it or it is unreasonable: at most 16
 * levels and 16 KiB, keys without "." or a leading "$", no null bytes, no array directly in an array.
 */
export const storableJsonObject = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = jsonProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
