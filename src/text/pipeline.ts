// Any Hugging Face tokenizer.json, run as `tokenizers` runs it (tokenizer/mod.rs): added tokens split
// out of the raw text → normalizer on the pieces between them → added tokens marked "normalized"
// split out of the normalized pieces → pre-tokenizer → model on each word → post-processor; decoding
// runs the decoder over the token strings. Each step keeps alignments to the input, so encodings
// carry offsets. This reads BERT's WordPiece files, SentencePiece-style BPE (Llama 2, TinyLlama,
// Mistral: Metaspace or Prepend+Replace, byte fallback) and byte-level BPE with a Split regex
// (Qwen2, Llama 3, SmolLM2); GPT-2-style files load as BPETokenizer, which also trains.

import { type Encoding, emptyEncoding, truncatePair } from './encoding.js';
import { type Decoder, parseDecoder } from './decoders.js';
import { type Model, parseModel } from './models.js';
import { NormalizedString } from './normalized.js';
import { type Normalizer, parseNormalizer } from './normalizers.js';
import { type PreTokenizer, parsePreTokenizer } from './pre-tokenizers.js';
import type { Json, JsonObject } from './tokenizer-json.js';
import { AddedTokenMatcher, type EncodeFullOptions, type EncodeOptions, Tokenizer, parseAddedTokens, parsePostProcessor } from './tokenizer.js';

/** A piece of the text: normalized characters, or an added token already (its id). */
interface Split {
  s: NormalizedString;
  id: number | null;
}

/**
 * A tokenizer read from any supported tokenizer.json: normalizer, pre-tokenizer, model (WordPiece,
 * BPE, WordLevel), post-processor and decoder as the file says. Ids equal those of Hugging Face
 * `tokenizers` for the same file; `encodeFull` adds offsets, type ids and masks.
 * @example
 *   const tok = await Tokenizer.fromFile('models/bert-base-uncased');   // a PipelineTokenizer
 *   tok.encode('Hello world')                    // [101, 7592, 2088, 102]
 *   tok.encodePair('Who?', 'Ada.').typeIds        // [0, 0, 0, 0, 1, 1, 1]
 */
export class PipelineTokenizer extends Tokenizer {
  private readonly json: JsonObject;
  readonly model: Model;
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer | null;
  private readonly decoder: Decoder | null;
  private readonly raw: AddedTokenMatcher | null;
  private readonly norm: AddedTokenMatcher | null;

  private constructor(json: JsonObject) {
    const added = parseAddedTokens(json.added_tokens);
    super(added, parsePostProcessor(json.post_processor));
    this.json = json;
    this.model = parseModel(json.model);
    this.normalizer = parseNormalizer(json.normalizer);
    this.preTokenizer = parsePreTokenizer(json.pre_tokenizer);
    this.decoder = parseDecoder(json.decoder);
    const raw = added.filter((t) => !t.normalized);
    // Tokens marked normalized are matched by their normalized form, in the normalized text.
    const norm = added
      .filter((t) => t.normalized)
      .map((t) => {
        if (!this.normalizer) return t;
        const s = NormalizedString.fromText(t.content);
        this.normalizer(s);
        return { ...t, content: s.text };
      })
      .filter((t) => t.content.length > 0);
    this.raw = raw.length ? new AddedTokenMatcher(raw) : null;
    this.norm = norm.length ? new AddedTokenMatcher(norm) : null;
  }

  /** A tokenizer from a parsed tokenizer.json; unsupported components throw a TokenizerFormatError naming them. */
  static fromJSON(json: JsonObject): PipelineTokenizer {
    return new PipelineTokenizer(json);
  }

  static {
    Tokenizer.registerPipeline((json) => PipelineTokenizer.fromJSON(json));
  }

  get vocabSize(): number {
    return Math.max(this.model.size, this.maxAddedId() + 1);
  }

  /** Split `splits` further at the added tokens `m` finds in their text. */
  private splitAdded(splits: Split[], m: AddedTokenMatcher | null, normalize: boolean): Split[] {
    const out: Split[] = [];
    for (const sp of splits) {
      if (sp.id !== null) {
        out.push(sp);
        continue;
      }
      if (normalize && this.normalizer) this.normalizer(sp.s);
      if (!m) {
        if (sp.s.length > 0) out.push(sp);
        continue;
      }
      const text = sp.s.text;
      const found = m.matches(text);
      if (found.length === 0) {
        if (sp.s.length > 0) out.push(sp);
        continue;
      }
      // UTF-16 index → character index of the normalized text.
      const ci = new Int32Array(text.length + 1);
      let u = 0;
      sp.s.chars.forEach((c, i) => {
        ci[u] = i;
        u += c.length;
      });
      ci[u] = sp.s.chars.length;
      let at = 0;
      for (const [start, stop, id] of found) {
        const a = ci[start],
          b = ci[stop];
        if (at < a) out.push({ s: sp.s.slice(at, a), id: null });
        out.push({ s: sp.s.slice(a, b), id });
        at = b;
      }
      if (at < sp.s.length) out.push({ s: sp.s.slice(at, sp.s.length), id: null });
    }
    return out;
  }

