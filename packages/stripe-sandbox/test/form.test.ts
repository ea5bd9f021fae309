import { describe, expect, it } from 'vitest';
import { decodeForm } from '../src/form.ts';

describe('stripe form decoding', () => {
  it('nests bracketed keys into objects and indexed keys into arrays', () => {
    const body =
      'customer=cus_1&items[0][price]=price_a&items[0][quantity]=2&items[1][price]=price_b&metadata[order]=42' +
      '&invoice_settings[default_payment_method]=pm_x&flow_data[after_completion][redirect][return_url]=https%3A%2F%2Fx.test%2Fa%3Fb%3Dc';
    expect(decodeForm(body)).toEqual({
      customer: 'cus_1',
      items: [{ price: 'price_a', quantity: '2' }, { price: 'price_b' }],
      metadata: { order: '42' },
      invoice_settings: { default_payment_method: 'pm_x' },
      flow_data: { after_completion: { redirect: { return_url: 'https://x.test/a?b=c' } } },
    });
  });

  it('appends empty brackets in order and keeps empty strings as "unset"', () => {
    expect(decodeForm('expand[]=latest_invoice&expand[]=customer&pause_collection=')).toEqual({
      expand: ['latest_invoice', 'customer'],
      pause_collection: '',
    });
    expect(decodeForm('expand[0]=a&expand[1]=b')).toEqual({ expand: ['a', 'b'] });
  });

  it('decodes percent-encoded brackets and plus-encoded spaces', () => {
    expect(decodeForm('metadata%5Bnote%5D=hello+world')).toEqual({ metadata: { note: 'hello world' } });
  });

  it('ignores prototype-polluting keys', () => {
    const out = decodeForm('__proto__[x]=1&a[constructor][y]=2&b=3');
    expect(out).toEqual({ a: {}, b: '3' });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
