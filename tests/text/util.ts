// Helpers of the tokenizer tests: a seeded generator of varied unicode text and Shakespeare lines.
import { readFileSync } from 'node:fs';
import { SHAKESPEARE_PATH } from '../helpers/corpus.js';

export { SHAKESPEARE_PATH };

let corpus: string | undefined;
/** The 1.1 MB tinyshakespeare corpus (nanoGPT's). */
export function tinyShakespeare(): string {
  return (corpus ??= readFileSync(SHAKESPEARE_PATH, 'utf8'));
}

/** `n` consecutive lines (with their newlines) starting at line 1000·k. */
export function shakespeare(n: number, k: number): string[] {
  return tinyShakespeare()
    .split(/(?<=\n)/)
    .slice(1000 * k, 1000 * k + n);
}

export { mulberry32 } from '../helpers/rng.js';

const POOLS: string[][] = [
  ['the', 'The', 'and', 'Hello', 'world', 'token', 'izer', 'ROMEO', 'thee', 'thou', 'a', 'I', 'x'],
  [' ', ' ', ' ', '  ', '   ', '\n', '\n\n', '\t', '\r\n', ' \n', '\u00a0', '\u3000', '\u2028', '\u2003'],
  ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "''", "'S"],
  ['0', '7', '42', '2024', '3.14', '1,000', '٣', '²', '½', '١٢'],
  ['.', ',', '!', '?', ';', ':', '-', '--', '...', '(', ')', '"', '#', '@', '&', '*', '/', '\\', '<', '>', '|', '~', '`', '^', '{', '}', '[', ']'],
  ['é', 'ü', 'ñ', 'ß', 'ø', 'Ω', 'λ', 'Ж', 'я', 'ש', 'ع', 'क', 'ก', '日', '本', '語', '中', '文', '한', '국'],
  ['😀', '🎉', '👍🏽', '👨\u200d👩\u200d👧', '🇯🇵', '𝔘', '𝟙', '𓀀', '🀄', '\u{10ffff}', '\u{1F9D1}'],
  ['e\u0301', 'a\u0308', '\u200d', '\u200c', '\u00ad', '\u0000', '\u0007', '\u007f', '\ufffd', '\ue000'],
];
const JS_WS_DIFF = ['\u0085', '\ufeff'];

export interface RandomTextOptions {
  /** Leave out U+0085 and U+FEFF, the two characters where JavaScript's `\s` and Unicode White_Space differ. */
  jsWhitespaceSafe?: boolean;
  /** Special tokens to sprinkle in. */
  specials?: string[];
}

/** A string of `n` random pieces: words, whitespace runs, contractions, numbers, punctuation, scripts, emoji. */
export function randomText(rng: () => number, n: number, opts: RandomTextOptions = {}): string {
  const pools = [...POOLS];
  if (!opts.jsWhitespaceSafe) pools.push(JS_WS_DIFF);
  if (opts.specials?.length) pools.push(opts.specials);
  let s = '';
  for (let i = 0; i < n; i++) {
    const pool = pools[Math.floor(rng() * pools.length)];
    s += pool[Math.floor(rng() * pool.length)];
  }
  return s;
}
