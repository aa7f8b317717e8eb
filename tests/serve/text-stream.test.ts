// Streaming text from tokens: a character split over byte-level tokens is never sent in halves, the
// pieces add up to the whole decode, and stop strings (also split over tokens) end the text before
// them and are never sent.
import { describe, it, expect, beforeAll } from 'vitest';
import { TextStream } from '../../src/serve/text-stream.js';
import { loadTokenizerFile, type Tokenizer } from '../../src/text/tokenizer.js';
import { CharTokenizer } from '../../src/text/char.js';
import { BPE_FIXTURE } from './helpers.js';

/** Push every id; the pieces sent (the last one from finish()). */
function pieces(s: TextStream, ids: number[]): string[] {
  const out = ids.map((id) => s.push(id));
  out.push(s.finish());
  return out;
}

describe('TextStream', () => {
  let bpe: Tokenizer;
  beforeAll(async () => {
    bpe = await loadTokenizerFile(BPE_FIXTURE);
  });

  it('never sends half a UTF-8 character, and the pieces add up to the decoded text', () => {
    const text = 'naïve café — 日本語 and 🎉🎉 done';
    const ids = bpe.encode(text);
    expect(ids.length).toBeGreaterThan([...text].length / 2);
    // some character really is split over tokens: decoding one token alone gives U+FFFD
    expect(ids.some((id) => bpe.decode([id]).includes('\uFFFD'))).toBe(true);
    const out = pieces(new TextStream((x) => bpe.decode(x)), ids);
    for (const p of out) expect(p).not.toContain('\uFFFD');
    expect(out.join('')).toBe(text);
  });

  it('bytes that never complete a character are sent as U+FFFD at the end', () => {
    const ids = bpe.encode('日'); // three byte tokens (or fewer merged ones)
    const s = new TextStream((x) => bpe.decode(x));
    const out = pieces(s, ids.slice(0, -1));
    expect(out.slice(0, -1).join('')).toBe('');
    expect(out.at(-1)).toContain('\uFFFD');
  });

  it('ends before the first stop string, sends nothing of it, and ignores what follows', () => {
    const tok = CharTokenizer.fromText('abcdefgh XYZ\n');
    const ids = tok.encode('abc XYZ def\n\nghh');
    const s = new TextStream((x) => tok.decode(x), ['\n\n', 'XYZ d']);
    const out = pieces(s, ids);
    expect(out.join('')).toBe('abc ');
    expect(s.stopped).toBe(true);
    expect(s.fullText).toBe('abc ');
    // 'X', 'Y', 'Z', ' ' could begin a stop string: held back, never sent
    expect(out.slice(4).every((p) => p === '')).toBe(true);
    expect(s.tokens).toHaveLength(ids.length);
  });

  it('sends held-back text once it turns out not to be a stop string, and at the end', () => {
    const tok = CharTokenizer.fromText('abcdefgh XYZ\n');
    const s = new TextStream((x) => tok.decode(x), ['XYZ!']);
    const out = pieces(s, tok.encode('ab XY cd XYZ'));
    expect(out.join('')).toBe('ab XY cd XYZ');
    expect(out[4]).toBe(''); // 'XY' held back...
    expect(out[5]).toBe('XY '); // ...and sent with the space that rules the stop string out
    expect(out.at(-1)).toBe('XYZ'); // the end: whatever was held back
    expect(s.stopped).toBe(false);
  });

  it('finds a stop string split over byte-level tokens, and one at the very start', () => {
    const text = 'Answer: 42. — Question: why?';
    const ids = bpe.encode(text);
    const s = new TextStream((x) => bpe.decode(x), ['— Q']);
    expect(pieces(s, ids).join('')).toBe('Answer: 42. ');
    const t = new TextStream((x) => bpe.decode(x), ['Ans']);
    expect(pieces(t, ids).join('')).toBe('');
    expect(t.stopped).toBe(true);
  });
});
