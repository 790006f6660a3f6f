import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes that make every run findable in Temporal UI. The local stack registers
// them when it starts the dev server; a production namespace needs them created once
// (`temporal operator search-attribute create`, listed in the README).

export const instanceIdAttribute = defineSearchAttributeKey('RakubunInstanceId', SearchAttributeType.KEYWORD);
export const userEmailAttribute = defineSearchAttributeKey('RakubunUserEmail', SearchAttributeType.KEYWORD);
export const purchaseIdAttribute = defineSearchAttributeKey('RakubunPurchaseId', SearchAttributeType.KEYWORD);
export const purchaseStatusAttribute = defineSearchAttributeKey(
  'RakubunPurchaseStatus',
  SearchAttributeType.KEYWORD,
);
export const stripeSessionIdAttribute = defineSearchAttributeKey(
  'RakubunStripeSessionId',
  SearchAttributeType.KEYWORD,
);
export const stripePaymentIntentIdAttribute = defineSearchAttributeKey(
  'RakubunStripePaymentIntentId',
  SearchAttributeType.KEYWORD,
);
/** Why a purchase waits or failed (src/purchases/model.ts `statusReasons`); unset once fulfilled. */
export const statusReasonAttribute = defineSearchAttributeKey(
  'RakubunStatusReason',
  SearchAttributeType.KEYWORD,
);
export const webhookEventIdAttribute = defineSearchAttributeKey(
  'RakubunWebhookEventId',
  SearchAttributeType.KEYWORD,
);

export const customSearchAttributes = [
  instanceIdAttribute,
  userEmailAttribute,
  purchaseIdAttribute,
  purchaseStatusAttribute,
  statusReasonAttribute,
  stripeSessionIdAttribute,
  stripePaymentIntentIdAttribute,
  webhookEventIdAttribute,
];
