/**
 * How a provider API key is shown to operators: enough to tell two keys apart, never enough to use
 * one (`sk-…abcd`). Short keys show nothing of themselves at all.
 */
export function maskSecret(secret: string): string {
  if (secret.length < 12) return '…';
  return `${secret.slice(0, 3)}…${secret.slice(-4)}`;
}
