// Decodes Stripe's bracket form encoding (`items[0][price]=x`, `expand[]=y`, `metadata[k]=v`)
// into nested objects and arrays; the SDK sends arrays as `[0]`, curl users as `[]`.

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  re.lastIndex = open;
  let match: RegExpExecArray | null;
  let end = open;
  while ((match = re.exec(key)) !== null && match.index === end) {
    parts.push(match[1] ?? '');
    end = re.lastIndex;
  }
  // Trailing garbage after the brackets: keep the raw key rather than guess.
  if (end !== key.length) return [key];
  return parts;
}

type Draft = { [key: string]: Draft | string } | string;

function assign(target: { [key: string]: Draft | string }, path: string[], value: string): void {
  let node = target;
  for (let i = 0; i < path.length; i++) {
    let segment = path[i]!;
    if (FORBIDDEN.has(segment)) return;
    // `[]` appends: give it the next free numeric index so it sorts after earlier items.
    if (segment === '') segment = String(Object.keys(node).length);
    if (i === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (typeof next !== 'object' || next === null) node[segment] = {};
    node = node[segment] as { [key: string]: Draft | string };
  }
}

function finish(node: Draft): FormValue {
  if (typeof node === 'string') return node;
  const keys = Object.keys(node);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => finish(node[String(k)]!));
  }
  const out: FormObject = {};
  for (const k of keys) out[k] = finish(node[k]!);
  return out;
}

export function decodeForm(body: string): FormObject {
  const root: { [key: string]: Draft | string } = {};
  for (const [key, value] of new URLSearchParams(body)) {
    assign(root, splitKey(key), value);
  }
  const result = finish(root);
  return typeof result === 'object' && !Array.isArray(result) ? result : {};
}
