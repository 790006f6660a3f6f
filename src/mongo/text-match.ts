// Searches operators type: literal text (a `q` over several fields) and emails.

/** Escapes text for a `$regex`, so that a search matches it literally. */
export function literalPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Matches an email stored as it was sent, trimmed and in any case: `a@b.jp` finds `A@B.jp` and
 * ` a@b.jp`. Stored emails are left as the plugin sent them (they are echoed back to it), so the
 * match is case-insensitive instead of on a lower-cased copy.
 */
export function emailMatch(email: string): { $regex: string; $options: 'i' } {
  return { $regex: `^\\s*${literalPattern(email.trim())}\\s*$`, $options: 'i' };
}

/** Matches a field that contains `text`, in any case (an operator's `q`). */
export function containsText(text: string): { $regex: string; $options: 'i' } {
  return { $regex: literalPattern(text.trim()), $options: 'i' };
}
