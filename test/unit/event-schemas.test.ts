// The JSON Schemas in docs/events/ are the contract merchants build on: one per detail-type, each
// valid under strict ajv, each accepting exactly the fields catalog.ts types and rejecting the rest.
// The examples below are typed by DunningEvent, so the typecheck holds them to the TypeScript types
// and these tests hold the schemas to them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SchemaObject } from 'ajv/dist/2020.js';
import { DETAIL_TYPES, EVENT_SOURCE, schemaFileOf, type DetailType, type DunningEvent } from '#shared/events/catalog.ts';
import { COMMON_SCHEMA_FILE, SCHEMA_DIR, assertValidEvents, createAjv, loadSchemas, validateEvent } from '../support/event-schemas.ts';

type EventOf<K extends DetailType> = Extract<DunningEvent, { detailType: K }>;

const base = {
  eventId: 'evt_dunning_in_1QxYz_opened',
  occurredAt: '2026-12-07T09:30:00.000Z',
  invoiceId: 'in_1QxYzA2eZvKYlo2C',
  customerId: 'cus_Qx7aB2cD3eF4',
  subscriptionId: 'sub_1QxYz02eZvKYlo2C',
  amount: 4900,
  currency: 'eur',
  stage: null,
  policy: 'default',
  livemode: false,
};

const EXAMPLES: { [K in DetailType]: EventOf<K> } = {
  'Case Opened': {
    source: EVENT_SOURCE,
    detailType: 'Case Opened',
    detail: { ...base, failedAt: '2026-12-07T09:29:58.000Z', terminatesAt: '2026-12-28T09:29:58.000Z' },
  },
  'Notice Sent': {
    source: EVENT_SOURCE,
    detailType: 'Notice Sent',
    detail: { ...base, stage: 'Notice1', messageId: '0102019a1b2c3d4e-5f6a7b8c-0000-0000-0000-000000000000-000000' },
  },
  'Retry Attempted': {
    source: EVENT_SOURCE,
    detailType: 'Retry Attempted',
    detail: { ...base, stage: 'Retry1', outcome: 'declined', declineClass: 'retry_later', reason: 'insufficient_funds' },
  },
  'Access Changed': {
    source: EVENT_SOURCE,
    detailType: 'Access Changed',
    detail: { ...base, stage: 'Notice2', access: 'limited', previousAccess: 'grace', reason: 'day 7 of dunning', until: '2026-12-28T09:29:58.000Z' },
  },
  'Case Recovered': {
    source: EVENT_SOURCE,
    detailType: 'Case Recovered',
    detail: { ...base, stage: 'Retry2', recoveredBy: 'card_updated' },
  },
  'Case Terminated': {
    source: EVENT_SOURCE,
    detailType: 'Case Terminated',
    detail: { ...base, stage: 'Terminate', endAction: 'cancel_now' },
  },
  'Case Closed': {
    source: EVENT_SOURCE,
    detailType: 'Case Closed',
    detail: { ...base, reason: 'subscription canceled in Stripe' },
  },
  'Case Needs Attention': {
    source: EVENT_SOURCE,
    detailType: 'Case Needs Attention',
    detail: { ...base, stage: 'Retry1', errorName: 'StripeUnavailableError' },
  },
};

const schemas = loadSchemas();

/** A copy of an example with its detail changed, typed loosely: the point is to break the contract. */
function withDetail(detailType: DetailType, change: (detail: Record<string, unknown>) => void) {
  const { source, detail } = structuredClone(EXAMPLES[detailType]);
  const loose: Record<string, unknown> = { ...detail };
  change(loose);
  return { source: source as string, detailType: detailType as string, detail: loose };
}

/** A schema's required fields, with those of the schemas it `$ref`s through `allOf`. */
function requiredOf(schema: SchemaObject): string[] {
  const referenced = ((schema.allOf ?? []) as SchemaObject[]).flatMap((part) => {
    if (typeof part.$ref !== 'string') return requiredOf(part);
    const target = schemas.get(part.$ref);
    if (!target) throw new Error(`${String(schema.$id)} refers to ${part.$ref}, not in docs/events/`);
    return requiredOf(target);
  });
  return [...new Set([...referenced, ...((schema.required ?? []) as string[])])].sort();
}

