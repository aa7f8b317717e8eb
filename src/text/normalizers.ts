// The normalizers of tokenizer.json (tokenizers' normalizers/*.rs), each a function that changes a
// NormalizedString in place: BertNormalizer, Lowercase, NFC/NFD/NFKC/NFKD, StripAccents, Strip,
// Replace, Prepend, Nmt, ByteLevel and Sequence of these. Character classes use the Unicode tables
// of the JavaScript engine; tokenizers' own tables are older, so characters assigned in recent
// Unicode versions may be classed differently (see docs in tests/text/hf-pipeline.test.ts).

import { BYTE_TO_CHAR, utf8Encoder } from './bytelevel.js';
import { type Change, type NormalizedString, findRegex, findString, isWhitespace } from './normalized.js';
import { type JsonObject, arrayAt, describe, fail, objectAt, optBool, stringAt } from './tokenizer-json.js';
import { compileHFRegex } from './hf-regex.js';

/** A normalizer: changes the string in place. */
export type Normalizer = (s: NormalizedString) => void;

/** The normalizer types this module reads. */
export const SUPPORTED_NORMALIZERS = ['BertNormalizer', 'Lowercase', 'NFC', 'NFD', 'NFKC', 'NFKD', 'StripAccents', 'Strip', 'Replace', 'Prepend', 'Nmt', 'ByteLevel', 'Sequence'];

// BERT's classes (normalizers/bert.rs). is_control is Rust's "other" minus \t \n \r: Cc, Cf, Co (and
// Cs, which a JS string of whole code points never holds); unassigned code points (Cn) are kept.
// These Cf characters are newer than tokenizers' tables, which keep them.
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}]$/u;
const CONTROL_KEPT = /^[\u0890\u0891\u08e2\u{110cd}\u{13430}-\u{1343f}]$/u;
const MARK_NONSPACING = /^\p{Mn}$/u;
const COMBINING_MARK = /^\p{M}$/u;

function isBertControl(c: string): boolean {
  if (c === '\t' || c === '\n' || c === '\r') return false;
  return CONTROL.test(c) && !CONTROL_KEPT.test(c);
}

