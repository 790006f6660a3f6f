import { z } from 'zod';

// Field schemas several routes share. `user_id` accepts both: WordPress sends integers.

export const userIdField = z.union([
  z.string().trim().min(1, { message: 'must not be empty' }).max(191),
  z.number().int().nonnegative(),
]);

export const userEmailField = z.email({ message: 'expected an email address' }).max(320);

export function creditTypeField(creditTypes: readonly string[]) {
  return z.enum(creditTypes as [string, ...string[]], {
    message: `expected one of ${creditTypes.join(', ')}`,
  });
}
