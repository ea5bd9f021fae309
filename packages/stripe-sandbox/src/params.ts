// Typed readers over decoded form params that fail the way Stripe does: 400 with the
// offending `param` in bracket notation.
import { invalidParam, missingParam } from './errors.ts';
import type { FormObject, FormValue } from './form.ts';

export class Params {
  readonly raw: FormObject;
  private readonly prefix: string;

  constructor(raw: FormObject, prefix = '') {
    this.raw = raw;
    this.prefix = prefix;
  }

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** True when the caller sent `key=` which Stripe reads as "unset this field". */
  isEmpty(key: string): boolean {
    return this.raw[key] === '';
  }

  string(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalidParam(this.name(key), `Invalid string: ${describe(v)}`, 'parameter_invalid_string');
    return v;
  }

  requireString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') throw missingParam(this.name(key));
    return v;
  }

  int(key: string, opts: { min?: number; max?: number } = {}): number | undefined {
    const v = this.string(key);
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw invalidParam(this.name(key), `Invalid integer: ${v}`, 'parameter_invalid_integer');
    const n = Number(v);
    if (opts.min !== undefined && n < opts.min) {
      throw invalidParam(this.name(key), `This value must be greater than or equal to ${opts.min}.`, 'parameter_invalid_integer');
    }
    if (opts.max !== undefined && n > opts.max) {
      throw invalidParam(this.name(key), `This value must be less than or equal to ${opts.max}.`, 'parameter_invalid_integer');
    }
    return n;
  }

  requireInt(key: string, opts: { min?: number; max?: number } = {}): number {
    const n = this.int(key, opts);
    if (n === undefined) throw missingParam(this.name(key));
    return n;
  }

  bool(key: string): boolean | undefined {
    const v = this.string(key);
    if (v === undefined || v === '') return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw invalidParam(this.name(key), `Invalid boolean: ${v}`);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined || v === '') return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      throw invalidParam(this.name(key), `Invalid ${key}: must be one of ${joinOr(allowed)}`);
    }
    return v as T;
  }

  object(key: string): Params | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (Array.isArray(v)) return new Params(arrayToObject(v), this.name(key));
    if (typeof v !== 'object') throw invalidParam(this.name(key), `Invalid object`, 'parameter_invalid_object');
    return new Params(v, this.name(key));
  }

  array(key: string): Params[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (!Array.isArray(v)) throw invalidParam(this.name(key), `Invalid array`, 'parameter_invalid_array');
    return v.map((item, i) => {
      if (typeof item !== 'object' || Array.isArray(item)) {
        throw invalidParam(`${this.name(key)}[${i}]`, `Invalid object`, 'parameter_invalid_object');
      }
      return new Params(item, `${this.name(key)}[${i}]`);
    });
  }

  stringArray(key: string): string[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    const list = Array.isArray(v) ? v : [v];
    return list.map((item, i) => {
      if (typeof item !== 'string') throw invalidParam(`${this.name(key)}[${i}]`, `Invalid string: ${describe(item)}`);
      return item;
    });
  }

  /**
   * Stripe's metadata update semantics: `metadata=` clears everything, `metadata[k]=` deletes
   * one key, other keys merge into what is there.
   */
  metadata(key: string, current: Record<string, string> = {}): Record<string, string> | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (v === '') return {};
    const source = Array.isArray(v) ? arrayToObject(v) : typeof v === 'object' ? v : undefined;
    if (!source) throw invalidParam(this.name(key), 'Invalid object', 'parameter_invalid_object');
    const out: Record<string, string> = { ...current };
    for (const [k, value] of Object.entries(source)) {
      if (typeof value !== 'string') throw invalidParam(`${this.name(key)}[${k}]`, `Invalid string: ${describe(value)}`);
      if (value === '') delete out[k];
      else out[k] = value;
    }
    return out;
  }

  expand(): string[] {
    return this.stringArray('expand') ?? [];
  }
}

function arrayToObject(list: FormValue[]): FormObject {
  const out: FormObject = {};
  list.forEach((item, i) => {
    out[String(i)] = item;
  });
  return out;
}

function describe(v: FormValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
}
