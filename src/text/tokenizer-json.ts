// Checked reads of a parsed tokenizer.json: every helper names the field it was reading, so a
// malformed file fails with "where: what is wrong" rather than a TypeError later on.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** An error in a tokenizer file: the message says what is wrong and at which field. */
export class TokenizerFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerFormatError';
  }
}

export function fail(where: string, what: string): never {
  throw new TokenizerFormatError(`${where}: ${what}`);
}

export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectAt(v: unknown, where: string): JsonObject {
  if (!isObject(v)) fail(where, `expected an object, got ${describe(v)}`);
  return v;
}

export function arrayAt(v: unknown, where: string): Json[] {
  if (!Array.isArray(v)) fail(where, `expected an array, got ${describe(v)}`);
  return v;
}

export function stringAt(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, `expected a string, got ${describe(v)}`);
  return v;
}

export function idAt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    fail(where, `expected a non-negative integer token id, got ${describe(v)}`);
  }
  return v;
}

/** An optional boolean field: `dflt` when absent or null. */
export function optBool(o: JsonObject, key: string, where: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') fail(`${where}.${key}`, `expected true or false, got ${describe(v)}`);
  return v;
}

/** An optional string field: null when absent or null. */
export function optString(o: JsonObject, key: string, where: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return stringAt(v, `${where}.${key}`);
}

/** JSON text of `obj` in which each placeholder string value is replaced by an object written with its entries in the given order. */
export function stringifyOrdered(obj: object, placeholders: Map<string, [string, number][]>): string {
  let text = JSON.stringify(obj, null, 2);
  for (const [tag, entries] of placeholders) {
    const body = entries.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(',\n');
    const quoted = JSON.stringify(tag);
    const at = text.indexOf(quoted);
    if (at < 0) throw new Error(`stringifyOrdered: placeholder ${tag} not found`);
    // Indent the entries like the line holding the placeholder.
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const indent = text.slice(lineStart, at).match(/^ */)![0] + '  ';
    const block = entries.length === 0 ? '{}' : `{\n${indent}${body.split('\n').join(`\n${indent}`)}\n${indent.slice(2)}}`;
    text = text.slice(0, at) + block + text.slice(at + quoted.length);
  }
  return text;
}
