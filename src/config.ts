import { z } from 'zod';

// Every setting the processes read, checked once at start-up and passed down.
// Names follow ../shared/api-contract.md; a few extras are documented in the README.

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1');

const positiveInt = z.coerce
  .number({ message: 'expected a positive integer' })
  .int({ message: 'expected a positive integer' })
  .positive({ message: 'expected a positive integer' });

const port = z.coerce
  .number({ message: 'expected a TCP port (1-65535)' })
  .int({ message: 'expected a TCP port (1-65535)' })
  .min(1, { message: 'expected a TCP port (1-65535)' })
  .max(65535, { message: 'expected a TCP port (1-65535)' });

const secondsList = z
  .string()
  .transform((value) => value.split(',').map((part) => Number(part.trim())))
  .refine((parts) => parts.length > 0 && parts.every((n) => Number.isFinite(n) && n > 0), {
    message: 'expected a comma-separated list of positive numbers of seconds',
  });

const url = z.url({ message: 'expected an absolute URL' });

const hex32Bytes = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, { message: 'expected 64 hex characters (a 256-bit key)' });

const csv = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  )
  .refine((parts) => parts.length > 0, { message: 'expected a comma-separated list' });

/** `article=3,image=1`: credits each new account gets per type (types left out get none). */
const creditAmounts = z
  .string()
  .regex(/^\s*([A-Za-z0-9_-]+\s*=\s*\d+\s*)(,\s*[A-Za-z0-9_-]+\s*=\s*\d+\s*)*$/, {
    message: 'expected type=amount pairs, e.g. article=3,image=1',
  })
  .transform((value) =>
    Object.fromEntries(
      value.split(',').map((pair) => {
        const [type = '', amount = '0'] = pair.split('=').map((part) => part.trim());
        return [type, Number(amount)];
      }),
    ),
  );

const operatorName = /^[a-z0-9_-]{1,64}$/;

/**
 * `alice:<token>,bob:<token>`: one bearer token per operator, so admin writes record who made them.
 * Messages name the operator or the entry's place, never a token.
 */
const operatorTokenList = z.string().transform((value, ctx) => {
  const operators: Array<{ operator: string; token: string }> = [];
  const entries = value.split(',').map((part) => part.trim());
  for (const [index, entry] of entries.entries()) {
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    const operator = colon > 0 ? entry.slice(0, colon) : '';
    const token = colon > 0 ? entry.slice(colon + 1) : '';
    const problem = !operatorName.test(operator)
      ? `entry ${index + 1}: expected name:token, the name of a-z, 0-9, _ and - (at most 64)`
      : token.length < 32 || /\s/.test(token)
        ? `${operator}: expected a token of at least 32 characters, without spaces`
        : operators.some((known) => known.operator === operator)
          ? `${operator}: named twice`
          : operators.some((known) => known.token === token)
            ? `${operator}: the same token as another operator`
            : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    else operators.push({ operator, token });
  }
  if (operators.length === 0 && entries.every((entry) => entry === '')) {
    ctx.addIssue({ code: 'custom', message: 'expected name:token pairs, e.g. alice:<token>,bob:<token>' });
  }
  return operators;
});

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('rakubun-credits'),

  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, { message: 'expected a mongodb:// or mongodb+srv:// URL' })
    .default('mongodb://127.0.0.1:27017'),
  MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, { message: 'expected a database name (letters, digits, _ and -)' })
    .default('rakubun'),

  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Handed to plugins by `GET /api/v1/config/stripe` (not a secret). */
  STRIPE_PUBLISHABLE_KEY: z
    .string()
    .regex(/^pk_/, { message: 'expected a Stripe publishable key (pk_test_... or pk_live_...)' })
    .optional(),
  STRIPE_API_URL: url.optional(),

  PUBLIC_BASE_URL: url.default('http://localhost:3000'),
  ADMIN_API_TOKEN: z.string().min(32, { message: 'expected at least 32 characters' }).optional(),
  /** Named operator tokens; ADMIN_API_TOKEN, if set, is the operator `admin` besides them. */
  ADMIN_API_TOKENS: operatorTokenList.optional(),
  /** Bearer token of the Prometheus scraper for `/metrics` (operator tokens are accepted too). */
  METRICS_TOKEN: z.string().min(32, { message: 'expected at least 32 characters' }).optional(),
  /** The worker's `/metrics` listener (on HOST); unset: none. */
  WORKER_METRICS_PORT: port.optional(),
  // WordPress/: the plugin's checkout calls go through wp_remote_post with WordPress's default User-Agent.
  ALLOWED_USER_AGENTS: csv.default(['Rakubun-WordPress-Plugin/', 'WordPress/']),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(100),
  /**
   * Who may register: `verified` (the site must answer a signed test_webhook first), `approval` (an
   * operator approves each instance) or `open` (at once; for development).
   */
  REGISTRATION_MODE: z.enum(['open', 'verified', 'approval']).default('verified'),
  REGISTRATION_RATE_LIMIT_PER_MINUTE: positiveInt.default(30),
  AUTH_FAILURE_LIMIT_PER_MINUTE: positiveInt.default(20),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanFlag.default(false),
  // The contract promises retries for at least 3 days; shorter windows are for tests and benches.
  WEBHOOK_RETRY_WINDOW_SECONDS: positiveInt.default(3 * 24 * 3600),
  WEBHOOK_RETRY_DELAYS_SECONDS: secondsList.default([5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200]),
  WEBHOOK_MAX_CONCURRENCY_PER_HOST: positiveInt.default(4),
  // A host that keeps answering 2xx within 50 ms may be given up to this many at once.
  WEBHOOK_MAX_CONCURRENCY_FAST_HOST: positiveInt.default(16),
  WEBHOOK_ENDPOINT_DISABLE_SECONDS: positiveInt.default(5 * 24 * 3600),
  TOKEN_ROTATION_GRACE_SECONDS: z.coerce
    .number({ message: 'expected a whole number of seconds' })
    .int({ message: 'expected a whole number of seconds' })
    .min(0, { message: 'expected a whole number of seconds' })
    .default(3600),
  WEBHOOK_SECRET_ENCRYPTION_KEY: hex32Bytes.optional(),
  REQUIRE_HTTPS: booleanFlag.default(false),
  TRUST_PROXY: booleanFlag.default(false),
  /** How often the reconciliation schedule asks Stripe for paid payments we have not fulfilled. */
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(300),
  /** How long `checkout/verify` and `payments/confirm` wait for the workflow's read of Stripe. */
  PAYMENT_VERIFY_WAIT_MS: positiveInt.default(5000),
  CREDIT_TYPES: csv.default(['article', 'image', 'rewrite']),
  WELCOME_CREDITS: creditAmounts.default({}),
  WELCOME_CREDITS_EXPIRE_DAYS: positiveInt.optional(),
});

