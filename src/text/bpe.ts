// Byte-level BPE as in GPT-2 and Hugging Face `tokenizers` (models/bpe + pre_tokenizers/byte_level):
// text → added tokens split out → GPT-2 regex pre-tokens → UTF-8 bytes as byte-level characters →
// merges applied lowest rank first (leftmost on ties) → ids. Decoding maps tokens back to bytes and
// reads them as UTF-8 (invalid sequences become U+FFFD). Each pre-token's ids are cached.

import { BYTE_ALPHABET, BYTE_TO_CHAR, GPT2_SPLIT_PATTERN, byteLevelTokenBytes, toByteLevel, utf8Decoder, utf8Encoder } from './bytelevel.js';
import { type Json, type JsonObject, TokenizerFormatError, arrayAt, describe, fail, idAt, isObject, objectAt, optBool, optString, stringAt } from './tokenizer-json.js';
import { Tokenizer, type AddedToken, type PostProcessor, makeAddedToken, parseAddedTokens, parsePostProcessor } from './tokenizer.js';
import { trainBPE } from './bpe-trainer.js';
import { PAIR, mergeSymbols } from './bpe-merge.js';

/** Options of the ByteLevel pre-tokenizer. */
export interface ByteLevelOptions {
  /** Prepend a space to each piece of text that does not start with one (GPT-2: false). */
  addPrefixSpace?: boolean;
  /** Split with GPT-2's regex before BPE (default true). */
  useRegex?: boolean;
}

/**
 * Options of `BPETokenizer.train` (Hugging Face's BpeTrainer settings), with the byte-level ones.
 */
export interface BPETrainOptions extends ByteLevelOptions {
  /** Size of the vocabulary, counting the 256 byte symbols and the special tokens. */
  vocabSize: number;
  /** Special tokens, given ids 0, 1, ... in this order and never merged (e.g. ['<|endoftext|>']). */
  specialTokens?: string[];
  /** Stop merging when the most frequent pair occurs fewer times than this (default 0). */
  minFrequency?: number;
}

/** Options of `BPETokenizer.fromVocabMerges`: the special tokens, with the byte-level ones. */
export interface FromVocabMergesOptions extends ByteLevelOptions {
  /**
   * Tokens of the vocabulary to treat as special added tokens. Default: '<|endoftext|>' when the
   * vocabulary has it (GPT-2). A token not in the vocabulary gets the next free id.
   */
  specialTokens?: string[];
}

/** The BPE model's settings that tokenizer.json carries (besides vocab and merges). */
interface BPEModelOptions {
  unkToken: string | null;
  fuseUnk: boolean;
  ignoreMerges: boolean;
}

const CACHE_LIMIT = 1 << 18;

/**
 * Byte-level BPE tokenizer (GPT-2). Encodings match Hugging Face `tokenizers` for the same
 * tokenizer.json.
 * @example
 *   const tok = BPETokenizer.train(text, { vocabSize: 2000, specialTokens: ['<|endoftext|>'] });
 *   const ids = tok.encode('Hello world');   tok.decode(ids) === 'Hello world'
 */
export class BPETokenizer extends Tokenizer {
  /** Token → id of the BPE model (without added tokens that are not in it). */
  private readonly vocab: Map<string, number>;
  private readonly vocabR: Map<number, string>;
  /** Merges in rank order, as token pairs. */
  readonly merges: readonly (readonly [string, string])[];
  private readonly mergeIndex = new Map<number, number>(); // pair key → rank (last duplicate wins, as in HF)
  private readonly mergeNew: Int32Array; // rank → id of the merged token
  private readonly byteIds = new Int32Array(256); // byte → id of its character, −1 if absent
  private readonly opts: BPEModelOptions;
  readonly addPrefixSpace: boolean;
  readonly useRegex: boolean;
  private readonly split = new RegExp(GPT2_SPLIT_PATTERN, 'gu');
  private readonly cache = new Map<string, number[]>();
  private readonly tokenBytes = new Map<string, Uint8Array>(); // token → its bytes (vocabulary and added tokens only)
  private readonly size: number;
  /** The tokenizer.json fields this class keeps as they were (pre_tokenizer extras, decoder). */
  private readonly extra: { preTokenizer: JsonObject; decoder: JsonObject; modelExtra: JsonObject };

