// The regexes of tokenizer.json (Split pre-tokenizer, Replace) are written for Oniguruma, the engine
// behind `tokenizers`: \s is Unicode White_Space, \d and \w are Unicode classes, and (?i:...) groups
// are case-insensitive. JavaScript's `u`-flag RegExp has the same \p{...} classes and lookaheads, but
// its \s, \d, \w differ and Node 20 has no inline (?i:...) groups, so the pattern is rewritten to
// mean exactly what Oniguruma reads. (re2js cannot be used: RE2 has no lookahead, which every
// GPT-style split pattern needs for `\s+(?!\S)`, and its \s is ASCII only.)

import { TokenizerFormatError } from './tokenizer-json.js';

const WHITE = '\\p{White_Space}';
const WORD_BODY = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
// What (?i) lets a letter also match under Unicode simple case folding, beyond its ASCII case pair.
const EXTRA_FOLDS: Record<string, string> = { s: 'ſ', k: '\u212a' };
// Characters that JavaScript's `u` flag lets a backslash escape.
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/-');

/** A regex of tokenizer.json as a global, `u`-flag JavaScript RegExp with Oniguruma's meaning. */
export function compileHFRegex(pattern: string, where: string): RegExp {
  const source = translate(pattern, where);
  try {
    return new RegExp(source, 'gu');
  } catch (e) {
    throw new TokenizerFormatError(`${where}: the regex ${JSON.stringify(pattern)} is not supported here (${(e as Error).message})`);
  }
}

/** Translate Oniguruma syntax to JavaScript's (exported for the tests). */
export function translate(p: string, where: string): string {
  let out = '';
  let i = 0;
  let inClass = false;
  const caseless: number[] = []; // group depths at which a (?i:...) group opened
  let depth = 0;
  const bad = (what: string): never => {
    throw new TokenizerFormatError(`${where}: ${what} in the regex ${JSON.stringify(p)} is not supported`);
  };
  while (i < p.length) {
    const c = p[i];
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) bad('a trailing backslash');
      i += 2;
      if (d === 's') out += inClass ? WHITE : WHITE;
      else if (d === 'S') out += inClass ? '\\P{White_Space}' : '\\P{White_Space}';
      else if (d === 'd') out += '\\p{Nd}';
      else if (d === 'D') out += '\\P{Nd}';
      else if (d === 'w') out += inClass ? WORD_BODY : `[${WORD_BODY}]`;
      else if (d === 'W') {
        if (inClass) bad('\\W inside a character class');
        out += `[^${WORD_BODY}]`;
      } else if (d === 'p' || d === 'P') {
        if (p[i] === '{') {
          const end = p.indexOf('}', i);
          if (end < 0) bad('an unclosed \\p{');
          out += `\\${d}${p.slice(i, end + 1)}`;
          i = end + 1;
        } else {
          out += `\\${d}{${p[i]}}`; // \pL
          i += 1;
        }
      } else if (/[A-Za-z0-9]/.test(d)) {
        if ('trnfvbB0'.includes(d) || d === 'u' || d === 'x') out += `\\${d}`;
        else if (d === 'A') out += '^';
        else if (d === 'z') out += '$';
        else bad(`the escape \\${d}`);
      } else if (JS_SYNTAX.has(d)) out += `\\${d}`;
      else out += d; // \' \" \# ...: an identity escape JavaScript's u flag refuses
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      if (c === '[' && p[i + 1] === ':') bad('a POSIX bracket class');
      if (caseless.length && /[A-Za-z]/.test(c)) bad('a character class inside (?i:...)');
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (p[i] === '^') {
        out += '^';
        i++;
      }
      if (p[i] === ']') {
        out += '\\]'; // a leading ] is literal in Oniguruma
        i++;
      }
      continue;
    }
    if (c === '(') {
      if (p.startsWith('(?i:', i)) {
        depth++;
        caseless.push(depth);
        out += '(?:';
        i += 4;
        continue;
      }
      if (p.startsWith('(?>', i)) bad('an atomic group');
      if (p[i + 1] === '?' && !/[:=!<]/.test(p[i + 2])) bad(`the group ${p.slice(i, i + 4)}`);
      depth++;
      out += c;
      i++;
      continue;
    }
    if (c === ')') {
      if (caseless.at(-1) === depth) caseless.pop();
      depth--;
      out += c;
      i++;
      continue;
    }
    if ((c === '+' || c === '?' || c === '*' || c === '}') && p[i + 1] === '+') bad('a possessive quantifier');
    if (caseless.length && /[A-Za-z]/.test(c)) {
      const lo = c.toLowerCase();
      out += `[${lo}${c.toUpperCase()}${EXTRA_FOLDS[lo] ?? ''}]`;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
