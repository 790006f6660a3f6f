import { z } from 'zod';
import { startStripeSandbox } from './server';

// `npm run stripe-sandbox`: the sandbox on its own, configured from the environment. These settings
// belong to this dev tool only, so they are checked here rather than in src/config.ts.

const schema = z.object({
  STRIPE_SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
  STRIPE_SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  STRIPE_SANDBOX_WEBHOOK_URL: z.url().optional(),
  STRIPE_SANDBOX_PUBLIC_URL: z.url().optional(),
  STRIPE_SANDBOX_STATE_FILE: z.string().min(1).optional(),
  STRIPE_SANDBOX_ASYNC_SETTLE_MS: z.coerce.number().int().min(0).default(5000),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_', { message: 'expected whsec_...' }),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
});

function settings() {
  const input = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) console.error(`${String(issue.path[0])}: ${issue.message}`);
  process.exit(78);
}

async function main(): Promise<void> {
  const env = settings();
  const webhookUrl = env.STRIPE_SANDBOX_WEBHOOK_URL ?? `http://127.0.0.1:${env.PORT}/api/v1/stripe/webhook`;
  const sandbox = await startStripeSandbox({
    port: env.STRIPE_SANDBOX_PORT,
    host: env.STRIPE_SANDBOX_HOST,
    webhookUrl,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET,
    publicUrl: env.STRIPE_SANDBOX_PUBLIC_URL,
    stateFile: env.STRIPE_SANDBOX_STATE_FILE,
    asyncSettleMs: env.STRIPE_SANDBOX_ASYNC_SETTLE_MS,
    log: (line) => console.log(line),
  });
  console.log(`Use STRIPE_API_URL=${sandbox.url} with any sk_test_... key. Ctrl-C stops.`);
  const stop = () => void sandbox.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error('[stripe-sandbox] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
