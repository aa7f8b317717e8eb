// Byte-level BPE: training against a naive reference trainer (full recount per merge), Hugging
// Face compatibility of the files we write (read back by tokenizers.js), added tokens and
// templates, save/load, malformed files, and speed on the 1.1 MB Shakespeare corpus.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { BPETokenizer } from '../../src/text/bpe.js';
import { CharTokenizer } from '../../src/text/char.js';
import { Tokenizer, loadTokenizer, tokenizerFromJSON } from '../../src/text/tokenizer.js';
import { TokenizerFormatError } from '../../src/text/tokenizer-json.js';
import { tempDir } from '../helpers/tmp.js';
import { mulberry32, randomText, shakespeare, tinyShakespeare } from './util.js';

// ---- An independent reference: GPT-2's byte table and split regex written out here, and a trainer
// that recounts every pair of every word before each merge.

function byteTable(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const table: string[] = [];
  bs.forEach((b, i) => {
    table[b] = String.fromCharCode(cs[i]);
  });
  return table;
}
const TABLE = byteTable();
const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** Merges (as token pairs) that Hugging Face's BpeTrainer would learn, by brute force. */
function naiveTrain(text: string, vocabSize: number, specials: string[]): [string, string][] {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(SPLIT)) {
    const w = Array.from(new TextEncoder().encode(m[0]), (b) => TABLE[b]).join('');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const tokens = [...specials, ...[...TABLE].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0))];
  const id = new Map(tokens.map((t, i) => [t, i]));
  const words = [...counts].map(([w, c]) => ({ s: Array.from(w, (ch) => id.get(ch)!), c }));
  const merges: [string, string][] = [];
  while (tokens.length < vocabSize) {
    const pc = new Map<string, number>();
    for (const { s, c } of words) for (let i = 0; i + 1 < s.length; i++) pc.set(`${s[i]},${s[i + 1]}`, (pc.get(`${s[i]},${s[i + 1]}`) ?? 0) + c);
    let best: [number, number] | null = null,
      bestCount = 0;
    for (const [k, c] of pc) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (!best) break;
    const [a, b] = best;
    const t = tokens[a] + tokens[b];
    let nid = id.get(t);
    if (nid === undefined) {
      nid = tokens.length;
      tokens.push(t);
      id.set(t, nid);
    }
    merges.push([tokens[a], tokens[b]]);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.s.length; ) {
        if (w.s[i] === a && w.s[i + 1] === b) {
          out.push(nid);
          i += 2;
        } else out.push(w.s[i++]);
      }
      w.s = out;
    }
  }
  return merges;
}

const EOT = '<|endoftext|>';
let sk2k: BPETokenizer; // 2000 tokens trained on all of Shakespeare, with <|endoftext|>
let trainMs = 0;
beforeAll(() => {
  const t0 = performance.now();
  sk2k = BPETokenizer.train(tinyShakespeare(), { vocabSize: 2000, specialTokens: [EOT] });
  trainMs = performance.now() - t0;
});

const hfOf = (tok: Tokenizer) => new HFTokenizer(tok.toJSON(), { clean_up_tokenization_spaces: false });