describe('the event schemas in docs/events/', () => {
  it('are one per detail-type, named by schemaFileOf, plus the common base and nothing else', () => {
    const expected = [...DETAIL_TYPES.map(schemaFileOf), COMMON_SCHEMA_FILE].sort();
    expect([...schemas.keys()].sort()).toEqual(expected);
  });

  it.each([...schemas])('%s is a valid draft 2020-12 schema that compiles under strict ajv', (file, schema) => {
    const ajv = createAjv();
    for (const other of schemas.values()) if (other !== schema) ajv.addSchema(other);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(`https://github.com/stripe-dunning/events/${file}`);
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it.each([...schemas])('%s describes every property', (_file, schema) => {
    const undescribed = Object.entries(schema.properties as Record<string, SchemaObject>)
      .filter(([, property]) => typeof property.description !== 'string' || property.description.length === 0)
      .map(([name]) => name);
    expect(undescribed).toEqual([]);
  });

  it.each(DETAIL_TYPES)('%s requires exactly the fields catalog.ts types', (detailType) => {
    const schema = schemas.get(schemaFileOf(detailType))!;
    expect(requiredOf(schema)).toEqual(Object.keys(EXAMPLES[detailType].detail).sort());
  });
});

describe('validateEvent', () => {
  it.each(DETAIL_TYPES)('passes a %s as catalog.ts types it', (detailType) => {
    expect(validateEvent(EXAMPLES[detailType])).toEqual([]);
  });

  it('passes the nullable fields as null', () => {
    const paid: EventOf<'Retry Attempted'> = {
      ...EXAMPLES['Retry Attempted'],
      detail: { ...EXAMPLES['Retry Attempted'].detail, outcome: 'paid', declineClass: null, reason: null },
    };
    const sentWithoutId = withDetail('Notice Sent', (d) => (d.messageId = null));
    const noNextChange = withDetail('Access Changed', (d) => (d.until = null));
    expect([paid, sentWithoutId, noNextChange].flatMap(validateEvent)).toEqual([]);
  });

  it.each(DETAIL_TYPES)('fails a %s missing a required field, naming it', (detailType) => {
    const event = withDetail(detailType, (d) => delete d.customerId);
    expect(validateEvent(event)).toEqual([`${detailType}: detail is missing the required field 'customerId'`]);
  });

  it.each(DETAIL_TYPES)('fails a %s with a field the schema does not have (an email address)', (detailType) => {
    const event = withDetail(detailType, (d) => (d.email = 'jane@example.com'));
    expect(validateEvent(event)).toEqual([`${detailType}: detail/email is not in the schema (no extra fields allowed)`]);
  });

  it('fails an amount that is not a whole number of minor units, or is negative', () => {
    expect(validateEvent(withDetail('Case Opened', (d) => (d.amount = 49.5)))).toEqual(['Case Opened: detail/amount must be integer']);
    expect(validateEvent(withDetail('Case Opened', (d) => (d.amount = -1)))).toEqual(['Case Opened: detail/amount must be >= 0']);
  });

  it('fails a currency that is not three lower-case letters', () => {
    for (const currency of ['EUR', 'euro', 'e1r']) {
      expect(validateEvent(withDetail('Case Recovered', (d) => (d.currency = currency)))).toEqual([
        'Case Recovered: detail/currency must match pattern "^[a-z]{3}$"',
      ]);
    }
  });

  it('fails an access level outside full, grace, limited and none', () => {
    expect(validateEvent(withDetail('Access Changed', (d) => (d.access = 'read_only')))).toEqual([
      'Access Changed: detail/access must be one of "full", "grace", "limited", "none"',
    ]);
  });

  it('fails ids without their Stripe prefix and dates that are not ISO 8601', () => {
    const problems = validateEvent(
      withDetail('Case Opened', (d) => {
        d.invoiceId = 'cus_123';
        d.failedAt = 'yesterday';
      }),
    );
    expect(problems).toEqual(['Case Opened: detail/invoiceId must match pattern "^in_"', 'Case Opened: detail/failedAt must match format "date-time"']);
  });

  it('fails a null stage where the detail-type says which stage it was', () => {
    expect(validateEvent(withDetail('Notice Sent', (d) => (d.stage = null)))).toEqual(['Notice Sent: detail/stage must be string']);
  });

  it('fails a source other than stripe-dunning, and a detail-type not in the catalog', () => {
    expect(validateEvent({ ...EXAMPLES['Case Closed'], source: 'acme.billing' })).toEqual([
      "Case Closed: source is 'acme.billing', not 'stripe-dunning'",
    ]);
    expect(validateEvent({ ...EXAMPLES['Case Closed'], detailType: 'Case Reopened' })).toEqual([
      `'Case Reopened' is not a detail-type (one of ${DETAIL_TYPES.join(', ')})`,
    ]);
  });
});

describe('assertValidEvents', () => {
  it('passes when every event holds, and throws with every problem of every event otherwise', () => {
    expect(() => assertValidEvents(Object.values(EXAMPLES))).not.toThrow();
    const bad = [EXAMPLES['Case Opened'], withDetail('Case Closed', (d) => delete d.reason), { ...EXAMPLES['Case Recovered'], source: 'other' }];
    expect(() => assertValidEvents(bad)).toThrow(
      [
        '2 event schema violation(s):',
        "event 1: Case Closed: detail is missing the required field 'reason'",
        "event 2: Case Recovered: source is 'other', not 'stripe-dunning'",
      ].join('\n'),
    );
  });
});

describe('docs/events/README.md', () => {
  const readme = readFileSync(new URL('README.md', SCHEMA_DIR), 'utf8');

  it('shows one example detail per detail-type, and each holds to its schema', () => {
    const examples = [...readme.matchAll(/^### (.+)\n[\s\S]*?```json\n([\s\S]*?)```/gm)].map(([, heading, json]) => ({
      source: EVENT_SOURCE,
      detailType: heading!.trim(),
      detail: JSON.parse(json!) as unknown,
    }));
    expect(examples.map((e) => e.detailType)).toEqual([...DETAIL_TYPES]);
    expect(examples.flatMap(validateEvent)).toEqual([]);
  });
});
