/** What a scoped API key may do. The instance's own api_token may do everything. */
export const scopes = [
  'credits:read',
  'credits:write',
  'payments:read',
  'payments:write',
  'webhooks:manage',
  'config:read',
  'analytics:write',
] as const;

export type Scope = (typeof scopes)[number];