describe('BPE training', () => {
  it('learns the merges of a brute-force reference trainer, ties to the smallest (left id, right id)', () => {
    const corpus = tinyShakespeare().slice(0, 20000) + randomText(mulberry32(5), 300, {});
    const tok = BPETokenizer.train(corpus, { vocabSize: 256 + 400, specialTokens: [] });
    expect(tok.vocabSize).toBe(656);
    expect(tok.merges).toEqual(naiveTrain(corpus, 656, []));
    const withSpecials = BPETokenizer.train(corpus, { vocabSize: 256 + 2 + 150, specialTokens: [EOT, '<pad>'] });
    expect(withSpecials.merges).toEqual(naiveTrain(corpus, 408, [EOT, '<pad>']));
    expect(withSpecials.tokenToId(EOT)).toBe(0);
    expect(withSpecials.tokenToId('<pad>')).toBe(1);
    expect(withSpecials.tokenToId('!')).toBe(2); // then the byte symbols in code-point order
    expect(withSpecials.tokenToId('Ġ')).toBe(2 + 188 + 32);
  });

  it('breaks count ties by pair ids: "abcd" merges a+b, then c+d, then ab+cd', () => {
    const tok = BPETokenizer.train('abcd', { vocabSize: 259 });
    expect(tok.merges).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['ab', 'cd'],
    ]);
    expect(tok.encode('abcd')).toEqual([258]);
    expect(tok.encode('abc d')).toEqual([256, 66, 220, 67]);
  });

  it('gives the requested vocabulary size on Shakespeare, deterministically', () => {
    expect(sk2k.vocabSize).toBe(2000);
    expect(sk2k.merges.length).toBe(2000 - 257);
    expect(sk2k.specialTokens).toEqual({ [EOT]: 0 });
    expect(sk2k.merges.slice(0, 4)).toEqual([
      ['Ġ', 't'],
      ['h', 'e'],
      ['Ġ', 'a'],
      ['o', 'u'],
    ]);
    const again = BPETokenizer.train(tinyShakespeare(), { vocabSize: 2000, specialTokens: [EOT] });
    expect(again.toJSONString()).toBe(sk2k.toJSONString());
    console.log(`BPE training: 2000-token vocabulary on ${tinyShakespeare().length} chars in ${trainMs.toFixed(0)} ms`);
  });

  it('stops at minFrequency, rejects too small a vocabulary, and never learns special tokens', () => {
    const text = shakespeare(200, 4).join('');
    const few = BPETokenizer.train(text, { vocabSize: 5000, minFrequency: 50 });
    expect(few.vocabSize).toBeLessThan(5000);
    expect(few.merges).toEqual(naiveTrain(text, 256 + few.merges.length, []));
    expect(BPETokenizer.train(text, { vocabSize: 5000, minFrequency: 1e9 }).vocabSize).toBe(256);
    expect(() => BPETokenizer.train(text, { vocabSize: 200 })).toThrow(/vocabSize must be an integer ≥ 256/);
    expect(() => BPETokenizer.train(text, { vocabSize: 256, specialTokens: [EOT] })).toThrow(/≥ 257 \(256 byte symbols \+ 1 special/);
    const docs = Array.from({ length: 50 }, (_, i) => `doc ${i} text${EOT}`).join('');
    const tok = BPETokenizer.train(docs, { vocabSize: 320, specialTokens: [EOT] });
    for (const [a, b] of tok.merges) expect(a + b).not.toMatch(/endoftext|<\||\|>/);
    expect(tok.encode(`doc 7 text${EOT}`).at(-1)).toBe(0);
  });
});

