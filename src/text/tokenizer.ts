// The Tokenizer base class: what every tokenizer shares. Added (special) tokens are split out of the
// text first, as Hugging Face's AddedVocabulary does (leftmost-longest match, with its single_word /
// lstrip / rstrip rules); the model encodes the pieces between them; an optional post-processor
// adds the template's special tokens. Subclasses: BPETokenizer, CharTokenizer, PipelineTokenizer.
// Loading: each subclass registers the tokenizer.json model type it reads, so `Tokenizer.fromFile`,
// `loadTokenizer` and `tokenizerFromJSON` read every kind of file without this module importing them.

import { join } from 'node:path';
import { writeFileAtomic } from '../platform/fs.js';
import { type Json, type JsonObject, arrayAt, describe, fail, idAt, objectAt, optBool, stringAt, stringifyOrdered } from './tokenizer-json.js';
import { type TokenizerReaders, readTokenizerFile, readTokenizerPath } from './tokenizer-files.js';
import { type Encoding, type PaddingOptions, type TruncationOptions, emptyEncoding, padEncoding } from './encoding.js';
import { type PostProcessor, parsePostProcessor } from './post-processors.js';

export { type PostProcessor, parsePostProcessor };

/** Options of `Tokenizer.encode`. */
export interface EncodeOptions {
  /** Apply the post-processor's template (e.g. a BOS token). Default true, as in Hugging Face. */
  addSpecialTokens?: boolean;
}

/** Options of `Tokenizer.encodeFull` and `encodePair`. */
export interface EncodeFullOptions extends EncodeOptions {
  /** A second text, encoded as the pair (type id 1 in BERT's template). */
  pair?: string | null;
  /** Cut to a length (tokens the post-processor adds included), keeping the rest as overflowing windows. */
  truncation?: TruncationOptions;
}

/** Options of `Tokenizer.encodeBatch`. */
export interface EncodeBatchOptions extends Omit<EncodeFullOptions, 'pair'> {
  /** Pad every encoding to the longest (true) or as the options say. */
  padding?: boolean | PaddingOptions;
}

/** Options of `Tokenizer.decode`. */
export interface DecodeOptions {
  /** Leave out special tokens. Default false (as transformers' `decode`), so decode∘encode is the identity. */
  skipSpecialTokens?: boolean;
}

/** A token matched in the raw text before the model sees it (Hugging Face `added_tokens`). */
export interface AddedToken {
  id: number;
  content: string;
  /** Special tokens can be skipped when decoding and are listed in `specialTokens`. */
  special: boolean;
  /** Only match when not surrounded by word characters. */
  singleWord: boolean;
  /** Absorb the whitespace on the left / right of the match. */
  lstrip: boolean;
  rstrip: boolean;
  /** Matched in the normalized text (second pass) rather than the raw text (first pass). */
  normalized: boolean;
}

/**
 * An {@link AddedToken} as given when adding one: id and content, the other fields optional
 * (special defaults to true, normalized to !special, the rest to false).
 */
export type AddedTokenInit = Pick<AddedToken, 'id' | 'content'> & Partial<Omit<AddedToken, 'id' | 'content'>>;

/** A piece of text between added tokens, or the id of an added token. */
export type Piece = string | number;

/** Rust regex's `\w` (Unicode word characters) and `\s` (White_Space), used by the added-token rules. */
const WORD_CHAR = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const SPACE_CHAR = /^\p{White_Space}$/u; // all White_Space characters are in the BMP

