import type { Middleware } from 'koa';
import type { AppState } from '../context';
import { ApiError } from '../errors';

export const maxBodyBytes = 1024 * 1024;

async function readRaw(ctx: Parameters<Middleware<AppState>>[0]): Promise<Buffer> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > maxBodyBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): ApiError {
  return new ApiError(413, 'payload_too_large', `Request body is larger than ${maxBodyBytes} bytes`);
}

/**
 * Reads the body of writes once, keeps the raw bytes (webhook signatures are computed over them) and
 * parses JSON. A body that is not JSON is `400 invalid_json`; an empty body parses as `{}`.
 */
export function jsonBody(): Middleware<AppState> {
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(ctx.method)) return next();
    const raw = await readRaw(ctx);
    ctx.state.rawBody = raw;
    if (raw.length === 0) {
      ctx.state.body = {};
      return next();
    }
    try {
      ctx.state.body = JSON.parse(raw.toString('utf8'));
    } catch {
      // Stripe webhooks are verified on raw bytes first; they may still be handed on unparsed.
      ctx.state.body = undefined;
      if (!ctx.path.startsWith('/api/v1/stripe/webhook')) {
        throw new ApiError(400, 'invalid_json', 'Request body is not valid JSON');
      }
    }
    return next();
  };
}
