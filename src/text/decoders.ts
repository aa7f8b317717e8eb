// The decoders of tokenizer.json (tokenizers' decoders/*.rs): each maps the list of token strings to
// a new list; the text is their concatenation. WordPiece, Metaspace, ByteLevel, ByteFallback, Fuse,
// Strip, Replace, BPEDecoder, CTC and Sequence of these.

import { byteLevelTokenBytes, utf8Decoder } from './bytelevel.js';
import { patternFinder } from './normalizers.js';
import { metaspaceOptions } from './pre-tokenizers.js';
import { type JsonObject, arrayAt, describe, fail, objectAt, optBool, stringAt } from './tokenizer-json.js';

/** A decoder: token strings → strings to concatenate. */
export type Decoder = (tokens: string[]) => string[];

/** The decoder types this module reads. */
export const SUPPORTED_DECODERS = ['WordPiece', 'Metaspace', 'ByteLevel', 'ByteFallback', 'Fuse', 'Strip', 'Replace', 'BPEDecoder', 'CTC', 'Sequence'];

/** transformers' clean_up_tokenization (decoders/wordpiece.rs `cleanup`). */
export function cleanupTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

function intAt(o: JsonObject, key: string, where: string, dflt: number): number {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${where}.${key}`, `expected a non-negative integer, got ${describe(v)}`);
  return v;
}

/** The decoder of a tokenizer.json `decoder` field (null: tokens joined by spaces, as tokenizers does). */
export function parseDecoder(v: unknown, where = 'decoder'): Decoder | null {
  if (v === undefined || v === null) return null;
  const o = objectAt(v, where);
  switch (o.type) {
    case 'WordPiece': {
      const prefix = typeof o.prefix === 'string' ? o.prefix : '##';
      const cleanup = optBool(o, 'cleanup', where, true);
      return (tokens) =>
        tokens.map((t, i) => {
          if (i !== 0) t = t.startsWith(prefix) ? t.slice(prefix.length) : ` ${t}`;
          return cleanup ? cleanupTokenization(t) : t;
        });
    }
    case 'Metaspace': {
      const { replacement, prependScheme } = metaspaceOptions(o, where);
      return (tokens) =>
        tokens.map((t, i) => {
          let s = '';
          for (const c of t) {
            if (c === replacement) s += i === 0 && prependScheme !== 'never' ? '' : ' ';
            else s += c;
          }
          return s;
        });
    }
    case 'ByteLevel':
      return (tokens) => {
        const parts = tokens.map(byteLevelTokenBytes);
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        return [utf8Decoder.decode(all)];
      };
    case 'ByteFallback':
      return (tokens) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = () => {
          if (bytes.length === 0) return;
          try {
            out.push(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes)));
          } catch {
            for (let k = 0; k < bytes.length; k++) out.push('\ufffd');
          }
          bytes = [];
        };
        for (const t of tokens) {
          const m = t.length === 6 && t.startsWith('<0x') && t.endsWith('>') && /^[0-9A-Fa-f]{2}$/.test(t.slice(3, 5)) ? Number.parseInt(t.slice(3, 5), 16) : null;
          if (m !== null) bytes.push(m);
          else {
            flush();
            out.push(t);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = stringAt(o.content, `${where}.content`);
      const start = intAt(o, 'start', where, 0);
      const stop = intAt(o, 'stop', where, 0);
      return (tokens) =>
        tokens.map((t) => {
          const chars = [...t];
          let a = 0;
          for (let i = 0; i < Math.min(start, chars.length) && chars[i] === content; i++) a = i + 1;
          let b = chars.length;
          for (let i = 0; i < stop; i++) {
            const k = chars.length - i - 1;
            if (k >= 0 && chars[k] === content) b = k;
            else break;
          }
          return chars.slice(a, Math.max(a, b)).join('');
        });
    }
    case 'Replace': {
      const find = patternFinder(o.pattern, `${where}.pattern`);
      const content = stringAt(o.content, `${where}.content`);
      return (tokens) =>
        tokens.map((t) => {
          const chars = [...t];
          let s = '';
          for (const [a, b, m] of find(chars)) s += m ? content : chars.slice(a, b).join('');
          return s;
        });
    }
    case 'BPEDecoder': {
      const suffix = typeof o.suffix === 'string' ? o.suffix : '</w>';
      return (tokens) => tokens.map((t, i) => t.replaceAll(suffix, i === tokens.length - 1 ? '' : ' '));
    }
    case 'CTC': {
      const pad = typeof o.pad_token === 'string' ? o.pad_token : '<pad>';
      const delim = typeof o.word_delimiter_token === 'string' ? o.word_delimiter_token : '|';
      const cleanup = optBool(o, 'cleanup', where, true);
      return (tokens) =>
        tokens
          .filter((t, i) => i === 0 || t !== tokens[i - 1])
          .map((t) => {
            let r = t.replaceAll(pad, '');
            if (cleanup) r = cleanupTokenization(r).replaceAll(delim, ' ');
            return r;
          })
          .filter((t) => t.length > 0);
    }
    case 'Sequence': {
      const list = arrayAt(o.decoders, `${where}.decoders`).map((d, i) => parseDecoder(d, `${where}.decoders[${i}]`));
      return (tokens) => {
        for (const d of list) if (d) tokens = d(tokens);
        return tokens;
      };
    }
    default:
      return fail(`${where}.type`, `unsupported decoder ${describe(o.type)} (supported: ${SUPPORTED_DECODERS.join(', ')})`);
  }
}