/** The code point just before index i, as a string ('' at the start). */
function charBefore(text: string, i: number): string {
  if (i <= 0) return '';
  const lo = text.charCodeAt(i - 1);
  return lo >= 0xdc00 && lo <= 0xdfff && i >= 2 ? text.slice(i - 2, i) : text[i - 1];
}
function charAt(text: string, i: number): string {
  const cp = text.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

// The syntax characters and '/': the only identity escapes a `u`-flag regex accepts.
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Leftmost-longest matching of a set of added tokens (Hugging Face's Aho-Corasick pass, as a regex). */
export class AddedTokenMatcher {
  private readonly re: RegExp;
  private readonly byContent: Map<string, AddedToken>;

  constructor(tokens: AddedToken[]) {
    this.byContent = new Map(tokens.map((t) => [t.content, t]));
    // At each position the alternatives are tried longest first, so the leftmost match is the longest.
    const sorted = [...this.byContent.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    this.re = new RegExp(sorted.map(escapeRegex).join('|'), 'gu');
  }

  /** The added tokens in `text` as [start, stop, id] (UTF-16 indices), following `find_matches` of tokenizers' added_vocabulary.rs. */
  matches(text: string): [number, number, number][] {
    const re = this.re;
    re.lastIndex = 0;
    const out: [number, number, number][] = [];
    let offset = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const tok = this.byContent.get(m[0])!;
      let start = m.index;
      let stop = start + m[0].length;
      if (tok.singleWord && (WORD_CHAR.test(charBefore(text, start)) || WORD_CHAR.test(charAt(text, stop)))) continue;
      if (tok.lstrip) {
        let s = start;
        while (s > 0 && SPACE_CHAR.test(text[s - 1])) s--;
        start = Math.max(s, offset); // a previous match may already hold those spaces
      }
      if (tok.rstrip) while (stop < text.length && SPACE_CHAR.test(text[stop])) stop++;
      out.push([start, stop, tok.id]);
      offset = stop;
      // An rstrip may have consumed text past where the scan stands; resume after it.
      if (re.lastIndex < stop) re.lastIndex = stop;
    }
    return out;
  }

  /** Split `text` into pieces: the text between added tokens, and their ids. */
  split(text: string, out: Piece[]): void {
    let offset = 0;
    for (const [start, stop, id] of this.matches(text)) {
      if (offset < start) out.push(text.slice(offset, start));
      out.push(id);
      offset = stop;
    }
    if (offset < text.length) out.push(text.slice(offset));
  }
}

export function parseAddedTokens(v: Json | undefined, where = 'added_tokens'): AddedToken[] {
  if (v === undefined || v === null) return [];
  return arrayAt(v, where).map((t, i) => {
    const at = `${where}[${i}]`;
    const o = objectAt(t, at);
    const content = stringAt(o.content, `${at}.content`);
    if (content.length === 0) fail(`${at}.content`, 'an added token cannot be empty');
    const special = optBool(o, 'special', at, false);
    return {
      id: idAt(o.id, `${at}.id`),
      content,
      special,
      singleWord: optBool(o, 'single_word', at, false),
      lstrip: optBool(o, 'lstrip', at, false),
      rstrip: optBool(o, 'rstrip', at, false),
      normalized: optBool(o, 'normalized', at, !special),
    };
  });
}

export function addedTokensJson(tokens: readonly AddedToken[]): JsonObject[] {
  return [...tokens]
    .sort((a, b) => a.id - b.id)
    .map((t) => ({
      id: t.id,
      content: t.content,
      single_word: t.singleWord,
      lstrip: t.lstrip,
      rstrip: t.rstrip,
      normalized: t.normalized,
      special: t.special,
    }));
}

export function makeAddedToken(init: AddedTokenInit): AddedToken {
  if (init.content.length === 0) throw new Error('added token: the content cannot be empty');
  const special = init.special ?? true;
  return {
    id: init.id,
    content: init.content,
    special,
    singleWord: init.singleWord ?? false,
    lstrip: init.lstrip ?? false,
    rstrip: init.rstrip ?? false,
    normalized: init.normalized ?? !special,
  };
}

/**
 * A tokenizer: text ↔ token ids. Load one with `Tokenizer.fromFile` (tokenizer.json, or GPT-2's
 * vocab.json + merges.txt), train one with `BPETokenizer.train`, or build a character-level one
 * with `CharTokenizer.fromText`.
 */
export abstract class Tokenizer {
  /** The added tokens (special or not), in id order. */
  readonly addedTokens: readonly AddedToken[];
  protected readonly postProcessor: PostProcessor;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly rawMatcher: AddedTokenMatcher | null;
  private readonly normalizedMatcher: AddedTokenMatcher | null;

  protected constructor(addedTokens: readonly AddedToken[], postProcessor: PostProcessor | null) {
    this.addedTokens = [...addedTokens].sort((a, b) => a.id - b.id);
    for (const t of this.addedTokens) {
      const other = this.addedByContent.get(t.content);
      if (other) throw new Error(`added token ${JSON.stringify(t.content)} is given twice (ids ${other.id} and ${t.id})`);
      const same = this.addedById.get(t.id);
      if (same) throw new Error(`added tokens ${JSON.stringify(same.content)} and ${JSON.stringify(t.content)} share id ${t.id}`);
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
    }
    // Hugging Face matches non-normalized tokens in the raw text first, then normalized ones in the
    // remaining pieces (there is no normalizer here, so only the order of the passes differs).
    const raw = this.addedTokens.filter((t) => !t.normalized);
    const norm = this.addedTokens.filter((t) => t.normalized);
    this.rawMatcher = raw.length ? new AddedTokenMatcher(raw) : null;
    this.normalizedMatcher = norm.length ? new AddedTokenMatcher(norm) : null;
    this.postProcessor = postProcessor ?? parsePostProcessor(null);
  }

  /** Ids run from 0 to vocabSize − 1 (the size an embedding table needs). */
  abstract get vocabSize(): number;

  /** The largest id encode can give: the vocabulary's (added tokens included) or a post-processor template's. */
  get maxTokenId(): number {
    let m = this.vocabSize - 1;
    for (const id of this.postProcessor.specialIds) m = Math.max(m, id);
    return m;
  }

  /** Encode text that holds no added tokens (or whose added tokens are to be read as text). */
  protected abstract encodePiece(text: string, out: number[]): void;
  /** The model's own token ↔ id maps (added tokens are handled here). */
  protected abstract modelTokenToId(token: string): number | undefined;
  protected abstract modelIdToToken(id: number): string | undefined;
  /** Decode a list of tokens (strings) as the decoder of the tokenizer does. */
  protected abstract decodeTokens(tokens: string[]): string;
  /** The Hugging Face tokenizer.json object. */
  toJSON(): JsonObject {
    return this.jsonWith(Object.fromEntries(this.vocabEntries()) as JsonObject);
  }

  /** The tokenizer.json text (pretty-printed; vocabularies written in id order). */
  toJSONString(): string {
    const tag = '\u0000nabla:vocab\u0000';
    return stringifyOrdered(this.jsonWith(tag), new Map([[tag, this.vocabEntries()]]));
  }

  /** The model's vocabulary as [token, id] in id order. */
  protected abstract vocabEntries(): [string, number][];
  /** pre_tokenizer, post_processor, decoder and model, with `vocab` in place of the model's vocabulary. */
  protected abstract pipelineJson(vocab: Json): JsonObject;

  /** The tokenizer.json object in Hugging Face's key order. */
  private jsonWith(vocab: Json): JsonObject {
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokensJson(this.addedTokens),
      normalizer: null,
      ...this.pipelineJson(vocab),
    };
  }

  /** Special added tokens: content → id. */
  get specialTokens(): Record<string, number> {
    return Object.fromEntries(this.addedTokens.filter((t) => t.special).map((t) => [t.content, t.id]));
  }

  /** The text split at added tokens: strings to encode with the model, and added-token ids. */
  splitAddedTokens(text: string): Piece[] {
    let pieces: Piece[] = [text];
    for (const m of [this.rawMatcher, this.normalizedMatcher]) {
      if (!m) continue;
      const next: Piece[] = [];
      for (const p of pieces)
        if (typeof p === 'number') next.push(p);
        else m.split(p, next);
      pieces = next;
    }
    return pieces.filter((p) => p !== '');
  }

  /**
   * Token ids of `text`. Added tokens (e.g. `<|endoftext|>`) are recognised in the text and map to
   * their ids; the post-processor's template is applied unless `addSpecialTokens` is false.
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TypeError(`${this.constructor.name}.encode: expected a string, got ${describe(text)}`);
    const ids: number[] = [];
    for (const p of this.splitAddedTokens(text)) {
      if (typeof p === 'number') ids.push(p);
      else this.encodePiece(p, ids);
    }
    return (opts.addSpecialTokens ?? true) ? this.applyTemplate(ids) : ids;
  }

  /** Token ids of `text` with added tokens read as ordinary text and no template (tiktoken's encode_ordinary). */
  encodeOrdinary(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`${this.constructor.name}.encodeOrdinary: expected a string, got ${describe(text)}`);
    const ids: number[] = [];
    if (text.length) this.encodePiece(text, ids);
    return ids;
  }

  private applyTemplate(ids: number[]): number[] {
    // A post-processor that adds no tokens leaves the ids as they are (ByteLevel only trims offsets).
    if (!this.postProcessor.json || this.postProcessor.addedTokens(false) === 0) return ids;
    const e = emptyEncoding();
    e.ids = ids;
    e.tokens = ids.map(() => '');
    e.offsets = ids.map((): [number, number] => [0, 0]);
    for (const k of ['typeIds', 'attentionMask', 'specialTokensMask', 'sequenceIds', 'wordIds'] as const) e[k] = ids.map(() => 0);
    return this.postProcessor.process(e, null, true).ids;
  }

  /**
   * The full encoding of `text` (and `opts.pair`): ids, tokens, type ids, masks, offsets into the
   * text, sequence ids, and with `opts.truncation` the overflowing windows, as tokenizers'
   * `Tokenizer.encode(text, pair)` gives them. Subclasses that do not build encodings themselves
   * run their tokenizer.json through a PipelineTokenizer (same ids, plus offsets).
   */
  encodeFull(text: string, opts: EncodeFullOptions = {}): Encoding {
    this.pipeline ??= PIPELINE.reader?.(this.toJSON()) ?? null;
    if (!this.pipeline) throw new Error(`${this.constructor.name}.encodeFull: PipelineTokenizer is not loaded (import nabla's text module)`);
    return this.pipeline.encodeFull(text, opts);
  }
  private pipeline: Tokenizer | null = null;

  /**
   * A pair of texts as one input ([CLS] text [SEP] pair [SEP] for BERT), with type ids 0 then 1.
   * Question answering passes (question, context) with truncation 'only_second' and a stride:
   * the windows are the result and its `overflowing`, and `sequenceIds`/`offsets` map tokens back
   * into the context.
   * @example
   *   const e = tok.encodePair(question, context, { truncation: { maxLength: 384, strategy: 'only_second', stride: 128 } });
   *   for (const w of [e, ...e.overflowing]) { ... w.ids, w.typeIds, w.attentionMask, w.offsets, w.sequenceIds }
   */
  encodePair(text: string, pair: string, opts: Omit<EncodeFullOptions, 'pair'> = {}): Encoding {
    return this.encodeFull(text, { ...opts, pair });
  }

  /**
   * Encode several texts (or [text, pair] pairs), truncated and padded alike, as transformers'
   * `tokenizer(texts, padding=True, truncation=True)`: every encoding (and overflowing window) gets
   * the same length, with attention mask 0 on the padding.
   */
  encodeBatch(inputs: readonly (string | readonly [string, string])[], opts: EncodeBatchOptions = {}): Encoding[] {
    const out = inputs.map((x) => (typeof x === 'string' ? this.encodeFull(x, opts) : this.encodeFull(x[0], { ...opts, pair: x[1] })));
    const pad = opts.padding;
    if (!pad) return out;
    const p = pad === true ? {} : pad;
    const all = out.flatMap((e) => [e, ...e.overflowing]);
    let length = typeof p.length === 'number' ? p.length : Math.max(0, ...all.map((e) => e.ids.length));
    if (p.padToMultipleOf && length % p.padToMultipleOf !== 0) length += p.padToMultipleOf - (length % p.padToMultipleOf);
    const { id, token } = this.padTokenFor(p);
    for (const e of out) padEncoding(e, length, id, p.padTypeId ?? 0, token, p.direction ?? 'right');
    return out;
  }

  /** The pad token: as given, else "[PAD]", "<pad>", "<|endoftext|>" or "</s>" when the tokenizer has one. */
  protected padTokenFor(p: PaddingOptions): { id: number; token: string } {
    if (p.padId !== undefined) return { id: p.padId, token: p.padToken ?? this.idToToken(p.padId) ?? '' };
    for (const t of p.padToken !== undefined ? [p.padToken] : ['[PAD]', '<pad>', '<|endoftext|>', '</s>']) {
      const id = this.tokenToId(t);
      if (id !== undefined) return { id, token: t };
    }
    throw new Error(`${this.constructor.name}.encodeBatch: no pad token (the tokenizer has none of [PAD], <pad>, <|endoftext|>, </s>); give padding.padId`);
  }

  /** The text of a list of ids. Unknown ids are an error. */
  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = Number(ids[i]);
      const added = this.addedById.get(id);
      if (added) {
        if (!(skip && added.special)) tokens.push(added.content);
        continue;
      }
      const tok = Number.isInteger(id) ? this.modelIdToToken(id) : undefined;
      if (tok === undefined) {
        throw new RangeError(`${this.constructor.name}.decode: id ${String(ids[i])} at position ${i} is not in the vocabulary (ids 0..${this.vocabSize - 1})`);
      }
      tokens.push(tok);
    }
    return this.decodeTokens(tokens);
  }

  /** The id of a token string (added tokens first, then the model's vocabulary). */
  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.modelTokenToId(token);
  }

  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.modelIdToToken(id);
  }

  /** The added token with this id, if any. */
  protected addedTokenById(id: number): AddedToken | undefined {
    return this.addedById.get(id);
  }

  /** The largest added-token id, or −1. */
  protected maxAddedId(): number {
    return this.addedTokens.length ? this.addedTokens[this.addedTokens.length - 1].id : -1;
  }

  /**
   * Write the tokenizer.json atomically. `path` is the file (ending in .json) or a directory, in
   * which case the file is `path/tokenizer.json`.
   */
  async save(path: string): Promise<void> {
    const file = path.endsWith('.json') ? path : join(path, 'tokenizer.json');
    await writeFileAtomic(file, this.toJSONString() + '\n');
  }

  /**
   * Load a tokenizer from a tokenizer.json file, a vocab.json (with merges.txt beside it), or a
   * directory holding either.
   */
  static async fromFile(path: string): Promise<Tokenizer> {
    return loadTokenizer(path);
  }

  /**
   * Read tokenizer.json files whose model.type is `type` with `reader` (and GPT-2's vocab.json +
   * merges.txt with `reader.fromVocabMerges`). Each subclass registers itself when its module loads.
   */
  protected static registerModel(type: string, reader: ModelReader): void {
    MODELS.set(type, reader);
  }

  /** Read every tokenizer.json that no model reader accepts with `reader` (PipelineTokenizer). */
  protected static registerPipeline(reader: (json: JsonObject) => Tokenizer): void {
    PIPELINE.reader = reader;
  }
}