  /** One text as an encoding before the post-processor (tokenizers' encode_single_sequence). */
  private encodeSequence(text: string, typeId: number, withAdded = true): Encoding {
    let splits: Split[] = [{ s: NormalizedString.fromText(text), id: null }];
    if (withAdded) {
      splits = this.splitAdded(splits, this.raw, false);
      splits = this.splitAdded(splits, this.norm, true);
    } else splits = this.splitAdded(splits, null, true);
    // Pre-tokenize: every piece that is not an added token becomes words.
    const words: Split[] = [];
    for (const sp of splits) {
      if (sp.id !== null || !this.preTokenizer) words.push(sp);
      else for (const w of this.preTokenizer(sp.s)) if (w.length > 0) words.push({ s: w, id: null });
    }
    const e = emptyEncoding();
    words.forEach((w, wordId) => {
      if (w.id !== null) {
        e.ids.push(w.id);
        e.tokens.push(w.s.text);
        e.offsets.push([w.s.origStart, w.s.origEnd]);
        e.wordIds.push(wordId);
        return;
      }
      for (const t of this.model.tokenize(w.s.chars)) {
        e.ids.push(t.id);
        e.tokens.push(t.value);
        e.offsets.push(w.s.originalSpan(t.start, t.end));
        e.wordIds.push(wordId);
      }
    });
    const n = e.ids.length;
    e.typeIds = Array(n).fill(typeId);
    e.attentionMask = Array(n).fill(1);
    e.specialTokensMask = Array(n).fill(0);
    e.sequenceIds = Array(n).fill(typeId);
    return e;
  }

  override encodeFull(text: string, opts: EncodeFullOptions = {}): Encoding {
    if (typeof text !== 'string') throw new TypeError(`PipelineTokenizer.encodeFull: expected a string, got ${typeof text}`);
    const addSpecial = opts.addSpecialTokens ?? true;
    const pair = opts.pair ?? null;
    if (pair !== null && typeof pair !== 'string') throw new TypeError(`PipelineTokenizer.encodeFull: the pair must be a string, got ${typeof pair}`);
    const a = this.encodeSequence(text, 0);
    const b = pair === null ? null : this.encodeSequence(pair, 1);
    const t = opts.truncation;
    if (t) {
      if (!Number.isInteger(t.maxLength) || t.maxLength < 0) throw new RangeError(`truncation.maxLength must be a non-negative integer, got ${t.maxLength}`);
      const added = this.postProcessor.addedTokens(b !== null);
      const maxLength = addSpecial && added > 0 ? t.maxLength - added : t.maxLength;
      if (maxLength < 0) throw new RangeError(`truncation.maxLength ${t.maxLength} leaves no room: the post-processor adds ${added} tokens`);
      truncatePair(a, b, { maxLength, strategy: t.strategy ?? 'longest_first', stride: t.stride ?? 0, direction: t.direction ?? 'right' });
    }
    return this.postProcessor.process(a, b, addSpecial);
  }

  override encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TypeError(`PipelineTokenizer.encode: expected a string, got ${typeof text}`);
    return this.encodeFull(text, opts).ids;
  }

  /** The tokens (model strings) of `text`, without the post-processor's (as transformers' `tokenize`). */
  tokenize(text: string): string[] {
    return this.encodeFull(text, { addSpecialTokens: false }).tokens;
  }

  protected encodePiece(text: string, out: number[]): void {
    for (const id of this.encodeSequence(text, 0, false).ids) out.push(id);
  }

  protected modelTokenToId(token: string): number | undefined {
    return this.model.tokenToId(token);
  }
  protected modelIdToToken(id: number): string | undefined {
    return this.model.idToToken(id);
  }
  protected decodeTokens(tokens: string[]): string {
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
  }

  /** The tokenizer.json it was read from. */
  override toJSON(): JsonObject {
    return structuredClone(this.json);
  }
  override toJSONString(): string {
    return JSON.stringify(this.json, null, 2);
  }
  protected vocabEntries(): [string, number][] {
    const out: [string, number][] = [];
    for (let id = 0; id < this.model.size; id++) {
      const t = this.model.idToToken(id);
      if (t !== undefined) out.push([t, id]);
    }
    return out;
  }
  protected pipelineJson(_vocab: Json): JsonObject {
    const { normalizer: _n, added_tokens: _a, version: _v, truncation: _t, padding: _p, ...rest } = this.json;
    return rest;
  }
}
