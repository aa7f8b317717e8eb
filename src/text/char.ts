// Character-level tokenizer (nanoGPT's shakespeare_char): the vocabulary is the sorted set of the
// characters (Unicode code points) of a text; one id per character.
//
// Saved as a tokenizer.json that Hugging Face `tokenizers` can also read: a WordLevel model over the
// characters, a Split pre-tokenizer that isolates every character (regex `[\s\S]`), and a Fuse
// decoder that concatenates. Its unk_token is not in the vocabulary, so an unknown character is an
// error there too.

import { type Json, type JsonObject, describe, fail, idAt, isObject, objectAt } from './tokenizer-json.js';
import { Tokenizer, type AddedToken, makeAddedToken, parseAddedTokens, parsePostProcessor } from './tokenizer.js';

/** The pattern of the Split pre-tokenizer of a character tokenizer.json: any one character. */
export const CHAR_SPLIT_REGEX = '[\\s\\S]';
const UNK = '[UNK]';

/** Options of `CharTokenizer.fromText`. */
export interface CharTokenizerOptions {
  /** Special tokens, given the ids after the characters, in this order. */
  specialTokens?: string[];
}

const byCodePoint = (x: string, y: string) => x.codePointAt(0)! - y.codePointAt(0)!;

/**
 * One token per character.
 * @example
 *   const tok = CharTokenizer.fromText(shakespeare);   // vocabSize 65
 *   tok.decode(tok.encode('To be')) === 'To be'
 */
export class CharTokenizer extends Tokenizer {
  /** id → character. */
  readonly chars: readonly string[];
  private readonly index = new Map<string, number>();

  /** A tokenizer over these characters (ids in the given order) and added tokens. */
  constructor(chars: readonly string[], addedTokens: AddedToken[] = []) {
    super(addedTokens, null);
    chars.forEach((c, i) => {
      if ([...c].length !== 1) throw new Error(`CharTokenizer: vocabulary entry ${i} (${JSON.stringify(c)}) is not a single character`);
      if (this.index.has(c)) throw new Error(`CharTokenizer: character ${JSON.stringify(c)} is given twice (ids ${this.index.get(c)} and ${i})`);
      this.index.set(c, i);
    });
    for (const t of addedTokens) {
      if (t.id < chars.length && chars[t.id] !== t.content) {
        throw new Error(`CharTokenizer: added token ${JSON.stringify(t.content)} has id ${t.id}, which is the character ${JSON.stringify(chars[t.id])}`);
      }
    }
    this.chars = [...chars];
  }

  /** The sorted distinct characters of `text` (by code point, as Python's sorted(set(text))). */
  static fromText(text: string, opts: CharTokenizerOptions = {}): CharTokenizer {
    const chars = [...new Set(text)].sort(byCodePoint);
    const specials = opts.specialTokens ?? [];
    if (new Set(specials).size !== specials.length) throw new Error('CharTokenizer.fromText: specialTokens has duplicates');
    return new CharTokenizer(
      chars,
      specials.map((content, i) => makeAddedToken({ id: chars.length + i, content, special: true })),
    );
  }

  /** A character tokenizer from a parsed tokenizer.json written by `toJSON`. */
  static fromJSON(json: JsonObject): CharTokenizer {
    const model = objectAt(json.model, 'model');
    if (model.type !== 'WordLevel') fail('model.type', `expected "WordLevel", got ${describe(model.type)}`);
    const pre = objectAt(json.pre_tokenizer, 'pre_tokenizer');
    const pattern = isObject(pre.pattern) ? pre.pattern.Regex : undefined;
    if (pre.type !== 'Split' || pattern !== CHAR_SPLIT_REGEX || pre.behavior !== 'Isolated' || pre.invert === true) {
      fail(
        'pre_tokenizer',
        `a WordLevel model is read only as a character tokenizer, whose pre-tokenizer is {"type": "Split", "pattern": {"Regex": ${JSON.stringify(CHAR_SPLIT_REGEX)}}, "behavior": "Isolated"}`,
      );
    }
    const dec = objectAt(json.decoder, 'decoder');
    if (dec.type !== 'Fuse') fail('decoder.type', `a character tokenizer needs the "Fuse" decoder, got ${describe(dec.type)}`);
    if (json.normalizer !== undefined && json.normalizer !== null) fail('normalizer', 'a character tokenizer has no normalizer');
    const post = parsePostProcessor(json.post_processor);
    if (post.json !== null) fail('post_processor', 'a character tokenizer has no post-processor');
    const added = parseAddedTokens(json.added_tokens);
    const addedIds = new Set(added.map((t) => t.id));
    const chars: string[] = [];
    for (const [tok, v] of Object.entries(objectAt(model.vocab, 'model.vocab'))) {
      const id = idAt(v, `model.vocab[${JSON.stringify(tok)}]`);
      if (addedIds.has(id)) continue; // added tokens may also be listed in the vocabulary
      if ([...tok].length !== 1) fail(`model.vocab[${JSON.stringify(tok)}]`, 'a character tokenizer holds single characters only');
      if (chars[id] !== undefined) fail(`model.vocab[${JSON.stringify(tok)}]`, `id ${id} is also given to ${JSON.stringify(chars[id])}`);
      chars[id] = tok;
    }
    for (let i = 0; i < chars.length; i++) if (chars[i] === undefined) fail('model.vocab', `no character has id ${i} (ids must run from 0 without gaps)`);
    return new CharTokenizer(chars, added);
  }

  static {
    // tokenizer.json files with a WordLevel model (written by toJSON) load as CharTokenizer.
    // Other WordLevel files are PipelineTokenizer's.
    Tokenizer.registerModel('WordLevel', {
      accepts: (json) =>
        isObject(json.pre_tokenizer) && json.pre_tokenizer.type === 'Split' && isObject(json.pre_tokenizer.pattern) && json.pre_tokenizer.pattern.Regex === CHAR_SPLIT_REGEX,
      fromJSON: (json) => CharTokenizer.fromJSON(json),
    });
  }

  get vocabSize(): number {
    return Math.max(this.chars.length, this.maxAddedId() + 1);
  }

  protected encodePiece(text: string, out: number[]): void {
    const index = this.index;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const ch = cp > 0xffff ? text.slice(i, i + 2) : text[i];
      const id = index.get(ch);
      if (id === undefined) {
        const hex = cp.toString(16).toUpperCase().padStart(4, '0');
        throw new RangeError(`CharTokenizer.encode: character ${JSON.stringify(ch)} (U+${hex}) at index ${i} is not in the vocabulary of ${this.chars.length} characters`);
      }
      out.push(id);
      i += ch.length;
    }
  }

  protected modelTokenToId(token: string): number | undefined {
    return this.index.get(token);
  }
  protected modelIdToToken(id: number): string | undefined {
    return this.chars[id];
  }
  protected decodeTokens(tokens: string[]): string {
    return tokens.join('');
  }

  protected vocabEntries(): [string, number][] {
    return this.chars.map((c, i) => [c, i]);
  }

  protected pipelineJson(vocab: Json): JsonObject {
    return {
      pre_tokenizer: { type: 'Split', pattern: { Regex: CHAR_SPLIT_REGEX }, behavior: 'Isolated', invert: false },
      post_processor: null,
      decoder: { type: 'Fuse' },
      model: { type: 'WordLevel', vocab, unk_token: UNK },
    };
  }
}