/** The CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana), as BERT defines "Chinese". */
export function isChineseChar(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function lowercase(s: NormalizedString): void {
  s.flatMap((c) => {
    const l = c.toLowerCase();
    return l.length === 0 ? c : l;
  });
}

/**
 * Unicode normalization with alignments. The text is cut where normalization cannot reach across
 * (before a character that is not a mark and leaves the normalized text of what precedes it
 * unchanged); each chunk of k characters normalized to m: the first min(k, m) − 1 replace one old
 * character each, the rest are inserted, or the last absorbs the old characters left over
 * (tokenizers gets the same from its unicode-normalization iterator in the usual cases).
 */
function unicodeNormalize(s: NormalizedString, form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): void {
  const chars = s.chars;
  const whole = chars.join('');
  if (whole.normalize(form) === whole) return;
  const out: Change[] = [];
  let chunk: string[] = [];
  let chunkNorm = '';
  const flush = () => {
    if (chunk.length === 0) return;
    const k = chunk.length;
    const m = [...chunkNorm];
    for (let i = 0; i < m.length; i++) {
      if (i < k - 1 && i < m.length - 1) out.push([m[i], 0]);
      else if (i === m.length - 1 && m.length <= k) out.push([m[i], -(k - m.length)]);
      else if (i < k) out.push([m[i], 0]);
      else out.push([m[i], 1]);
    }
    if (m.length === 0) throw new Error(`${form}: ${JSON.stringify(chunk.join(''))} normalized to nothing`);
  };
  for (const c of chars) {
    if (chunk.length > 0 && !COMBINING_MARK.test(c)) {
      const joined = (chunk.join('') + c).normalize(form);
      const cn = c.normalize(form);
      if (joined === chunkNorm + cn) {
        flush();
        chunk = [c];
        chunkNorm = cn;
        continue;
      }
      chunk.push(c);
      chunkNorm = joined;
      continue;
    }
    chunk.push(c);
    chunkNorm = chunk.join('').normalize(form);
  }
  flush();
  s.transform(out);
}

function nfd(s: NormalizedString): void {
  unicodeNormalize(s, 'NFD');
}

/** The byte-level form: each UTF-8 byte of each character as GPT-2's byte character. */
export function byteLevelTransform(s: NormalizedString): void {
  const out: Change[] = [];
  for (const c of s.chars) {
    const bytes = utf8Encoder.encode(c);
    for (let i = 0; i < bytes.length; i++) out.push([BYTE_TO_CHAR[bytes[i]], i > 0 ? 1 : 0]);
  }
  s.transform(out);
}

/** A Replace/Split pattern of tokenizer.json: {"String": "..."} or {"Regex": "..."}. */
export function patternFinder(v: unknown, where: string): (chars: readonly string[]) => import('./normalized.js').Match[] {
  const p = objectAt(v, where);
  if (typeof p.String === 'string') {
    const needle = p.String;
    return (chars) => findString(chars, needle);
  }
  if (typeof p.Regex === 'string') {
    const re = compileHFRegex(p.Regex, `${where}.Regex`);
    return (chars) => findRegex(chars, re);
  }
  return fail(where, `expected {"String": ...} or {"Regex": ...}, got ${describe(v)}`);
}

/** The normalizer of a tokenizer.json `normalizer` field (null: none). */
export function parseNormalizer(v: unknown, where = 'normalizer'): Normalizer | null {
  if (v === undefined || v === null) return null;
  const o: JsonObject = objectAt(v, where);
  switch (o.type) {
    case 'BertNormalizer': {
      const cleanText = optBool(o, 'clean_text', where, true);
      const chinese = optBool(o, 'handle_chinese_chars', where, true);
      const lower = optBool(o, 'lowercase', where, true);
      // strip_accents: null means "as lowercase" (BERT uncased strips, cased keeps).
      const stripAccents = optBool(o, 'strip_accents', where, lower);
      return (s) => {
        if (cleanText) {
          s.filter((c) => !(c === '\u0000' || c === '\ufffd' || isBertControl(c)));
          s.map((c) => (c === '\t' || c === '\n' || c === '\r' || isWhitespace(c) ? ' ' : c));
        }
        if (chinese) {
          const out: Change[] = [];
          for (const c of s.chars) {
            if (isChineseChar(c)) out.push([' ', 0], [c, 1], [' ', 1]);
            else out.push([c, 0]);
          }
          s.transform(out);
        }
        if (stripAccents) {
          nfd(s);
          s.filter((c) => !MARK_NONSPACING.test(c));
        }
        if (lower) lowercase(s);
      };
    }
    case 'Lowercase':
      return lowercase;
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = o.type;
      return (s) => unicodeNormalize(s, form);
    }
    case 'StripAccents':
      return (s) => s.filter((c) => !COMBINING_MARK.test(c));
    case 'Strip': {
      const left = optBool(o, 'strip_left', where, true);
      const right = optBool(o, 'strip_right', where, true);
      return (s) => s.strip(left, right);
    }
    case 'Replace': {
      const find = patternFinder(o.pattern, `${where}.pattern`);
      const content = stringAt(o.content, `${where}.content`);
      return (s) => s.replace(find(s.chars), content);
    }
    case 'Prepend': {
      const prefix = stringAt(o.prepend, `${where}.prepend`);
      return (s) => s.prepend(prefix);
    }
    case 'Nmt':
      return (s) => {
        s.filter((c) => {
          const cp = c.codePointAt(0)!;
          return !((cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || cp === 0x7f || cp === 0x8f || cp === 0x9f);
        });
        s.map((c) => {
          const cp = c.codePointAt(0)!;
          const space =
            cp === 0x9 ||
            cp === 0xa ||
            cp === 0xc ||
            cp === 0xd ||
            cp === 0x1680 ||
            (cp >= 0x200b && cp <= 0x200f) ||
            cp === 0x2028 ||
            cp === 0x2029 ||
            cp === 0x2581 ||
            cp === 0xfeff ||
            cp === 0xfffd;
          return space ? ' ' : c;
        });
      };
    case 'ByteLevel':
      return byteLevelTransform;
    case 'Sequence': {
      const list = arrayAt(o.normalizers, `${where}.normalizers`).map((n, i) => parseNormalizer(n, `${where}.normalizers[${i}]`));
      return (s) => {
        for (const n of list) n?.(s);
      };
    }
    default:
      return fail(`${where}.type`, `unsupported normalizer ${describe(o.type)} (supported: ${SUPPORTED_NORMALIZERS.join(', ')})`);
  }
}