  /**
   * A tokenizer from a vocabulary (token → id), merges in rank order and added tokens. Most code
   * uses `train`, `fromVocabMerges` or `Tokenizer.fromFile` instead.
   */
  constructor(
    vocab: Map<string, number> | Record<string, number>,
    merges: readonly (readonly [string, string])[],
    opts: ByteLevelOptions & {
      addedTokens?: AddedToken[];
      postProcessor?: PostProcessor;
      unkToken?: string | null;
      fuseUnk?: boolean;
      ignoreMerges?: boolean;
      extra?: BPETokenizer['extra'];
      mergeWhere?: (rank: number) => string;
    } = {},
  ) {
    super(opts.addedTokens ?? [], opts.postProcessor ?? null);
    this.vocab = vocab instanceof Map ? new Map(vocab) : new Map(Object.entries(vocab));
    this.vocabR = new Map();
    let maxId = this.maxAddedId();
    for (const [tok, id] of this.vocab) {
      if (!Number.isInteger(id) || id < 0 || id >= PAIR) throw new TokenizerFormatError(`model.vocab[${JSON.stringify(tok)}]: expected a token id in [0, 2^26), got ${describe(id)}`);
      const other = this.vocabR.get(id);
      if (other !== undefined) throw new TokenizerFormatError(`model.vocab: tokens ${JSON.stringify(other)} and ${JSON.stringify(tok)} share id ${id}`);
      this.vocabR.set(id, tok);
      if (id > maxId) maxId = id;
    }
    this.size = maxId + 1;
    this.merges = merges.map(([a, b]) => [a, b] as const);
    this.mergeNew = new Int32Array(merges.length);
    merges.forEach(([a, b], rank) => {
      const where = opts.mergeWhere ? opts.mergeWhere(rank) : `model.merges[${rank}]`;
      const ia = this.vocab.get(a),
        ib = this.vocab.get(b),
        ic = this.vocab.get(a + b);
      if (ia === undefined) fail(where, `token ${JSON.stringify(a)} is not in the vocabulary`);
      if (ib === undefined) fail(where, `token ${JSON.stringify(b)} is not in the vocabulary`);
      if (ic === undefined) fail(where, `the merged token ${JSON.stringify(a + b)} is not in the vocabulary`);
      this.mergeIndex.set(ia * PAIR + ib, rank);
      this.mergeNew[rank] = ic;
    });
    for (let b = 0; b < 256; b++) this.byteIds[b] = this.vocab.get(BYTE_TO_CHAR[b]) ?? -1;
    this.addPrefixSpace = opts.addPrefixSpace ?? false;
    this.useRegex = opts.useRegex ?? true;
    this.opts = { unkToken: opts.unkToken ?? null, fuseUnk: opts.fuseUnk ?? false, ignoreMerges: opts.ignoreMerges ?? false };
    this.extra = opts.extra ?? { preTokenizer: { trim_offsets: true }, decoder: { add_prefix_space: true, trim_offsets: true, use_regex: true }, modelExtra: {} };
  }

  get vocabSize(): number {
    return this.size;
  }

