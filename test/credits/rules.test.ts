import assert from 'node:assert/strict';
import {
  creditsForPackage,
  creditsForRefund,
  creditsHeldForDispute,
  welcomeGrants,
} from '../../src/credits/rules';

// The credit rules alone (src/credits/rules.ts): no server needed.

describe('credit rules', () => {
  it('a package grants its credits and its bonus', () => {
    assert.equal(creditsForPackage({ credits: 100, bonus_credits: 20 }), 120);
    assert.equal(creditsForPackage({ credits: 10, bonus_credits: 0 }), 10);
  });

  it('welcome grants are the configured types above zero', () => {
    assert.deepEqual(welcomeGrants({ article: 3, image: 0, rewrite: 1 }), [
      ['article', 3],
      ['rewrite', 1],
    ]);
    assert.deepEqual(welcomeGrants(undefined), []);
  });

  it('a refund takes back its share, rounded up, never more than was granted', () => {
    const purchase = { credits: 10, amount: 750 };
    assert.equal(creditsForRefund(purchase, 750), 10, 'full refund');
    assert.equal(creditsForRefund(purchase, 1_000), 10, 'more than paid');
    assert.equal(creditsForRefund(purchase, 375), 5, 'half');
    assert.equal(creditsForRefund(purchase, 1), 1, 'one yen takes one credit (rounded up)');
    assert.equal(creditsForRefund(purchase, 0), 0, 'nothing refunded');
    assert.equal(creditsForRefund({ credits: 3, amount: 1000 }, 999), 3);
  });

  it('a dispute holds what refunds have not already taken back', () => {
    assert.equal(creditsHeldForDispute({ credits: 10 }, 0), 10);
    assert.equal(creditsHeldForDispute({ credits: 10 }, 4), 6);
    assert.equal(creditsHeldForDispute({ credits: 10 }, 12), 0, 'never negative');
  });
});