export type Config = z.infer<typeof configSchema>;

/** Variables whose values must never be echoed, not even in a configuration error. */
const secretNames = new Set([
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'ADMIN_API_TOKEN',
  'ADMIN_API_TOKENS',
  'METRICS_TOKEN',
  'WEBHOOK_SECRET_ENCRYPTION_KEY',
  'MONGODB_URL',
]);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the settings from an environment; empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success) {
    const config = parsed.data;
    const problems: string[] = [];
    const unknownTypes = Object.keys(config.WELCOME_CREDITS).filter(
      (type) => !config.CREDIT_TYPES.includes(type),
    );
    if (unknownTypes.length > 0) {
      problems.push(
        `WELCOME_CREDITS: ${unknownTypes.join(', ')} not in CREDIT_TYPES (${config.CREDIT_TYPES.join(', ')})`,
      );
    }
    for (const { operator, token } of config.ADMIN_API_TOKENS ?? []) {
      if (config.ADMIN_API_TOKEN === undefined) break;
      if (operator === 'admin') problems.push("ADMIN_API_TOKENS: admin is ADMIN_API_TOKEN's operator");
      else if (token === config.ADMIN_API_TOKEN)
        problems.push(`ADMIN_API_TOKENS: ${operator}: the same token as ADMIN_API_TOKEN`);
    }
    if (problems.length === 0) return config;
    throw new ConfigError(problems);
  }

  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const shown = secretNames.has(name) || input[name] === undefined ? '' : ` (got "${input[name]}")`;
    return `${name}: ${issue.message}${shown}`;
  });
  throw new ConfigError(problems);
}

/** Every operator token: ADMIN_API_TOKEN as the operator `admin`, then ADMIN_API_TOKENS. */
export function operatorTokens(
  config: Pick<Config, 'ADMIN_API_TOKEN' | 'ADMIN_API_TOKENS'>,
): Array<{ operator: string; token: string }> {
  return [
    ...(config.ADMIN_API_TOKEN ? [{ operator: 'admin', token: config.ADMIN_API_TOKEN }] : []),
    ...(config.ADMIN_API_TOKENS ?? []),
  ];
}

/** Entry points call this: a bad setting stops the process with a message naming it. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
