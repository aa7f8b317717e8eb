// PipelineTokenizer beyond the golden files: which class reads which file, errors that name the
// unsupported component, the Oniguruma → JavaScript regex rewrite, batches with padding, and the
// full encodings of the older classes (BPETokenizer, CharTokenizer) through the same pipeline.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/text/index.js';
import { BPETokenizer } from '../../src/text/bpe.js';
import { CharTokenizer } from '../../src/text/char.js';
import { compileHFRegex, translate } from '../../src/text/hf-regex.js';
import { PipelineTokenizer } from '../../src/text/pipeline.js';
import { TokenizerFormatError } from '../../src/text/tokenizer-json.js';
import { loadTokenizer, tokenizerFromJSON } from '../../src/text/tokenizer.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'text');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, `${name}-tokenizer.json`), 'utf8'));

describe('PipelineTokenizer', () => {
  it('reads WordPiece, SentencePiece-style and Split+ByteLevel files; GPT-2-style files stay BPETokenizer', () => {
    for (const name of ['wordpiece-uncased', 'spm-legacy', 'spm-metaspace', 'qwen2', 'llama3']) expect(tokenizerFromJSON(fixture(name)), name).toBeInstanceOf(PipelineTokenizer);
    expect(tokenizerFromJSON(fixture('bpe1000'))).toBeInstanceOf(BPETokenizer);
    expect(tokenizerFromJSON(fixture('roberta'))).toBeInstanceOf(BPETokenizer);
  });

  it('names the unsupported component and what is supported', () => {
    const base = fixture('wordpiece-uncased');
    const cases: [string, unknown, RegExp][] = [
      ['normalizer', { type: 'Precompiled', precompiled_charsmap: '' }, /^normalizer\.type: unsupported normalizer the string "Precompiled" \(supported: BertNormalizer, .*Sequence\)$/],
      [
        'pre_tokenizer',
        { type: 'Sequence', pretokenizers: [{ type: 'UnicodeScripts' }] },
        /^pre_tokenizer\.pretokenizers\[0\]\.type: unsupported pre-tokenizer the string "UnicodeScripts"/,
      ],
      [
        'decoder',
        { type: 'Nope' },
        /^decoder\.type: unsupported decoder the string "Nope" \(supported: WordPiece, Metaspace, ByteLevel, ByteFallback, Fuse, Strip, Replace, BPEDecoder, CTC, Sequence\)$/,
      ],
      [
        'post_processor',
        { type: 'TemplateProcessing', single: '[CLS] $A [SEP]', special_tokens: {} },
        /^post_processor\.single\[0\]: "\[CLS\]" is not in post_processor\.special_tokens$/,
      ],
      [
        'model',
        { type: 'Unigram', vocab: [] },
        /^model\.type: unsupported model the string "Unigram" \(supported: WordPiece, BPE, WordLevel; Unigram models, as in T5 and ALBERT, are not\)$/,
      ],
      [
        'pre_tokenizer',
        { type: 'Split', pattern: { Regex: '(?>a)' }, behavior: 'Isolated', invert: false },
        /^pre_tokenizer\.pattern\.Regex: an atomic group in the regex "\(\?>a\)" is not supported$/,
      ],
      ['pre_tokenizer', { type: 'Metaspace', replacement: '▁', add_prefix_space: false, prepend_scheme: 'always' }, /add_prefix_space false does not match/],
    ];
    for (const [key, value, re] of cases) {
      const json = { ...base, [key]: value };
      expect(() => tokenizerFromJSON(json), key).toThrow(TokenizerFormatError);
      expect(() => tokenizerFromJSON(json), key).toThrow(re);
    }
  });

  it("rewrites Oniguruma's \\s, \\d, \\w and (?i:...) to what they mean there", () => {
    expect(translate("(?i:'s|'t)|\\s+(?!\\S)|[^\\s\\p{L}]", 'x')).toBe("(?:'[sSſ]|'[tT])|\\p{White_Space}+(?!\\P{White_Space})|[^\\p{White_Space}\\p{L}]");
    expect(translate('\\d+|\\w', 'x')).toBe('\\p{Nd}+|[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]');
    // U+0085 is White_Space (JavaScript's \s leaves it out), U+FEFF is not (JavaScript's \s has it).
    const ws = compileHFRegex('\\s+', 'x');
    expect('a\u0085b'.replace(ws, '_')).toBe('a_b');
    expect('a\ufeffb'.replace(ws, '_')).toBe('a\ufeffb');
    expect("it'S".match(compileHFRegex("(?i:'s)", 'x'))).toEqual(["'S"]);
  });

  it('decodes its own encodings back to the text (byte fallback and byte-level files)', () => {
    const texts = ['Hello, world!', '  spaced  out ', 'naïve café 日本語 😀', 'tab\tand\nnewline', '<0x41> literal'];
    for (const name of ['spm-metaspace', 'qwen2', 'llama3']) {
      const tok = tokenizerFromJSON(fixture(name));
      // tokenizers' Metaspace decoder drops every "▁" of the first token, so leading spaces are lost there.
      for (const t of texts) if (name !== 'spm-metaspace' || !t.startsWith(' ')) expect(tok.decode(tok.encode(t), { skipSpecialTokens: true }), `${name} ${JSON.stringify(t)}`).toBe(t);
    }
    // The legacy form strips the one space its Prepend normalizer added, so leading spaces survive too.
    const legacy = tokenizerFromJSON(fixture('spm-legacy'));
    for (const t of texts) expect(legacy.decode(legacy.encode(t), { skipSpecialTokens: true }), JSON.stringify(t)).toBe(t);
  });

  it('encodes a batch of pairs with the same length, padding masked out', async () => {
    const tok = await loadTokenizer(join(FIXTURES, 'wordpiece-uncased-tokenizer.json'));
    const batch = tok.encodeBatch(
      [
        ['Who wrote it?', 'Ada wrote it in 1843.'],
        ['Why?', 'Because.'],
      ],
      { padding: true },
    );
    const pad = tok.tokenToId('[PAD]')!;
    expect(batch[0].ids.length).toBe(batch[1].ids.length);
    const n1 = batch[1].attentionMask.filter((x) => x === 1).length;
    expect(batch[1].ids.slice(n1).every((id) => id === pad)).toBe(true);
    expect(batch[1].attentionMask.slice(n1).every((m) => m === 0)).toBe(true);
    expect(batch[1].sequenceIds.slice(n1).every((s) => s === null)).toBe(true);
    expect(batch[1].ids.slice(0, n1)).toEqual(tok.encodePair('Why?', 'Because.').ids);
    // Padded to a fixed length and a multiple.
    const fixed = tok.encodeBatch(['a b c'], { padding: { length: 10 } });
    expect(fixed[0].ids.length).toBe(10);
    expect(tok.encodeBatch(['a b c'], { padding: { padToMultipleOf: 8 } })[0].ids.length).toBe(8);
    expect(() => tok.encodeBatch(['x'], { padding: { padToken: '<none>' } })).toThrow(/no pad token/);
  });

  it('question answering: windows over the context keep the question, and offsets find the answer in it', async () => {
    const tok = await loadTokenizer(join(FIXTURES, 'wordpiece-uncased-tokenizer.json'));
    const context = 'The first computer program was written by Ada Lovelace in 1843, for the Analytical Engine. '.repeat(3);
    const e = tok.encodePair('Who wrote it?', context, { truncation: { maxLength: 40, strategy: 'only_second', stride: 10 } });
    const windows = [e, ...e.overflowing];
    expect(windows.length).toBeGreaterThan(2);
    for (const w of windows) {
      expect(w.ids.length).toBeLessThanOrEqual(40);
      expect(w.tokens[0]).toBe('[CLS]');
      // Context tokens map back to the context text.
      w.sequenceIds.forEach((s, i) => {
        if (s !== 1) return;
        const [a, b] = w.offsets[i];
        expect(tok.encode(context.slice(a, b), { addSpecialTokens: false }).length).toBeGreaterThan(0);
      });
    }
    // Consecutive windows overlap by the stride.
    const ctx = (w: typeof e) => w.ids.filter((_, i) => w.sequenceIds[i] === 1);
    expect(ctx(windows[1]).slice(0, 10)).toEqual(ctx(windows[0]).slice(-10));
    expect(() => tok.encodePair('q', context, { truncation: { maxLength: 8, strategy: 'only_second', stride: 8 } })).toThrow(/stride \(8\) must be smaller/);
  });

  it('gives BPETokenizer and CharTokenizer full encodings through the same pipeline', () => {
    const bpe = tokenizerFromJSON(fixture('bpe1000'));
    const text = 'Hello world, 😀 here';
    const e = bpe.encodeFull(text);
    expect(e.ids).toEqual(bpe.encode(text));
    // The byte tokens of one character all span the whole character, as in tokenizers.
    const spans = [...new Set(e.offsets.map(([a, b]) => `${a},${b}`))].map((x) => x.split(',').map(Number));
    expect(spans.map(([a, b]) => text.slice(a, b)).join('')).toBe(text);
    const chars = CharTokenizer.fromText('abc ');
    const c = chars.encodeFull('ab c');
    expect(c.ids).toEqual(chars.encode('ab c'));
    expect(c.offsets).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
  });
});
