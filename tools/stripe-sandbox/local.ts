import { randomBytes } from 'node:crypto';
import { startStripeSandbox } from './server';

// `npm start` without STRIPE_SECRET_KEY: the sandbox stands in for Stripe, and the API and worker
// get the settings that point them at it. The webhook secret is made fresh on every start: both
// ends learn it here, and it never needs to leave this machine.

export const LOCAL_SANDBOX_PORT = 12111;
export const LOCAL_SANDBOX_SECRET_KEY = 'sk_test_local_sandbox';
/** What `GET /api/v1/config/stripe` hands plugins on the local stack (the sandbox ignores it). */
export const LOCAL_SANDBOX_PUBLISHABLE_KEY = 'pk_test_local_sandbox';

export async function startLocalStripeSandbox(options: {
  apiPort: number;
  stateFile: string;
  log: (line: string) => void;
}) {
  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
  const sandbox = await startStripeSandbox({
    port: LOCAL_SANDBOX_PORT,
    webhookUrl: `http://127.0.0.1:${options.apiPort}/api/v1/stripe/webhook`,
    webhookSecret,
    stateFile: options.stateFile,
    log: options.log,
  });
  return {
    env: {
      STRIPE_API_URL: sandbox.url,
      STRIPE_SECRET_KEY: LOCAL_SANDBOX_SECRET_KEY,
      STRIPE_PUBLISHABLE_KEY: LOCAL_SANDBOX_PUBLISHABLE_KEY,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
    },
    url: sandbox.url,
    stop: () => sandbox.stop(),
  };
}
