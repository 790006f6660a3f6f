// Where Stripe Checkout sends the buyer back. Stripe replaces the literal `{CHECKOUT_SESSION_ID}`;
// the plugin's purchase page reads `session_id` from its query and asks `checkout/verify`.

const placeholder = '{CHECKOUT_SESSION_ID}';
const encodedPlaceholder = /%7BCHECKOUT_SESSION_ID%7D/gi;

function purchasePage(siteUrl: string, query: string): string {
  return `${siteUrl.replace(/\/+$/, '')}/wp-admin/admin.php?page=rakubun-ai-purchase&${query}`;
}

/** The plugin's `return_url` with the placeholder kept (or added), else the plugin's purchase page. */
export function checkoutSuccessUrl(siteUrl: string, returnUrl?: string): string {
  if (!returnUrl) return purchasePage(siteUrl, `session_id=${placeholder}&status=success`);
  // A URL library would encode the braces and Stripe would no longer recognise the placeholder.
  const url = returnUrl.replace(encodedPlaceholder, placeholder);
  if (url.includes(placeholder)) return url;
  const [base, fragment] = url.split('#', 2) as [string, string | undefined];
  const joined = `${base}${base.includes('?') ? '&' : '?'}session_id=${placeholder}`;
  return fragment === undefined ? joined : `${joined}#${fragment}`;
}

export function checkoutCancelUrl(siteUrl: string, cancelUrl?: string): string {
  return cancelUrl ?? purchasePage(siteUrl, 'status=cancel');
}

/** One host, whichever of `www.` or not: WordPress sites often answer on both. */
const bareHost = (url: URL) => url.host.toLowerCase().replace(/^www\./, '');

/**
 * The redirect fields that would send the buyer off the instance's own site (Checkout's return and
 * cancel pages must be the site's: anyone holding a token could otherwise send buyers anywhere).
 * Same host (with or without `www.`), either scheme.
 */
export function offSiteRedirects(
  siteUrl: string,
  urls: { return_url?: string; cancel_url?: string },
): Array<'return_url' | 'cancel_url'> {
  const site = bareHost(new URL(siteUrl));
  return (['return_url', 'cancel_url'] as const).filter((field) => {
    const value = urls[field];
    if (value === undefined) return false;
    try {
      return bareHost(new URL(value.replace(encodedPlaceholder, placeholder))) !== site;
    } catch {
      return true;
    }
  });
}
