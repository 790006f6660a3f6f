import assert from 'node:assert/strict';
import { parseStripeForm } from '../../tools/stripe-sandbox/form';

describe('stripe sandbox form parsing', () => {
  it('reads bracket notation into nested objects and arrays', () => {
    const form = parseStripeForm(
      [
        'mode=payment',
        'line_items[0][quantity]=1',
        'line_items[0][price_data][currency]=jpy',
        'line_items[0][price_data][unit_amount]=750',
        'line_items[0][price_data][product_data][name]=50+article+credits',
        'metadata[purchase_id]=pur_1',
        'metadata[user_email]=buyer%40example.com',
      ].join('&'),
    );
    assert.deepEqual(form, {
      mode: 'payment',
      line_items: [
        {
          quantity: '1',
          price_data: { currency: 'jpy', unit_amount: '750', product_data: { name: '50 article credits' } },
        },
      ],
      metadata: { purchase_id: 'pur_1', user_email: 'buyer@example.com' },
    });
  });

  it('reads expand[] and expand[0] alike, and keeps numeric metadata keys as keys', () => {
    assert.deepEqual(parseStripeForm('expand[]=a&expand[]=b'), { expand: ['a', 'b'] });
    assert.deepEqual(parseStripeForm('expand[0]=a&expand[1]=b'), { expand: ['a', 'b'] });
    assert.deepEqual(parseStripeForm('metadata[0]=x'), { metadata: { 0: 'x' } });
    assert.deepEqual(parseStripeForm('created[gte]=1700000000&limit=3'), {
      created: { gte: '1700000000' },
      limit: '3',
    });
  });

  it('refuses keys that would reach the prototype', () => {
    assert.throws(() => parseStripeForm('__proto__[polluted]=1'), /Invalid parameter name/);
    assert.throws(() => parseStripeForm('metadata[constructor]=1'), /Invalid parameter name/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
