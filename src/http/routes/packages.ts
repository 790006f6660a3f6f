import { z } from 'zod';
import type { PackageStore } from '../../packages/store';
import { packageGroupName, publicPackage } from '../../packages/types';
import { ApiError } from '../errors';
import { type Route, route } from '../route';

const packageSchema = z.object({
  package_id: z.string(),
  id: z.string(),
  name: z.string(),
  credit_type: z.string(),
  credits: z.number().int(),
  bonus_credits: z.number().int(),
  total_credits: z.number().int(),
  price: z.number().int().describe("In the currency's minor unit (JPY has none: 750 is ¥750)"),
  currency: z.string(),
  active: z.boolean(),
});

/**
 * The plugin's checkout handler looks a package up in its credit type's group (`packages.articles`);
 * its PaymentIntent handler looks in `packages.packages`, so every active package is listed there too.
 */
export const packagesResponse = (creditTypes: readonly string[]) =>
  z.object({
    success: z.literal(true),
    packages: z.object({
      ...Object.fromEntries(creditTypes.map((type) => [packageGroupName(type), z.array(packageSchema)])),
      packages: z.array(packageSchema),
    }),
  });

/** `GET /api/v1/packages`: what a plugin can offer its users (active packages only), grouped by type. */
export function packageRoutes(deps: { packages: PackageStore; creditTypes: readonly string[] }): Route[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/packages',
      summary: 'Active credit packages, grouped by credit type',
      auth: 'none',
      response: packagesResponse(deps.creditTypes),
      async handler(ctx) {
        const active = (await deps.packages.list({ activeOnly: true })).map(publicPackage);
        if (active.length === 0) throw new ApiError(404, 'no_packages', 'No credit package is on sale');
        const groups = Object.fromEntries(
          deps.creditTypes.map((type) => [
            packageGroupName(type),
            active.filter((pkg) => pkg.credit_type === type),
          ]),
        );
        ctx.body = { success: true, packages: { ...groups, packages: active } };
      },
    }),
  ];
}
