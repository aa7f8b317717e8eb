// The post-processors of tokenizer.json (tokenizers' processors/*.rs): they add the special tokens a
// model expects around one input or a pair ([CLS] A [SEP] B [SEP], <s> A, <s> A </s></s> B </s>),
// set the type ids, and (ByteLevel, Roberta) trim the offsets of byte-level tokens to leave out the
// spaces they start with. TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence.

import { BYTE_TO_CHAR } from './bytelevel.js';
import { type Encoding, mergeEncodings } from './encoding.js';
import { isWhitespace } from './normalized.js';
import { type Json, type JsonObject, arrayAt, describe, fail, idAt, isObject, objectAt, optBool, stringAt } from './tokenizer-json.js';

/** A post-processor (null json: none, which concatenates a pair with type ids 0 and 1). */
export interface PostProcessor {
  /** The original tokenizer.json object, written back unchanged. */
  readonly json: JsonObject | null;
  /** How many tokens it adds to one input (false) or a pair (true). */
  addedTokens(isPair: boolean): number;
  /** The encoding of an input (and its pair) with the special tokens added. */
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding;
  /** Every id it may add. */
  readonly specialIds: readonly number[];
}

/** The post-processor types this module reads. */
export const SUPPORTED_POST_PROCESSORS = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'ByteLevel', 'Sequence'];

type Step = (encs: Encoding[], addSpecialTokens: boolean) => Encoding[];

interface TemplatePiece {
  seq?: 0 | 1;
  special?: string;
  typeId: number;
}

function specialEncoding(ids: readonly number[], tokens: readonly string[], typeId: number): Encoding {
  const n = ids.length;
  return {
    ids: [...ids],
    tokens: [...tokens],
    typeIds: Array(n).fill(typeId),
    attentionMask: Array(n).fill(1),
    specialTokensMask: Array(n).fill(1),
    offsets: Array.from({ length: n }, (): [number, number] => [0, 0]),
    sequenceIds: Array(n).fill(null),
    wordIds: Array(n).fill(null),
    overflowing: [],
  };
}

/** Wrap one input's encoding (and its overflowing windows) with tokens before and after it. */
function wrap(e: Encoding, before: [string, number][], after: [string, number][], typeId: number | null): Encoding {
  const one = (x: Encoding): Encoding => {
    const parts: Encoding[] = [];
    if (before.length)
      parts.push(
        specialEncoding(
          before.map((t) => t[1]),
          before.map((t) => t[0]),
          typeId ?? x.typeIds[0] ?? 0,
        ),
      );
    parts.push({ ...x, overflowing: [] });
    if (after.length)
      parts.push(
        specialEncoding(
          after.map((t) => t[1]),
          after.map((t) => t[0]),
          typeId ?? x.typeIds[0] ?? 0,
        ),
      );
    return mergeEncodings(parts);
  };
  const main = one(e);
  main.overflowing = e.overflowing.map(one);
  return main;
}

/** ByteLevel's offset trimming: leave out the leading/trailing spaces ("Ġ") of each token (process_offsets). */
function trimOffsets(e: Encoding, addPrefixSpace: boolean): void {
  const space = BYTE_TO_CHAR[0x20];
  const isSpace = (c: string) => c === space || isWhitespace(c);
  e.tokens.forEach((tok, i) => {
    const chars = [...tok];
    let lead = 0;
    while (lead < chars.length && isSpace(chars[lead])) lead++;
    let trail = 0;
    while (trail < chars.length && isSpace(chars[chars.length - 1 - trail])) trail++;
    // A new pair: overlapping stride windows share their token offsets with each other.
    const o: [number, number] = [e.offsets[i][0], e.offsets[i][1]];
    if (lead > 0) {
      const first = i === 0 || o[0] === 0;
      if (first && addPrefixSpace && lead === 1) lead = 0;
      o[0] = Math.min(o[0] + lead, o[1]);
    }
    if (trail > 0 && o[1] >= trail) o[1] = Math.max(o[1] - trail, o[0]);
    e.offsets[i] = o;
  });
  for (const x of e.overflowing) trimOffsets(x, addPrefixSpace);
}