describe('BPE encode / decode', () => {
  it('round-trips arbitrary unicode with a trained vocabulary (bytes never seen in training too)', () => {
    const rng = mulberry32(21);
    for (let i = 0; i < 200; i++) {
      const t = randomText(rng, 1 + Math.floor(rng() * 60), { specials: [EOT] });
      expect(sk2k.decode(sk2k.encode(t)), JSON.stringify(t)).toBe(t);
    }
    expect(sk2k.decode(sk2k.encode(tinyShakespeare()))).toBe(tinyShakespeare());
  });

  it('matches tokenizers.js on the tokenizer.json we write (prefix space and no-regex variants too)', () => {
    const rng = mulberry32(8);
    const texts = [...shakespeare(50, 7), `First${EOT}Second ${EOT} third`, ''];
    for (let i = 0; i < 40; i++) texts.push(randomText(rng, 50, { jsWhitespaceSafe: true, specials: [EOT] }));
    const hf = hfOf(sk2k);
    for (const t of texts) expect(sk2k.encode(t), JSON.stringify(t)).toEqual(hf.encode(t).ids);
    const big = tinyShakespeare().slice(0, 300000);
    expect(sk2k.encode(big)).toEqual(hf.encode(big).ids);
    const small = tinyShakespeare().slice(0, 50000);
    for (const opts of [{ addPrefixSpace: true }, { useRegex: false }]) {
      const tok = BPETokenizer.train(small, { vocabSize: 600, specialTokens: [EOT], ...opts });
      const h = hfOf(tok);
      for (const t of texts.slice(0, 60)) expect(tok.encode(t), `${JSON.stringify(opts)} ${JSON.stringify(t)}`).toEqual(h.encode(t).ids);
    }
  });

  it('splits special tokens out, skips them on request, and reads them as text in encodeOrdinary', () => {
    const ids = sk2k.encode(`To be${EOT}or not`);
    expect(ids.filter((i) => i === 0).length).toBe(1);
    expect(sk2k.decode(ids)).toBe(`To be${EOT}or not`);
    expect(sk2k.decode(ids, { skipSpecialTokens: true })).toBe('To beor not');
    const ord = sk2k.encodeOrdinary(`To be${EOT}or not`);
    expect(ord).not.toContain(0);
    expect(sk2k.decode(ord)).toBe(`To be${EOT}or not`);
    expect(sk2k.encode(EOT + EOT)).toEqual([0, 0]);
    // Contents with regex syntax characters, '-' and '/' are matched literally; the longest match wins.
    const specials = ['<|im-start|>', '[a.b*c]', '{x}', '$1/2^', '(?:', '<|im'];
    const tok = BPETokenizer.train(shakespeare(100, 1).join(''), { vocabSize: 400, specialTokens: specials });
    const hf = hfOf(tok);
    for (const t of ['x<|im-start|>y[a.b*c] {x}$1/2^(?:', '<|im-star', 'a.b*c [a.bbc] <|im<|im-start|>']) {
      expect(tok.encode(t), t).toEqual(hf.encode(t).ids);
      expect(tok.decode(tok.encode(t))).toBe(t);
    }
    expect(tok.encode('<|im-start|><|im')).toEqual([0, 5]);
    expect(() => sk2k.encode(42 as unknown as string)).toThrow(/expected a string/);
  });
});

/** A tiny byte-level BPE tokenizer.json over a, b, c (plus what `extra` adds). */
function tinyJson(model: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab: { a: 0, b: 1, c: 2, bc: 3, abc: 4, '<unk>': 5, ab: 6, Ġ: 7 }, merges: ['b c', 'a b'], ...model },
    ...top,
  };
}

