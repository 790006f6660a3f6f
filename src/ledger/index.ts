// The credits ledger: used by the HTTP handlers and by Temporal activities alike.
export * from './errors';
export { accountIdOf, entryIdOf, fingerprint, normaliseUserId } from './ids';
export * from './ledger';
export * from './types';
