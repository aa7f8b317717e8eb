// Character-level tokenizer: nanoGPT's shakespeare_char vocabulary and ids, round trips, unknown
// characters, special tokens, and its tokenizer.json (save / load / malformed).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer } from '../../src/text/char.js';
import { Tokenizer, tokenizerFromJSON } from '../../src/text/tokenizer.js';
import { tempDir } from '../helpers/tmp.js';
import { mulberry32, randomText, tinyShakespeare } from './util.js';

describe('CharTokenizer', () => {
  it("reproduces nanoGPT's shakespeare_char vocabulary, ids and split sizes", () => {
    const text = tinyShakespeare();
    const tok = CharTokenizer.fromText(text);
    // data/shakespeare_char/prepare.py prints these.
    expect(tok.vocabSize).toBe(65);
    expect(tok.chars.join('')).toBe("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    expect(tok.encode('hii there')).toEqual([46, 47, 47, 1, 58, 46, 43, 56, 43]);
    const n = Math.floor(text.length * 0.9);
    expect(tok.encode(text.slice(0, n)).length).toBe(1003854);
    expect(tok.encode(text.slice(n)).length).toBe(111540);
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.tokenToId('a')).toBe(39);
    expect(tok.idToToken(0)).toBe('\n');
    expect(tok.idToToken(65)).toBeUndefined();
  });

  it('sorts characters by code point (astral characters after U+FFFF) and round-trips unicode', () => {
    const tok = CharTokenizer.fromText('\uffff😀a😀é');
    expect(tok.chars).toEqual(['a', 'é', '\uffff', '😀']);
    expect(tok.encode('😀a\uffff')).toEqual([3, 0, 2]);
    const rng = mulberry32(4);
    const text = randomText(rng, 3000, {});
    const all = CharTokenizer.fromText(text);
    for (let i = 0; i < 50; i++) {
      const start = Math.floor(rng() * (text.length - 100));
      let piece = text.slice(start, start + 1 + Math.floor(rng() * 100));
      piece = piece.replace(/^[\udc00-\udfff]|[\ud800-\udbff]$/g, ''); // whole characters only
      expect(all.decode(all.encode(piece))).toBe(piece);
    }
  });

  it('names an unknown character and its position; unknown ids are errors too', () => {
    const tok = CharTokenizer.fromText(tinyShakespeare());
    expect(() => tok.encode('hello 😀 world')).toThrow('CharTokenizer.encode: character "😀" (U+1F600) at index 6 is not in the vocabulary of 65 characters');
    expect(() => tok.encode('Zounds%')).toThrow(/character "%" \(U\+0025\) at index 6/);
    expect(() => tok.decode([1, 2, 65])).toThrow(/id 65 at position 2 is not in the vocabulary \(ids 0\.\.64\)/);
    expect(() => tok.decode([-1])).toThrow(/id -1 at position 0/);
  });

  it('takes special tokens after the characters', () => {
    const tok = CharTokenizer.fromText('abc', { specialTokens: ['<|endoftext|>', '<pad>'] });
    expect(tok.vocabSize).toBe(5);
    expect(tok.specialTokens).toEqual({ '<|endoftext|>': 3, '<pad>': 4 });
    expect(tok.encode('ab<|endoftext|>c<pad>')).toEqual([0, 1, 3, 2, 4]);
    expect(tok.decode([0, 3, 4, 1])).toBe('a<|endoftext|><pad>b');
    expect(tok.decode([0, 3, 4, 1], { skipSpecialTokens: true })).toBe('ab');
    expect(() => tok.encodeOrdinary('a<pad>')).toThrow(/character "<" \(U\+003C\) at index 1/);
  });

  it('saves a tokenizer.json that loads back (and is Hugging Face WordLevel + Split + Fuse)', async () => {
    const dir = await tempDir('nabla-char-');
    const tok = CharTokenizer.fromText(tinyShakespeare().slice(0, 5000) + '😀é', { specialTokens: ['<|endoftext|>'] });
    await tok.save(dir);
    const back = await Tokenizer.fromFile(join(dir, 'tokenizer.json'));
    expect(back).toBeInstanceOf(CharTokenizer);
    expect((back as CharTokenizer).chars).toEqual(tok.chars);
    expect(back.specialTokens).toEqual(tok.specialTokens);
    const s = 'First Citizen:<|endoftext|>😀é';
    expect(back.encode(s)).toEqual(tok.encode(s));
    const file = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
    const json = JSON.parse(file);
    expect(json.model.type).toBe('WordLevel');
    expect(json.model.unk_token).toBe('[UNK]');
    expect(json.pre_tokenizer).toEqual({ type: 'Split', pattern: { Regex: '[\\s\\S]' }, behavior: 'Isolated', invert: false });
    expect(json.decoder).toEqual({ type: 'Fuse' });
    expect(file).toMatch(/"vocab": \{\n\s+"\\n": 0,\n\s+" ": 1,/); // id order
  });

  it('rejects malformed character files', () => {
    const good = CharTokenizer.fromText('abc').toJSON();
    const bad = (patch: (j: any) => void) => {
      const j = structuredClone(good) as any;
      patch(j);
      return j;
    };
    const cases: [object, RegExp][] = [
      [
        bad((j) => {
          j.model.vocab = { a: 0, bc: 1 };
        }),
        /model\.vocab\["bc"\]: a character tokenizer holds single characters only/,
      ],
      [
        bad((j) => {
          j.model.vocab = { a: 0, c: 2 };
        }),
        /model\.vocab: no character has id 1/,
      ],
      [
        bad((j) => {
          j.model.vocab = { a: 0, b: 0 };
        }),
        /model\.vocab\["b"\]: id 0 is also given to "a"/,
      ],
      [
        bad((j) => {
          j.decoder = { type: 'WordPiece' };
        }),
        /decoder\.type: a character tokenizer needs the "Fuse" decoder/,
      ],
      [
        bad((j) => {
          j.post_processor = { type: 'ByteLevel' };
        }),
        /post_processor: a character tokenizer has no post-processor/,
      ],
    ];
    for (const [json, re] of cases) expect(() => tokenizerFromJSON(json), re.source).toThrow(re);
    expect(() => new CharTokenizer(['a', 'a'])).toThrow(/character "a" is given twice/);
    expect(() => new CharTokenizer(['ab'])).toThrow(/is not a single character/);
  });
});