function tokenPair(v: Json | undefined, where: string): [string, number] {
  const a = arrayAt(v, where);
  if (a.length !== 2) fail(where, `expected [token, id], got ${a.length} elements`);
  return [stringAt(a[0], `${where}[0]`), idAt(a[1], `${where}[1]`)];
}

function parseTemplate(v: Json | undefined, where: string, specials: Map<string, { ids: number[]; tokens: string[] }>, specialsWhere: string): TemplatePiece[] {
  // The Python constructor takes "[CLS]:0 $A:0 [SEP]:0" strings; tokenizer.json holds the parsed list.
  const items: Json[] = typeof v === 'string' ? v.split(' ').filter(Boolean) : arrayAt(v, where);
  return items.map((item, i): TemplatePiece => {
    const at = `${where}[${i}]`;
    if (typeof item === 'string') {
      const [name, t] = item.split(':');
      const typeId = t === undefined ? 0 : Number(t);
      if (!Number.isInteger(typeId) || typeId < 0) fail(at, `bad type id in ${JSON.stringify(item)}`);
      if (name.startsWith('$')) {
        const s = name.slice(1);
        if (s === '' || s === 'A' || s === 'a') return { seq: 0, typeId: t === undefined ? 0 : typeId };
        if (s === 'B' || s === 'b') return { seq: 1, typeId: t === undefined ? 0 : typeId };
        const n = Number(s);
        if (Number.isInteger(n)) return { seq: 0, typeId: n };
        return fail(at, `unknown sequence ${JSON.stringify(name)} (expected $A or $B)`);
      }
      if (!specials.has(name)) fail(at, `${JSON.stringify(name)} is not in ${specialsWhere}`);
      return { special: name, typeId };
    }
    const o = objectAt(item, at);
    if (isObject(o.Sequence)) {
      const id = stringAt(o.Sequence.id, `${at}.Sequence.id`);
      if (id !== 'A' && id !== 'B') fail(`${at}.Sequence.id`, `expected "A" or "B", got ${describe(id)}`);
      return { seq: id === 'A' ? 0 : 1, typeId: idAt(o.Sequence.type_id ?? 0, `${at}.Sequence.type_id`) };
    }
    if (isObject(o.SpecialToken)) {
      const name = stringAt(o.SpecialToken.id, `${at}.SpecialToken.id`);
      if (!specials.has(name)) fail(`${at}.SpecialToken.id`, `${JSON.stringify(name)} is not in ${specialsWhere}`);
      return { special: name, typeId: idAt(o.SpecialToken.type_id ?? 0, `${at}.SpecialToken.type_id`) };
    }
    return fail(at, `expected {"Sequence": ...} or {"SpecialToken": ...}, got ${describe(item)}`);
  });
}

