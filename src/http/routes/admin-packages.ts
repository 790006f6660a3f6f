import { z } from 'zod';
import { maxCreditsPerEntry } from '../../ledger/types';
import type { PackageStore } from '../../packages/store';
import { type CreditPackage, publicPackage } from '../../packages/types';
import { notify } from '../../webhooks/notify';
import { webhookPublisher } from '../../webhooks/publish';
import type { AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { type Route, type RouteContext, route } from '../route';
import { creditAmountField, creditTypeField } from '../schemas/common';

/** Request shapes of the package routes (credit types come from the configuration). */
export function packageRequests(creditTypes: readonly string[]) {
  const fields = z.object({
    name: z.string().trim().min(1).max(200),
    credit_type: creditTypeField(creditTypes),
    credits: creditAmountField,
    bonus_credits: z.number().int().min(0).max(maxCreditsPerEntry).default(0),
    price: z.object({
      // Minor units, as Stripe counts them (JPY has none: 750 is ¥750).
      amount: z.number().int().min(1),
      currency: z
        .string()
        .regex(/^[A-Za-z]{3}$/, { message: 'expected an ISO 4217 code' })
        .transform((code) => code.toUpperCase()),
    }),
    active: z.boolean().default(true),
    stripe_price_id: z.string().min(1).max(255).nullable().optional(),
  });
  const createBody = fields.extend({
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'expected letters, digits, _ and - (up to 64)' }),
  });
  // Every field optional, and none defaulted: a PUT changes only what it names.
  const updateBody = z.object({
    name: fields.shape.name.optional(),
    credit_type: fields.shape.credit_type.optional(),
    credits: fields.shape.credits.optional(),
    bonus_credits: z.number().int().min(0).max(maxCreditsPerEntry).optional(),
    price: fields.shape.price.optional(),
    active: z.boolean().optional(),
    stripe_price_id: fields.shape.stripe_price_id,
  });
  return { create: createBody, update: updateBody };
}

/** Operators edit the package catalogue: `/admin/v1/packages`. */
export function adminPackageRoutes(
  deps: Pick<AppDeps, 'config' | 'db' | 'workflows'> & { packages: PackageStore },
): Route[] {
  const { create: createBody, update: updateBody } = packageRequests(deps.config.CREDIT_TYPES);

  /** Tells every instance (package_updated); the package change stands whatever the news does. */
  function announce(ctx: RouteContext, pkg: CreditPackage) {
    return notify(webhookPublisher(deps), ctx.state.log, {
      to: 'broadcast',
      event: 'package_updated',
      data: { package_id: pkg.id, package: publicPackage(pkg) },
    });
  }

  return [
    route({
      method: 'get',
      path: '/admin/v1/packages',
      summary: 'All packages',
      auth: 'admin',
      async handler(ctx) {
        ctx.body = { success: true, packages: await deps.packages.list() };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/packages',
      summary: 'Create a package (package_updated)',
      auth: 'admin',
      status: 201,
      body: createBody,
      async handler(ctx, input) {
        const body = input.body();
        const created = await deps.packages.create(body);
        if (!created) throw new ApiError(409, 'conflict', `Package ${body.id} already exists`);
        ctx.status = 201;
        ctx.body = { success: true, package: created, broadcast: await announce(ctx, created) };
      },
    }),
    route({
      method: 'put',
      path: '/admin/v1/packages/:id',
      summary: 'Edit a package (package_updated)',
      auth: 'admin',
      body: updateBody,
      async handler(ctx, input) {
        const changes = Object.fromEntries(
          Object.entries(input.body()).filter(([, value]) => value !== undefined),
        );
        const updated = await deps.packages.update(ctx.params.id!, changes);
        if (!updated) throw notFound(`No package ${ctx.params.id}`);
        ctx.body = { success: true, package: updated, broadcast: await announce(ctx, updated) };
      },
    }),
  ];
}
