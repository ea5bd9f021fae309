// Validates events against the JSON Schemas the merchant reads in docs/events/: the published
// contract, not the TypeScript types, is what a test of an emitted event must hold to.
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv/dist/2020.js';
// ajv-formats is CommonJS with no named export of the plugin. Under Node's ESM loader (tsx, vitest)
// the default import is the module.exports function; under TypeScript's NodeNext typing it is the
// module object whose `.default` is that function. The function carries `.default` to itself, so
// `.default` is right in both.
import formats from 'ajv-formats';
import { DETAIL_TYPES, EVENT_SOURCE, schemaFileOf, type DetailType } from '#shared/events/catalog.ts';

/** docs/events/, where the schemas are published. */
export const SCHEMA_DIR = new URL('../../docs/events/', import.meta.url);

/** The schema every detail schema `$ref`s for the base fields; not a detail-type of its own. */
export const COMMON_SCHEMA_FILE = 'common.schema.json';

/** Every schema file in docs/events/, parsed, by file name. */
export function loadSchemas(): Map<string, SchemaObject> {
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).sort();
  return new Map(files.map((f) => [f, JSON.parse(readFileSync(new URL(f, SCHEMA_DIR), 'utf8')) as SchemaObject]));
}

/** A strict ajv for draft 2020-12, with `date-time` checked: a schema mistake fails loudly. */
export function createAjv(): Ajv2020 {
  // Union types (`["string", "null"]`) are how the schemas write a nullable field.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  formats.default(ajv, ['date-time']);
  return ajv;
}

let validators: Map<DetailType, ValidateFunction> | undefined;

/** One compiled validator per detail-type, built on first use and kept for the process. */
function validatorsByDetailType(): Map<DetailType, ValidateFunction> {
  if (validators) return validators;
  const ajv = createAjv();
  const schemas = loadSchemas();
  for (const schema of schemas.values()) ajv.addSchema(schema);
  validators = new Map(
    DETAIL_TYPES.map((detailType) => {
      const schema = schemas.get(schemaFileOf(detailType));
      if (!schema) throw new Error(`docs/events/ has no ${schemaFileOf(detailType)} for the detail-type '${detailType}'`);
      return [detailType, ajv.getSchema(schema.$id as string)!] as const;
    }),
  );
  return validators;
}

/** An ajv error in words, naming the detail-type and the path in the detail. */
function inWords(detailType: string, error: ErrorObject): string {
  const path = `detail${error.instancePath}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${detailType}: ${path} is missing the required field '${String(params.missingProperty)}'`;
    case 'unevaluatedProperties':
    case 'additionalProperties': {
      const extra = params.unevaluatedProperty ?? params.additionalProperty;
      return `${detailType}: ${path}/${String(extra)} is not in the schema (no extra fields allowed)`;
    }
    case 'enum':
      return `${detailType}: ${path} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${detailType}: ${path} ${error.message ?? `fails ${error.keyword}`}`;
  }
}

/** Why an event breaks the published contract; an empty array when it holds. */
export function validateEvent(event: { source: string; detailType: string; detail: unknown }): string[] {
  const problems: string[] = [];
  if (event.source !== EVENT_SOURCE) problems.push(`${event.detailType}: source is '${event.source}', not '${EVENT_SOURCE}'`);
  const validate = validatorsByDetailType().get(event.detailType as DetailType);
  if (!validate) return [...problems, `'${event.detailType}' is not a detail-type (one of ${DETAIL_TYPES.join(', ')})`];
  if (!validate(event.detail)) problems.push(...(validate.errors ?? []).map((error) => inWords(event.detailType, error)));
  return problems;
}

/** Throws, with every problem of every event, unless all of them hold to the contract. */
export function assertValidEvents(events: ReadonlyArray<{ source: string; detailType: string; detail: unknown }>): void {
  const problems = events.flatMap((event, i) => validateEvent(event).map((problem) => `event ${i}: ${problem}`));
  if (problems.length > 0) throw new Error(`${problems.length} event schema violation(s):\n${problems.join('\n')}`);
}
