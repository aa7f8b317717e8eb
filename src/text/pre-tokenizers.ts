// The pre-tokenizers of tokenizer.json (tokenizers' pre_tokenizers/*.rs): each cuts every piece of
// normalized text into smaller pieces (words) that the model then tokenizes one at a time.
// BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, CharDelimiterSplit, Metaspace,
// Split (string or regex pattern), ByteLevel and Sequence of these.

import { GPT2_SPLIT_PATTERN } from './bytelevel.js';
import { type NormalizedString, type SplitBehavior, findChars, findRegex, isWhitespace } from './normalized.js';
import { byteLevelTransform, patternFinder } from './normalizers.js';
import { type JsonObject, arrayAt, describe, fail, objectAt, optBool, stringAt } from './tokenizer-json.js';

/** Metaspace's rule for the leading replacement character. */
export type PrependScheme = 'always' | 'first' | 'never';

/** A pre-tokenizer: the pieces one piece becomes. */
export type PreTokenizer = (s: NormalizedString) => NormalizedString[];

/** The pre-tokenizer types this module reads. */
export const SUPPORTED_PRE_TOKENIZERS = [
  'BertPreTokenizer',
  'Whitespace',
  'WhitespaceSplit',
  'Punctuation',
  'Digits',
  'CharDelimiterSplit',
  'Metaspace',
  'Split',
  'ByteLevel',
  'Sequence',
];

const BEHAVIORS: readonly SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

// Rust's char::is_ascii_punctuation or unicode_categories' is_punctuation (Pc Pd Ps Pe Pi Pf Po).
const PUNCT = /^[!-/:-@[-`{-~\p{P}]$/u;
export function isBertPunctuation(c: string): boolean {
  return PUNCT.test(c);
}
const NUMERIC = /^[\p{Nd}\p{Nl}\p{No}]$/u; // Rust's char::is_numeric
// Rust regex `\w+|[^\w\s]+` (Whitespace pre-tokenizer): \w is Unicode word, \s White_Space.
const WHITESPACE_RE = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\p{White_Space}]+/gu;
const GPT2_RE = new RegExp(GPT2_SPLIT_PATTERN, 'gu');

function behaviorAt(o: JsonObject, key: string, where: string, dflt: SplitBehavior): SplitBehavior {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || !BEHAVIORS.includes(v as SplitBehavior)) fail(`${where}.${key}`, `expected one of ${BEHAVIORS.join(', ')}, got ${describe(v)}`);
  return v as SplitBehavior;
}

/** Metaspace's options, also read by its decoder (the legacy add_prefix_space maps to prepend_scheme as tokenizers does). */
export function metaspaceOptions(o: JsonObject, where: string): { replacement: string; prependScheme: PrependScheme; split: boolean } {
  const replacement = stringAt(o.replacement, `${where}.replacement`);
  if ([...replacement].length !== 1) fail(`${where}.replacement`, `expected one character, got ${describe(replacement)}`);
  let scheme: PrependScheme = 'always';
  if (o.prepend_scheme !== undefined && o.prepend_scheme !== null) {
    const s = o.prepend_scheme;
    if (s !== 'always' && s !== 'first' && s !== 'never') fail(`${where}.prepend_scheme`, `expected "always", "first" or "never", got ${describe(s)}`);
    scheme = s;
  }
  if (optBool(o, 'add_prefix_space', where, true) === false) {
    if (o.prepend_scheme !== undefined && o.prepend_scheme !== null && scheme !== 'never')
      fail(`${where}.add_prefix_space`, 'add_prefix_space false does not match the declared prepend_scheme');
    scheme = 'never';
  }
  return { replacement, prependScheme: scheme, split: optBool(o, 'split', where, true) };
}

/** The pre-tokenizer of a tokenizer.json `pre_tokenizer` field (null: none). */
export function parsePreTokenizer(v: unknown, where = 'pre_tokenizer'): PreTokenizer | null {
  if (v === undefined || v === null) return null;
  const o = objectAt(v, where);
  switch (o.type) {
    case 'BertPreTokenizer':
      return (s) => s.split(findChars(s.chars, isWhitespace), 'Removed').flatMap((p) => p.split(findChars(p.chars, isBertPunctuation), 'Isolated'));
    case 'Whitespace':
      return (s) =>
        s.split(
          findRegex(s.chars, WHITESPACE_RE).map(([a, b, m]) => [a, b, !m]),
          'Removed',
        );
    case 'WhitespaceSplit':
      return (s) => s.split(findChars(s.chars, isWhitespace), 'Removed');
    case 'Punctuation': {
      const behavior = behaviorAt(o, 'behavior', where, 'Isolated');
      return (s) => s.split(findChars(s.chars, isBertPunctuation), behavior);
    }
    case 'Digits': {
      const behavior: SplitBehavior = optBool(o, 'individual_digits', where, false) ? 'Isolated' : 'Contiguous';
      return (s) =>
        s.split(
          findChars(s.chars, (c) => NUMERIC.test(c)),
          behavior,
        );
    }
    case 'CharDelimiterSplit': {
      const d = stringAt(o.delimiter, `${where}.delimiter`);
      return (s) =>
        s.split(
          findChars(s.chars, (c) => c === d),
          'Removed',
        );
    }
    case 'Metaspace': {
      const { replacement, prependScheme, split } = metaspaceOptions(o, where);
      return (s) => {
        s.replace(
          findChars(s.chars, (c) => c === ' '),
          replacement,
        );
        // "first": only the piece that starts the text (not one after an added token).
        if (s.chars[0] !== replacement && (prependScheme === 'always' || (prependScheme === 'first' && s.origStart === 0))) s.prepend(replacement);
        return split
          ? s.split(
              findChars(s.chars, (c) => c === replacement),
              'MergedWithNext',
            )
          : [s];
      };
    }
    case 'Split': {
      const find = patternFinder(o.pattern, `${where}.pattern`);
      const behavior = behaviorAt(o, 'behavior', where, 'Removed');
      if (o.behavior === undefined) fail(`${where}.behavior`, 'missing');
      const invert = optBool(o, 'invert', where, false);
      return (s) => {
        const m = find(s.chars);
        return s.split(invert ? m.map(([a, b, x]) => [a, b, !x]) : m, behavior);
      };
    }
    case 'ByteLevel': {
      const addPrefixSpace = optBool(o, 'add_prefix_space', where, true);
      const useRegex = optBool(o, 'use_regex', where, true);
      return (s) => {
        if (addPrefixSpace && s.chars[0] !== ' ') s.prepend(' ');
        const parts = useRegex ? s.split(findRegex(s.chars, GPT2_RE), 'Isolated') : [s];
        for (const p of parts) byteLevelTransform(p);
        return parts;
      };
    }
    case 'Sequence': {
      const list = arrayAt(o.pretokenizers, `${where}.pretokenizers`).map((p, i) => parsePreTokenizer(p, `${where}.pretokenizers[${i}]`));
      return (s) => {
        let parts = [s];
        for (const pt of list) if (pt) parts = parts.flatMap((p) => pt(p).filter((x) => x.length > 0));
        return parts;
      };
    }
    default:
      return fail(`${where}.type`, `unsupported pre-tokenizer ${describe(o.type)} (supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')})`);
  }
}
