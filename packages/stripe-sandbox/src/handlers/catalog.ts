// /v1/products and /v1/prices: what subscriptions bill for.
import { change } from '../billing/state.ts';
import { render } from '../expand.ts';
import { invalidRequest, missingParam } from '../errors.ts';
import { createdFilter, paginate } from '../list.ts';
import { mustGet } from '../lookup.ts';
import { buildPrice, buildProduct } from '../objects/catalog.ts';
import { route, type Ctx, type Route } from '../router.ts';
import { realNow, type Interval } from '../time.ts';

const INTERVALS: readonly Interval[] = ['day', 'week', 'month', 'year'];

function createProduct({ core, params: p }: Ctx): unknown {
  const product = buildProduct({
    created: realNow(),
    name: p.requireString('name'),
    description: p.string('description') ?? null,
    metadata: p.metadata('metadata') ?? {},
    active: p.bool('active') ?? true,
  });
  core.store.put('product', product);
  core.emit('product.created', product);
  return render(core, product, p.expand());
}

function updateProduct({ core, args, params: p }: Ctx): unknown {
  const product = mustGet(core, 'product', args[0]!);
  const name = p.string('name');
  const description = p.isEmpty('description') ? null : p.string('description');
  const active = p.bool('active');
  const metadata = p.metadata('metadata', product.metadata);
  change(core, 'product.updated', product, (x) => {
    if (name) x.name = name;
    if (description !== undefined) x.description = description;
    if (active !== undefined) x.active = active;
    if (metadata !== undefined) x.metadata = metadata;
    x.updated = realNow();
  });
  return render(core, product, p.expand());
}

function listProducts({ core, params: p }: Ctx): unknown {
  const active = p.bool('active');
  const created = createdFilter(p);
  const items = core.store.all('product').filter((x) => (active === undefined || x.active === active) && created(x.created));
  return paginate(core, items, p, '/v1/products');
}

function createPrice({ core, params: p }: Ctx): unknown {
  const currency = p.requireString('currency').toLowerCase();
  const unitAmount = p.int('unit_amount', { min: 0 }) ?? (p.string('unit_amount_decimal') ? Number(p.string('unit_amount_decimal')) : undefined);
  if (unitAmount === undefined || Number.isNaN(unitAmount)) throw missingParam('unit_amount');
  const recurringParams = p.object('recurring');
  let recurring: { interval: Interval; intervalCount: number } | null = null;
  if (recurringParams) {
    const interval = recurringParams.oneOf('interval', INTERVALS);
    if (!interval) throw missingParam('recurring[interval]');
    recurring = { interval, intervalCount: recurringParams.int('interval_count', { min: 1 }) ?? 1 };
  }
  let productId = p.string('product');
  const productData = p.object('product_data');
  if (productId) {
    mustGet(core, 'product', productId, 'product');
  } else if (productData) {
    const product = buildProduct({
      created: realNow(),
      name: productData.requireString('name'),
      description: null,
      metadata: productData.metadata('metadata') ?? {},
      active: productData.bool('active') ?? true,
    });
    core.store.put('product', product);
    core.emit('product.created', product);
    productId = product.id;
  } else {
    throw invalidRequest('You must specify either `product` or `product_data` when creating a price.', {
      param: 'product',
      code: 'parameter_missing',
    });
  }
  const price = buildPrice({
    created: realNow(),
    product: productId,
    currency,
    unitAmount,
    recurring,
    nickname: p.string('nickname') ?? null,
    lookupKey: p.string('lookup_key') ?? null,
    metadata: p.metadata('metadata') ?? {},
    active: p.bool('active') ?? true,
  });
  core.store.put('price', price);
  core.emit('price.created', price);
  return render(core, price, p.expand());
}

function updatePrice({ core, args, params: p }: Ctx): unknown {
  const price = mustGet(core, 'price', args[0]!);
  const active = p.bool('active');
  const nickname = p.isEmpty('nickname') ? null : p.string('nickname');
  const lookupKey = p.isEmpty('lookup_key') ? null : p.string('lookup_key');
  const metadata = p.metadata('metadata', price.metadata);
  change(core, 'price.updated', price, (x) => {
    if (active !== undefined) x.active = active;
    if (nickname !== undefined) x.nickname = nickname;
    if (lookupKey !== undefined) x.lookup_key = lookupKey;
    if (metadata !== undefined) x.metadata = metadata;
  });
  return render(core, price, p.expand());
}

function listPrices({ core, params: p }: Ctx): unknown {
  const product = p.string('product');
  const active = p.bool('active');
  const type = p.string('type');
  const lookupKeys = p.stringArray('lookup_keys');
  const created = createdFilter(p);
  const items = core.store
    .all('price')
    .filter(
      (x) =>
        (product === undefined || x.product === product) &&
        (active === undefined || x.active === active) &&
        (type === undefined || x.type === type) &&
        (lookupKeys === undefined || (x.lookup_key !== null && lookupKeys.includes(x.lookup_key))) &&
        created(x.created),
    );
  return paginate(core, items, p, '/v1/prices');
}

export const catalogRoutes: Route[] = [
  route('POST', '/v1/products', createProduct),
  route('GET', '/v1/products', listProducts),
  route('GET', '/v1/products/:id', ({ core, args, params }) => render(core, mustGet(core, 'product', args[0]!), params.expand())),
  route('POST', '/v1/products/:id', updateProduct),
  route('POST', '/v1/prices', createPrice),
  route('GET', '/v1/prices', listPrices),
  route('GET', '/v1/prices/:id', ({ core, args, params }) => render(core, mustGet(core, 'price', args[0]!), params.expand())),
  route('POST', '/v1/prices/:id', updatePrice),
];
