import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

// Anything that can carry a credential is censored before a line is written.
const redactPaths = [
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'headers.authorization',
  '*.api_token',
  '*.webhook_secret',
  '*.apiToken',
  '*.webhookSecret',
  '*.client_secret',
  '*.secret',
  '*.password',
  'api_token',
  'webhook_secret',
  'client_secret',
];

export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { pid: process.pid, service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