function parseStep(o: JsonObject, where: string, ids: number[]): { step: Step; added: (isPair: boolean) => number } {
  switch (o.type) {
    case 'TemplateProcessing': {
      const specials = new Map<string, { ids: number[]; tokens: string[] }>();
      for (const [name, def] of Object.entries(objectAt(o.special_tokens ?? {}, `${where}.special_tokens`))) {
        const at = `${where}.special_tokens.${name}`;
        const d = objectAt(def, at);
        const sids = arrayAt(d.ids, `${at}.ids`).map((x, k) => idAt(x, `${at}.ids[${k}]`));
        const toks = d.tokens === undefined ? sids.map(() => name) : arrayAt(d.tokens, `${at}.tokens`).map((x, k) => stringAt(x, `${at}.tokens[${k}]`));
        if (toks.length !== sids.length) fail(at, `has ${sids.length} ids but ${toks.length} tokens`);
        specials.set(name, { ids: sids, tokens: toks });
        ids.push(...sids);
      }
      const single = parseTemplate(o.single, `${where}.single`, specials, `${where}.special_tokens`);
      const pair = o.pair === undefined || o.pair === null ? null : parseTemplate(o.pair, `${where}.pair`, specials, `${where}.special_tokens`);
      if (single.filter((p) => p.seq !== undefined).length !== 1 || single.some((p) => p.seq === 1))
        fail(`${where}.single`, 'the template must hold sequence A exactly once (and no B)');
      const count = (t: TemplatePiece[]) => t.reduce((n, p) => n + (p.special ? specials.get(p.special)!.ids.length : 0), 0);
      return {
        added: (isPair) => count(isPair ? (pair ?? single) : single),
        step: (encs, addSpecial) => {
          const t = encs.length === 2 ? pair : single;
          if (!t) throw new Error(`${where}: the tokenizer has no pair template, so it cannot encode a pair of texts`);
          const out: Encoding[] = [];
          for (const p of t) {
            if (p.seq !== undefined) {
              const e = encs[p.seq];
              if (!e) throw new Error(`${where}: the template uses $B but only one text was given`);
              out.push({ ...e, typeIds: Array(e.ids.length).fill(p.typeId), sequenceIds: Array(e.ids.length).fill(p.seq) });
            } else if (addSpecial) {
              const s = specials.get(p.special!)!;
              out.push(specialEncoding(s.ids, s.tokens, p.typeId));
            }
          }
          return out;
        },
      };
    }
    case 'BertProcessing': {
      const sep = tokenPair(o.sep, `${where}.sep`);
      const cls = tokenPair(o.cls, `${where}.cls`);
      ids.push(cls[1], sep[1]);
      return {
        added: (isPair) => (isPair ? 3 : 2),
        step: (encs, addSpecial) => {
          if (!addSpecial) return encs;
          return encs.map((e, i) => (i === 0 ? wrap(e, [cls], [sep], 0) : wrap(e, [], [sep], 1)));
        },
      };
    }
    case 'RobertaProcessing': {
      const sep = tokenPair(o.sep, `${where}.sep`);
      const cls = tokenPair(o.cls, `${where}.cls`);
      const trim = optBool(o, 'trim_offsets', where, true);
      const addPrefixSpace = optBool(o, 'add_prefix_space', where, true);
      ids.push(cls[1], sep[1]);
      return {
        added: (isPair) => (isPair ? 4 : 2),
        step: (encs, addSpecial) => {
          for (const e of encs) {
            if (trim) trimOffsets(e, addPrefixSpace);
            // RoBERTa gives every token type id 0.
            e.typeIds = e.typeIds.map(() => 0);
            for (const x of e.overflowing) x.typeIds = x.typeIds.map(() => 0);
          }
          if (!addSpecial) return encs;
          return encs.map((e, i) => (i === 0 ? wrap(e, [cls], [sep], 0) : wrap(e, [sep], [sep], 0)));
        },
      };
    }
    case 'ByteLevel': {
      const trim = optBool(o, 'trim_offsets', where, true);
      const addPrefixSpace = optBool(o, 'add_prefix_space', where, true);
      return {
        added: () => 0,
        step: (encs) => {
          if (trim) for (const e of encs) trimOffsets(e, addPrefixSpace);
          return encs;
        },
      };
    }
    case 'Sequence': {
      const steps = arrayAt(o.processors, `${where}.processors`).map((p, i) => parseStep(objectAt(p, `${where}.processors[${i}]`), `${where}.processors[${i}]`, ids));
      return {
        added: (isPair) => steps.reduce((n, s) => n + s.added(isPair), 0),
        step: (encs, addSpecial) => {
          for (const s of steps) encs = s.step(encs, addSpecial);
          return encs;
        },
      };
    }
    default:
      return fail(`${where}.type`, `unsupported post-processor ${describe(o.type)} (supported: ${SUPPORTED_POST_PROCESSORS.join(', ')})`);
  }
}

/** The post-processor of a tokenizer.json `post_processor` field. */
export function parsePostProcessor(v: Json | undefined, where = 'post_processor'): PostProcessor {
  const json = v === undefined || v === null ? null : objectAt(v, where);
  const specialIds: number[] = [];
  const parsed = json ? parseStep(json, where, specialIds) : null;
  return {
    json,
    specialIds,
    addedTokens: (isPair) => parsed?.added(isPair) ?? 0,
    process(a, b, addSpecialTokens) {
      // tokenizers' PostProcessor::process: each input's type ids are its index before the processor runs.
      const encs = b ? [a, b] : [a];
      encs.forEach((e, i) => {
        e.typeIds = e.ids.map(() => i);
        e.sequenceIds = e.ids.map(() => i);
        for (const x of e.overflowing) x.sequenceIds = x.ids.map(() => i);
      });
      return mergeEncodings(parsed ? parsed.step(encs, addSpecialTokens) : encs);
    },
  };
}
