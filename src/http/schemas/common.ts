import { z } from 'zod';

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

export const isoDateField = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 time' });