  /**
   * Train a byte-level BPE on `text` like Hugging Face's BpeTrainer with a ByteLevel pre-tokenizer:
   * ids 0.. are the special tokens, then the 256 byte symbols in code-point order, then one token
   * per merge. Each step merges the adjacent pair with the highest count over the pre-token words;
   * ties go to the smallest (left id, right id), as in BpeTrainer. Special tokens in `text` are cut
   * out before counting (Hugging Face's trainer would count them as text).
   */
  static train(text: string, opts: BPETrainOptions): BPETokenizer {
    const specials = opts.specialTokens ?? [];
    if (new Set(specials).size !== specials.length) throw new Error('BPETokenizer.train: specialTokens has duplicates');
    const bytesNeeded = specials.length + BYTE_ALPHABET.filter((c) => !specials.includes(c)).length;
    if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < bytesNeeded) {
      throw new Error(`BPETokenizer.train: vocabSize must be an integer ≥ ${bytesNeeded} (256 byte symbols + ${specials.length} special tokens), got ${opts.vocabSize}`);
    }
    // A tokenizer with no merges yet, to split out the special tokens and pre-tokenize exactly as encode does.
    const base = new BPETokenizer(new Map(), [], {
      addPrefixSpace: opts.addPrefixSpace,
      useRegex: opts.useRegex,
      addedTokens: specials.map((content, id) => makeAddedToken({ id, content, special: true })),
    });
    const counts = new Map<string, number>();
    for (const piece of base.splitAddedTokens(text)) {
      if (typeof piece === 'number') continue;
      base.preTokenize(piece, (word) => counts.set(word, (counts.get(word) ?? 0) + 1));
    }
    const byteCounts = new Map<string, number>();
    for (const [w, c] of counts) {
      const bl = toByteLevel(w);
      byteCounts.set(bl, (byteCounts.get(bl) ?? 0) + c);
    }
    const { tokens, merges } = trainBPE(byteCounts, {
      vocabSize: opts.vocabSize,
      minFrequency: opts.minFrequency ?? 0,
      specialTokens: specials,
      alphabet: BYTE_ALPHABET,
    });
    const vocab = new Map(tokens.map((t, i) => [t, i]));
    return new BPETokenizer(
      vocab,
      merges.map(([a, b]) => [tokens[a], tokens[b]] as const),
      {
        addPrefixSpace: opts.addPrefixSpace,
        useRegex: opts.useRegex,
        addedTokens: specials.map((content) => makeAddedToken({ id: vocab.get(content)!, content, special: true })),
        postProcessor: defaultPostProcessor(),
      },
    );
  }

  /**
   * GPT-2's files: vocab.json (token → id) and merges.txt ("#version" line, then "a b" per line).
   * Either may be given as file text or already parsed.
   */
  static fromVocabMerges(vocabJson: string | Record<string, number>, mergesTxt: string | readonly (readonly [string, string])[], opts: FromVocabMergesOptions = {}): BPETokenizer {
    const vocabObj = typeof vocabJson === 'string' ? parseJsonText(vocabJson, 'vocab.json') : vocabJson;
    const vocab = new Map<string, number>();
    for (const [tok, id] of Object.entries(objectAt(vocabObj, 'vocab.json'))) vocab.set(tok, idAt(id, `vocab.json[${JSON.stringify(tok)}]`));
    const parsed = typeof mergesTxt === 'string' ? parseMergesTxt(mergesTxt) : null;
    const merges = parsed ? parsed.merges : (mergesTxt as readonly (readonly [string, string])[]);
    const specials = opts.specialTokens ?? (vocab.has('<|endoftext|>') ? ['<|endoftext|>'] : []);
    let next = 0;
    for (const id of vocab.values()) next = Math.max(next, id + 1);
    const addedTokens = specials.map((content) => makeAddedToken({ id: vocab.get(content) ?? next++, content, special: true, normalized: true }));
    return new BPETokenizer(vocab, merges, {
      addPrefixSpace: opts.addPrefixSpace,
      useRegex: opts.useRegex,
      addedTokens,
      postProcessor: defaultPostProcessor(),
      mergeWhere: parsed ? (rank) => `merges.txt line ${parsed.lines[rank]}` : (rank) => `merges[${rank}]`,
    });
  }

  /** Whether `fromJSON` reads this tokenizer.json: GPT-2's layout (no normalizer, ByteLevel pre-tokenizer and decoder, byte-level BPE). */
  static reads(json: JsonObject): boolean {
    const model = isObject(json.model) ? json.model : {};
    const pre = json.pre_tokenizer;
    const dec = json.decoder;
    return (
      (json.normalizer === undefined || json.normalizer === null) &&
      isObject(pre) &&
      pre.type === 'ByteLevel' &&
      isObject(dec) &&
      dec.type === 'ByteLevel' &&
      !model.byte_fallback &&
      !model.continuing_subword_prefix &&
      !model.end_of_word_suffix &&
      !model.dropout
    );
  }

  /** A tokenizer from a parsed Hugging Face tokenizer.json whose model is BPE. */
  static fromJSON(json: JsonObject): BPETokenizer {
    const model = objectAt(json.model, 'model');
    if (model.type !== undefined && model.type !== 'BPE') fail('model.type', `expected "BPE", got ${describe(model.type)}`);
    if (json.normalizer !== undefined && json.normalizer !== null) {
      fail('normalizer', `unsupported normalizer ${describe(objectAt(json.normalizer, 'normalizer').type)} (only null is supported)`);
    }
    const pre = objectAt(json.pre_tokenizer, 'pre_tokenizer');
    if (pre.type !== 'ByteLevel') fail('pre_tokenizer.type', `unsupported pre-tokenizer ${describe(pre.type)} (a byte-level BPE needs "ByteLevel")`);
    const dec = objectAt(json.decoder, 'decoder');
    if (dec.type !== 'ByteLevel') fail('decoder.type', `unsupported decoder ${describe(dec.type)} (a byte-level BPE needs "ByteLevel")`);

    const vocabObj = objectAt(model.vocab, 'model.vocab');
    const vocab = new Map<string, number>();
    for (const [tok, id] of Object.entries(vocabObj)) vocab.set(tok, idAt(id, `model.vocab[${JSON.stringify(tok)}]`));
    const merges = parseMergesJson(model.merges);
    const dropout = model.dropout;
    if (dropout !== undefined && dropout !== null && dropout !== 0) fail('model.dropout', `BPE dropout is not supported (got ${describe(dropout)})`);
    for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      const v = optString(model, key, 'model');
      if (v) fail(`model.${key}`, `must be empty for a byte-level BPE, got ${describe(v)}`);
    }
    if (optBool(model, 'byte_fallback', 'model', false)) fail('model.byte_fallback', 'byte_fallback is not supported (a byte-level BPE has every byte)');
    const modelExtra: JsonObject = {};
    for (const [k, v] of Object.entries(model)) if (!['type', 'vocab', 'merges', 'unk_token', 'fuse_unk', 'ignore_merges'].includes(k)) modelExtra[k] = v;
    const { type: _p, add_prefix_space: _a, use_regex: _u, ...preExtra } = pre;
    const { type: _d, ...decExtra } = dec;
    return new BPETokenizer(vocab, merges, {
      addPrefixSpace: optBool(pre, 'add_prefix_space', 'pre_tokenizer', false),
      useRegex: optBool(pre, 'use_regex', 'pre_tokenizer', true),
      addedTokens: parseAddedTokens(json.added_tokens),
      postProcessor: parsePostProcessor(json.post_processor),
      unkToken: optString(model, 'unk_token', 'model'),
      fuseUnk: optBool(model, 'fuse_unk', 'model', false),
      ignoreMerges: optBool(model, 'ignore_merges', 'model', false),
      extra: { preTokenizer: preExtra, decoder: decExtra, modelExtra },
    });
  }

  static {
    // tokenizer.json files with a BPE model (and vocab.json + merges.txt) load as BPETokenizer.
    // Other BPE files (a normalizer, Metaspace or Split pre-tokenizers, byte fallback) are PipelineTokenizer's.
    Tokenizer.registerModel('BPE', {
      accepts: (json) => BPETokenizer.reads(json),
      fromJSON: (json) => BPETokenizer.fromJSON(json),
      fromVocabMerges: (vocab, merges) => BPETokenizer.fromVocabMerges(vocab, merges),
    });
  }

  /** Call `emit` on each pre-token of a piece of text (ByteLevel pre-tokenizer, before the byte mapping). */
  preTokenize(piece: string, emit: (word: string) => void): void {
    if (piece.length === 0) return;
    const text = this.addPrefixSpace && !piece.startsWith(' ') ? ' ' + piece : piece;
    if (!this.useRegex) {
      emit(text);
      return;
    }
    const re = this.split;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) emit(m[0]);
  }

  protected encodePiece(piece: string, out: number[]): void {
    if (piece.length === 0) return;
    const text = this.addPrefixSpace && !piece.startsWith(' ') ? ' ' + piece : piece;
    if (!this.useRegex) {
      for (const id of this.encodeWord(text)) out.push(id);
      return;
    }
    const re = this.split;
    re.lastIndex = 0;
    const cache = this.cache;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const word = m[0];
      let ids = cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(word);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(word, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  /** BPE of one pre-token: its bytes as symbols, then merges lowest rank first (HF's Word::merge_all). */
  private encodeWord(word: string): number[] {
    const bytes = utf8Encoder.encode(word);
    if (this.opts.ignoreMerges) {
      const whole = this.vocab.get(toByteLevel(word));
      if (whole !== undefined) return [whole];
    }
    // Initial symbols; bytes without a token become unk (fused if asked) or are dropped, as in HF.
    const sym: number[] = [];
    let pendingUnk = false;
    for (let i = 0; i < bytes.length; i++) {
      const id = this.byteIds[bytes[i]];
      if (id >= 0) {
        if (pendingUnk) {
          sym.push(this.unkId());
          pendingUnk = false;
        }
        sym.push(id);
      } else if (this.opts.unkToken !== null) {
        if (pendingUnk && !this.opts.fuseUnk) sym.push(this.unkId());
        pendingUnk = true;
      }
    }
    if (pendingUnk) sym.push(this.unkId());
    return mergeSymbols(sym, this.mergeIndex, this.mergeNew);
  }

  private unkId(): number {
    const unk = this.opts.unkToken!;
    const id = this.vocab.get(unk);
    if (id === undefined) throw new Error(`BPETokenizer.encode: the unk token ${JSON.stringify(unk)} is not in the vocabulary`);
    return id;
  }

  protected modelTokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }
  protected modelIdToToken(id: number): string | undefined {
    return this.vocabR.get(id);
  }

  /** ByteLevel decoder: tokens → bytes → UTF-8, invalid sequences as U+FFFD. */
  protected decodeTokens(tokens: string[]): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const t of tokens) {
      let b = this.tokenBytes.get(t);
      if (b === undefined) this.tokenBytes.set(t, (b = byteLevelTokenBytes(t)));
      parts.push(b);
      total += b.length;
    }
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return utf8Decoder.decode(all);
  }

  protected vocabEntries(): [string, number][] {
    return [...this.vocab].sort((a, b) => a[1] - b[1]);
  }

  protected pipelineJson(vocab: Json): JsonObject {
    return {
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, ...this.extra.preTokenizer, use_regex: this.useRegex },
      post_processor: this.postProcessor.json,
      decoder: { type: 'ByteLevel', ...this.extra.decoder },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: this.opts.unkToken,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: this.opts.fuseUnk,
        byte_fallback: false,
        ignore_merges: this.opts.ignoreMerges,
        ...this.extra.modelExtra,
        vocab,
        merges: this.merges.map(([a, b]) => [a, b]),
      },
    };
  }
}

