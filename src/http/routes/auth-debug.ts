import { z } from 'zod';
import { type Authenticated, authenticate, credentialOwner } from '../../tenancy/authenticate';
import { instanceStatuses } from '../../tenancy/instances';
import type { AppDeps } from '../context';
import { bearer, userAgentAllowed } from '../middleware/plugin-auth';
import { type Route, type RouteContext, route } from '../route';

// GET /api/v1/auth/debug: tells a plugin author which auth headers arrived and whether plugin routes
// would accept them. Public, limited per client address like registration. It never shows the token
// (nor anything that looks like a credential), and says nothing about an instance id unless the
// token presented is valid: a wrong token gets the same answer whether the id exists or not.

export const authDebugResponse = z.object({
  success: z.literal(true),
  headers: z.object({
    authorization: z.enum(['present', 'missing']),
    x_instance_id: z.string().nullable().describe('As sent (credential-like values are redacted)'),
    user_agent: z.string().nullable().describe('As sent (credential-like values are redacted)'),
  }),
  bearer_format: z.boolean().describe('Authorization has the form `Bearer <token>`'),
  user_agent_allowed: z.boolean(),
  token_valid: z
    .boolean()
    .describe("The token is a live credential (an instance's api_token or a scoped key)"),
  instance_id_matches: z.boolean().describe("X-Instance-ID names the token's instance"),
  instance_status: z
    .enum(instanceStatuses)
    .nullable()
    .describe("The token's instance's status; null unless the token is valid"),
  authenticated: z.boolean().describe('Plugin routes would accept these headers (scopes aside)'),
  problems: z.array(z.string()).describe('What to fix, for a human'),
});

const echoLimit = 256;

/** A header as sent, unless it carries the token or something shaped like a credential. */
function echo(value: string, token: string | undefined): string | null {
  if (value === '') return null;
  const credentialLike =
    /(rkk?_|whsec_|bearer\s)/i.test(value) || (token !== undefined && value.includes(token));
  return credentialLike ? '[redacted]' : value.slice(0, echoLimit);
}

export function authDebugRoutes(deps: AppDeps): Route[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/auth/debug',
      summary: 'Which auth headers arrived and whether they are valid',
      auth: 'anonymous',
      response: authDebugResponse,
      handler: (ctx) => authDebug(deps, ctx),
    }),
  ];
}

async function authDebug(deps: AppDeps, ctx: RouteContext): Promise<void> {
  const authorization = ctx.get('Authorization');
  const token = bearer(authorization);
  const instanceId = ctx.get('X-Instance-ID');
  const userAgent = ctx.get('User-Agent');
  const uaAllowed = userAgentAllowed(deps.config.ALLOWED_USER_AGENTS, userAgent);

  // The same check as every plugin route; failing that, whose token it is (by its hash).
  let owner: Authenticated | undefined;
  if (token) {
    if (instanceId && instanceId.length <= 128) owner = await authenticate(deps.db, instanceId, token);
    owner ??= await credentialOwner(deps.db, token);
  }
  const matches = owner !== undefined && owner.instance.instance_id === instanceId;
  const status = owner?.instance.status ?? null;

  const problems: string[] = [];
  if (!authorization)
    problems.push('Authorization header is missing: send `Authorization: Bearer <api_token>`');
  else if (!token) problems.push('Authorization header is not of the form `Bearer <api_token>`');
  if (!instanceId) problems.push('X-Instance-ID header is missing');
  if (!uaAllowed) problems.push('This User-Agent is not allowed on plugin routes');
  if (token && !owner) problems.push('The token is not valid (wrong, revoked, expired or rotated out)');
  if (owner && instanceId && !matches) problems.push("X-Instance-ID does not name the token's instance");
  if (status === 'disabled') problems.push('The instance is disabled');
  if (status === 'pending') {
    problems.push(
      'The instance is pending: it may read credits, but waits for its site verification or approval',
    );
  }

  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    success: true,
    headers: {
      authorization: authorization ? 'present' : 'missing',
      x_instance_id: echo(instanceId, token),
      user_agent: echo(userAgent, token),
    },
    bearer_format: token !== undefined,
    user_agent_allowed: uaAllowed,
    token_valid: owner !== undefined,
    instance_id_matches: matches,
    instance_status: status,
    authenticated: matches && uaAllowed && status === 'active',
    problems,
  };
}
