import assert from 'node:assert/strict';
import {
  formatMinorUnits,
  isZeroDecimal,
  minorUnitDigits,
  normalizeCurrency,
} from '../../src/stripe/currency';

describe('stripe currency helpers', () => {
  it('knows the zero-decimal currencies in either case', () => {
    for (const code of ['jpy', 'JPY', 'krw', 'vnd', 'clp', 'xof'])
      assert.equal(isZeroDecimal(code), true, code);
    for (const code of ['usd', 'EUR', 'gbp', 'bhd', 'huf']) assert.equal(isZeroDecimal(code), false, code);
  });

  it('counts minor-unit digits, three for the dinars', () => {
    assert.equal(minorUnitDigits('jpy'), 0);
    assert.equal(minorUnitDigits('usd'), 2);
    assert.equal(minorUnitDigits('KWD'), 3);
  });

  it('formats amounts in minor units for people', () => {
    assert.equal(formatMinorUnits(750, 'jpy'), '750 JPY');
    assert.equal(formatMinorUnits(1250, 'usd'), '12.50 USD');
    assert.equal(formatMinorUnits(1500, 'bhd'), '1.500 BHD');
  });

  it('normalizes codes to Stripe lowercase', () => {
    assert.equal(normalizeCurrency(' JPY '), 'jpy');
  });
});