/** GPT-2's post-processor: ByteLevel (it only trims offsets; no tokens are added). */
function defaultPostProcessor(): PostProcessor {
  return parsePostProcessor({ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true });
}

function parseJsonText(text: string, where: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new TokenizerFormatError(`${where}: invalid JSON (${(e as Error).message})`);
  }
}

/** merges.txt: an optional "#version" first line, then one "left right" pair per line (and each pair's line number). */
export function parseMergesTxt(text: string): { merges: [string, string][]; lines: number[] } {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const out: [string, string][] = [];
  const at: number[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('#version')) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      fail(`merges.txt line ${i + 1}`, `expected two tokens separated by one space, got ${describe(line)}`);
    }
    out.push([parts[0], parts[1]]);
    at.push(i + 1);
  });
  return { merges: out, lines: at };
}

/** model.merges of tokenizer.json: "a b" strings (tokenizers < 0.20) or [a, b] pairs. */
function parseMergesJson(v: Json | undefined): [string, string][] {
  return arrayAt(v ?? [], 'model.merges').map((m, i): [string, string] => {
    const where = `model.merges[${i}]`;
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2 || !parts[0] || !parts[1]) fail(where, `expected "left right" (two tokens, one space), got ${describe(m)}`);
      return [parts[0], parts[1]];
    }
    const pair = arrayAt(m, where);
    if (pair.length !== 2) fail(where, `expected a pair [left, right], got ${pair.length} elements`);
    return [stringAt(pair[0], `${where}[0]`), stringAt(pair[1], `${where}[1]`)];
  });
}