describe('tokenizer.json features', () => {
  it('reads merges in both the "a b" and the ["a", "b"] form', () => {
    const json = sk2k.toJSON() as { model: { merges: [string, string][] } };
    const strings = { ...json, model: { ...json.model, merges: json.model.merges.map(([a, b]) => `${a} ${b}`) } };
    const tok = tokenizerFromJSON(strings);
    const text = shakespeare(30, 9).join('');
    expect(tok.encode(text)).toEqual(sk2k.encode(text));
  });

  it('applies merges by rank, ignore_merges, and unk / fuse_unk / dropped bytes as Hugging Face does', () => {
    // "abc": b+c has the lower rank, so a + bc; "ab" alone merges a+b.
    expect(tokenizerFromJSON(tinyJson()).encode('abc ab')).toEqual([0, 3, 7, 6]);
    // ignore_merges: a pre-token that is itself in the vocabulary is taken whole.
    const ignore = tokenizerFromJSON(tinyJson({ ignore_merges: true }));
    expect(ignore.encode('abc')).toEqual([4]);
    expect(ignore.encode('abc')).toEqual(new HFTokenizer(tinyJson({ ignore_merges: true }), {}).encode('abc').ids);
    // Bytes without a token: dropped without unk_token, unk each, or one unk per run with fuse_unk.
    expect(tokenizerFromJSON(tinyJson()).encode('adda')).toEqual([0, 0]);
    expect(tokenizerFromJSON(tinyJson({ unk_token: '<unk>' })).encode('adda')).toEqual([0, 5, 5, 0]);
    expect(tokenizerFromJSON(tinyJson({ unk_token: '<unk>', fuse_unk: true })).encode('adda')).toEqual([0, 5, 0]);
    expect(() => tokenizerFromJSON(tinyJson({ unk_token: '<missing>' })).encode('d')).toThrow(/unk token "<missing>" is not in the vocabulary/);
  });

  it('adds the TemplateProcessing tokens unless addSpecialTokens is false, like tokenizers.js', () => {
    const json = sk2k.toJSON() as Record<string, unknown>;
    json.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: EOT, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [EOT]: { id: EOT, ids: [0], tokens: [EOT] } },
    };
    const tok = tokenizerFromJSON(json);
    const hf = new HFTokenizer(json, {});
    const text = 'Thou art';
    expect(tok.encode(text)).toEqual([0, ...sk2k.encode(text)]);
    expect(tok.encode(text)).toEqual(hf.encode(text).ids);
    expect(tok.encode(text, { addSpecialTokens: false })).toEqual(hf.encode(text, { add_special_tokens: false }).ids);
    expect(tok.encode(text, { addSpecialTokens: false })).toEqual(sk2k.encode(text));
    // It survives a save / load round trip unchanged.
    expect(tokenizerFromJSON(tok.toJSON()).encode(text)).toEqual(tok.encode(text));
  });

  it('honours lstrip / rstrip / single_word / non-special added tokens', () => {
    const json = sk2k.toJSON() as { added_tokens: object[] };
    json.added_tokens = [
      ...json.added_tokens,
      { id: 2000, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
      { id: 2001, content: '[R]', single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
      { id: 2002, content: 'thee', single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
    ];
    const tok = tokenizerFromJSON(json);
    expect(tok.vocabSize).toBe(2003);
    const hf = new HFTokenizer(json, {});
    for (const t of ['I love  <mask> you', 'x <mask>', '<mask>  <mask>', 'a [R]   b', '[R]\n\nnext', 'both  <mask>[R]  end']) {
      expect(tok.encode(t), JSON.stringify(t)).toEqual(hf.encode(t).ids);
    }
    expect(tok.decode(tok.encode('I love  <mask> you'))).toBe('I love<mask> you');
    // single_word (which tokenizers.js does not implement): no word character on either side.
    expect(tok.encode('to thee, thee')).toEqual([...sk2k.encode('to '), 2002, ...sk2k.encode(', '), 2002]);
    expect(tok.encode('theeward')).toEqual(sk2k.encode('theeward'));
    expect(tok.encode('_thee')).toEqual(sk2k.encode('_thee'));
    expect(tok.specialTokens).toEqual({ [EOT]: 0, '<mask>': 2000, '[R]': 2001 });
    expect(tok.decode(tok.encode('a thee <mask>'), { skipSpecialTokens: true })).toBe('a thee');
  });
});

describe('files', () => {
  it('save → load gives the same tokenizer (tokenizer.json, atomically, file or directory path)', async () => {
    const dir = await tempDir('nabla-bpe-');
    await sk2k.save(dir);
    await sk2k.save(join(dir, 'named.json'));
    const text = tinyShakespeare().slice(200000, 260000) + EOT + randomText(mulberry32(2), 100, { specials: [EOT] });
    for (const p of [dir, join(dir, 'tokenizer.json'), join(dir, 'named.json')]) {
      const back = await Tokenizer.fromFile(p);
      expect(back).toBeInstanceOf(BPETokenizer);
      expect(back.encode(text)).toEqual(sk2k.encode(text));
      expect(back.vocabSize).toBe(2000);
      expect(back.specialTokens).toEqual(sk2k.specialTokens);
    }
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    expect(json.model.vocab[EOT]).toBe(0);
    expect(json.added_tokens).toEqual([{ id: 0, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }]);
    expect(json.model.merges.length).toBe(1743);
    expect(json.normalizer).toBeNull();
    expect(json.post_processor.type).toBe('ByteLevel');
  });

  it('rejects malformed files with what is wrong and where', async () => {
    const good = tinyJson();
    const bad = (patch: (j: any) => void) => {
      const j = structuredClone(good) as any;
      patch(j);
      return j;
    };
    const cases: [object, RegExp][] = [
      [
        bad((j) => {
          delete j.model;
        }),
        /^model: expected an object, got/,
      ],
      [
        bad((j) => {
          j.model.type = 'Unigram';
        }),
        /model\.type: unsupported model the string "Unigram"/,
      ],
      [
        bad((j) => {
          j.model.vocab.b = -1;
        }),
        /model\.vocab\["b"\]: expected a non-negative integer token id, got number -1/,
      ],
      [
        bad((j) => {
          j.model.vocab.b = '1';
        }),
        /model\.vocab\["b"\]: expected a non-negative integer token id, got the string "1"/,
      ],
      [
        bad((j) => {
          j.model.vocab.b = 0;
        }),
        /model\.vocab: tokens "a" and "b" share id 0/,
      ],
      [
        bad((j) => {
          j.model.merges = ['b c d'];
        }),
        /model\.merges\[0\]: expected "left right"/,
      ],
      [
        bad((j) => {
          j.model.merges = ['b c', ['a']];
        }),
        /model\.merges\[1\]: expected a pair \[left, right\], got 1 elements/,
      ],
      [
        bad((j) => {
          j.model.merges = ['b c', 'a z'];
        }),
        /model\.merges\[1\]: token "z" is not in the vocabulary/,
      ],
      [
        bad((j) => {
          j.model.merges = ['c a'];
        }),
        /model\.merges\[0\]: the merged token "ca" is not in the vocabulary/,
      ],
      [
        bad((j) => {
          j.model.merges = 'b c';
        }),
        /model\.merges: expected an array, got the string/,
      ],
      [
        bad((j) => {
          j.pre_tokenizer = { type: 'UnicodeScripts' };
        }),
        /pre_tokenizer\.type: unsupported pre-tokenizer the string "UnicodeScripts" \(supported: BertPreTokenizer, .*Metaspace, Split, ByteLevel, Sequence\)/,
      ],
      [
        bad((j) => {
          j.decoder = { type: 'Nope' };
        }),
        /decoder\.type: unsupported decoder the string "Nope" \(supported: WordPiece, Metaspace, ByteLevel/,
      ],
      [
        bad((j) => {
          j.normalizer = { type: 'Precompiled' };
        }),
        /normalizer\.type: unsupported normalizer the string "Precompiled" \(supported: BertNormalizer, Lowercase, NFC/,
      ],
      [
        bad((j) => {
          j.model.dropout = 0.1;
        }),
        /model\.dropout: BPE dropout is not supported/,
      ],
      [
        bad((j) => {
          j.model.type = 'Unigram';
        }),
        /model\.type: unsupported model the string "Unigram" \(supported: WordPiece, BPE, WordLevel/,
      ],
      [
        bad((j) => {
          j.pre_tokenizer = { type: 'Split', pattern: { Regex: 'a++' }, behavior: 'Isolated', invert: false };
        }),
        /pre_tokenizer\.pattern\.Regex: a possessive quantifier in the regex "a\+\+" is not supported/,
      ],
      [
        bad((j) => {
          j.added_tokens = [{ content: 'x' }];
        }),
        /added_tokens\[0\]\.id: expected a non-negative integer token id, got undefined/,
      ],
      [
        bad((j) => {
          j.added_tokens = [{ id: 9, content: '' }];
        }),
        /added_tokens\[0\]\.content: an added token cannot be empty/,
      ],
      [
        bad((j) => {
          j.added_tokens = [{ id: 9, content: 'x', lstrip: 'yes' }];
        }),
        /added_tokens\[0\]\.lstrip: expected true or false/,
      ],
      [
        bad((j) => {
          j.post_processor = { type: 'BertProcessing' };
        }),
        /post_processor\.sep: expected an array, got undefined/,
      ],
      [
        bad((j) => {
          j.post_processor = { type: 'Nope' };
        }),
        /post_processor\.type: unsupported post-processor the string "Nope" \(supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence\)/,
      ],
      [
        bad((j) => {
          j.post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: 'X' } }, { Sequence: { id: 'A' } }], special_tokens: {} };
        }),
        /post_processor\.single\[0\]\.SpecialToken\.id: "X" is not in post_processor\.special_tokens/,
      ],
      [[1, 2], /tokenizer\.json: expected an object, got an array/],
    ];
    for (const [json, re] of cases) {
      expect(() => tokenizerFromJSON(json), re.source).toThrow(TokenizerFormatError);
      expect(() => tokenizerFromJSON(json), re.source).toThrow(re);
    }
    // Through the file loader, the message starts with the path.
    const dir = await tempDir('nabla-badtok-');
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(cases[7][0]));
    await expect(Tokenizer.fromFile(join(dir, 'tokenizer.json'))).rejects.toThrow(`${join(dir, 'tokenizer.json')}: model.merges[1]: token "z" is not in the vocabulary`);
    await writeFile(join(dir, 'broken.json'), '{"model": {');
    await expect(Tokenizer.fromFile(join(dir, 'broken.json'))).rejects.toThrow(/broken\.json: invalid JSON/);
    await expect(Tokenizer.fromFile(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: no such file/);
    await expect(loadTokenizer(join(dir, 'sub'))).rejects.toThrow(/no such file/);
    await mkdir(join(dir, 'empty'));
    await expect(loadTokenizer(join(dir, 'empty'))).rejects.toThrow(/holds neither tokenizer\.json nor vocab\.json \+ merges\.txt/);
    // GPT-2 style files.
    const gdir = join(dir, 'gpt2');
    await mkdir(gdir);
    await writeFile(join(gdir, 'vocab.json'), JSON.stringify({ a: 0, b: 1, ab: 2 }));
    await expect(loadTokenizer(gdir)).rejects.toThrow(/needs merges\.txt beside it/);
    await writeFile(join(gdir, 'merges.txt'), '#version: 0.2\na b\nab\n');
    await expect(loadTokenizer(gdir)).rejects.toThrow(/merges\.txt line 3: expected two tokens separated by one space, got the string "ab"/);
    await writeFile(join(gdir, 'merges.txt'), '#version: 0.2\na b\nb a\n');
    await expect(loadTokenizer(gdir)).rejects.toThrow(/merges\.txt line 3: the merged token "ba" is not in the vocabulary/);
    await writeFile(join(gdir, 'merges.txt'), '#version: 0.2\r\na b\r\n');
    expect((await loadTokenizer(gdir)).encode('aab')).toEqual([0, 2]);
    await writeFile(join(gdir, 'vocab.json'), JSON.stringify({ a: 0, b: 'one' }));
    await expect(loadTokenizer(gdir)).rejects.toThrow(/vocab\.json\["b"\]: expected a non-negative integer token id/);
  });
});

describe('speed (printed, not asserted)', () => {
  it('encodes the 1.1 MB corpus with the trained 2k vocabulary', () => {
    const text = tinyShakespeare();
    const fresh = BPETokenizer.fromJSON(sk2k.toJSON());
    const t0 = performance.now();
    const ids = fresh.encode(text);
    const ms = performance.now() - t0;
    expect(fresh.decode(ids)).toBe(text);
    console.log(`BPE 2k: ${text.length} chars → ${ids.length} tokens in ${ms.toFixed(0)} ms (${(text.length / ids.length).toFixed(2)} chars/token)`);
    // A character tokenizer of the same text, for scale.
    const chars = CharTokenizer.fromText(text);
    const t1 = performance.now();
    expect(chars.encode(text).length).toBe(text.length);
    console.log(`char: ${text.length} chars encoded in ${(performance.now() - t1).toFixed(0)} ms`);
  });
});