/** How a tokenizer class reads its files (see Tokenizer.registerModel). */
export interface ModelReader {
  /** Whether this class reads the file (else the general PipelineTokenizer does). Default: always. */
  accepts?(json: JsonObject): boolean;
  fromJSON(json: JsonObject): Tokenizer;
  fromVocabMerges?(vocab: Record<string, number>, merges: string): Tokenizer;
}

/** The registered readers by tokenizer.json model.type (a Map: the name comes from a file). */
const MODELS = new Map<string, ModelReader>();

/** The reader of any tokenizer.json (PipelineTokenizer registers itself). */
const PIPELINE: { reader: ((json: JsonObject) => Tokenizer) | null } = { reader: null };

/**
 * A tokenizer from a parsed tokenizer.json object: GPT-2-style byte-level BPE files as BPETokenizer,
 * character files as CharTokenizer, every other file (WordPiece, SentencePiece-style BPE, byte-level
 * BPE with a Split regex, ...) as PipelineTokenizer.
 */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const o = objectAt(json, 'tokenizer.json');
  const model = objectAt(o.model, 'model');
  const type = model.type === undefined && 'merges' in model ? 'BPE' : model.type;
  const reader = typeof type === 'string' ? MODELS.get(type) : undefined;
  if (reader && (!reader.accepts || reader.accepts(o))) return reader.fromJSON(o);
  if (PIPELINE.reader) return PIPELINE.reader(o);
  if (!reader) return fail('model.type', `unsupported model ${describe(model.type)} (import nabla's text module for WordPiece, BPE and WordLevel files)`);
  return reader.fromJSON(o);
}

const READERS: TokenizerReaders<Tokenizer> = {
  fromJSON: tokenizerFromJSON,
  fromVocabMerges(vocab, merges) {
    const bpe = MODELS.get('BPE')?.fromVocabMerges;
    if (!bpe) throw new Error('vocab.json + merges.txt: no tokenizer class reads them (BPETokenizer is not loaded)');
    return bpe(vocab, merges);
  },
};

/**
 * Load a tokenizer from `path`: a directory (its tokenizer.json, else its vocab.json + merges.txt),
 * a tokenizer.json file, or a vocab.json file (with merges.txt in the same directory).
 */
export function loadTokenizer(path: string): Promise<Tokenizer> {
  return readTokenizerPath(path, READERS);
}

/** A tokenizer.json or vocab.json file (never a directory: its name is read as a file). */
export function loadTokenizerFile(path: string): Promise<Tokenizer> {
  return readTokenizerFile(path, READERS);
}
