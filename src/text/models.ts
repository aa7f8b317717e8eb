// The models of tokenizer.json (tokenizers' models/*): each turns one pre-tokenized word into
// tokens. WordPiece (BERT: greedy longest-match-first with a "##" continuation prefix), BPE (merges
// over characters, with SentencePiece's byte fallback, continuation prefix / end-of-word suffix,
// unk fusing and ignore_merges) and WordLevel (one token per word).

import { PAIR, mergeSymbols } from './bpe-merge.js';
import { utf8Encoder } from './bytelevel.js';
import { type JsonObject, arrayAt, describe, fail, idAt, objectAt, optBool, optString, stringAt } from './tokenizer-json.js';

/** A token of a word: its id, its string, and [start, end) in the word's code points. */
export interface ModelToken {
  id: number;
  value: string;
  start: number;
  end: number;
}

/** A tokenizer model: word → tokens, and the vocabulary both ways. */
export interface Model {
  readonly type: string;
  tokenize(word: readonly string[]): ModelToken[];
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** One more than the largest id. */
  readonly size: number;
}

/** The model types this module reads. */
export const SUPPORTED_MODELS = ['WordPiece', 'BPE', 'WordLevel'];

function readVocab(v: unknown, where: string): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(objectAt(v, where))) vocab.set(tok, idAt(id, `${where}[${JSON.stringify(tok)}]`));
  return vocab;
}

function reverse(vocab: Map<string, number>, where: string): Map<number, string> {
  const r = new Map<number, string>();
  for (const [tok, id] of vocab) {
    const other = r.get(id);
    if (other !== undefined) fail(where, `tokens ${JSON.stringify(other)} and ${JSON.stringify(tok)} share id ${id}`);
    r.set(id, tok);
  }
  return r;
}

function sizeOf(vocab: Map<string, number>): number {
  let m = -1;
  for (const id of vocab.values()) if (id > m) m = id;
  return m + 1;
}

class VocabModel {
  readonly vocabR: Map<number, string>;
  readonly size: number;
  constructor(
    readonly vocab: Map<string, number>,
    where: string,
  ) {
    this.vocabR = reverse(vocab, where);
    this.size = sizeOf(vocab);
  }
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }
  idToToken(id: number): string | undefined {
    return this.vocabR.get(id);
  }
}

/** BERT's WordPiece (models/wordpiece): the longest vocabulary prefix, then "##"-prefixed continuations. */
export class WordPieceModel extends VocabModel implements Model {
  readonly type = 'WordPiece';
  private readonly unkId: number;
  constructor(
    vocab: Map<string, number>,
    readonly unkToken: string,
    readonly prefix: string,
    readonly maxInputCharsPerWord: number,
  ) {
    super(vocab, 'model.vocab');
    const unk = vocab.get(unkToken);
    if (unk === undefined) fail('model.unk_token', `${JSON.stringify(unkToken)} is not in the vocabulary`);
    this.unkId = unk;
  }

  tokenize(word: readonly string[]): ModelToken[] {
    const unk = [{ id: this.unkId, value: this.unkToken, start: 0, end: word.length }];
    if (word.length > this.maxInputCharsPerWord) return unk;
    const out: ModelToken[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: ModelToken | null = null;
      while (start < end) {
        let sub = word.slice(start, end).join('');
        if (start > 0) sub = this.prefix + sub;
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = { id, value: sub, start, end };
          break;
        }
        end--;
      }
      if (!found) return unk; // one piece without a token makes the whole word [UNK]
      out.push(found);
      start = end;
    }
    return out;
  }
}

/** tokenizers' BPE model over characters (models/bpe/model.rs, merge_word + merge_all). */
export class BPEModel extends VocabModel implements Model {
  readonly type = 'BPE';
  private readonly mergeIndex = new Map<number, number>();
  private readonly mergeNew: Int32Array;
  private readonly cache = new Map<string, ModelToken[]>();
  private readonly byteTokens: Int32Array | null; // byte → id of "<0xXX>", −1 if absent

  constructor(
    vocab: Map<string, number>,
    merges: readonly (readonly [string, string])[],
    readonly opts: {
      unkToken: string | null;
      fuseUnk: boolean;
      byteFallback: boolean;
      ignoreMerges: boolean;
      continuingSubwordPrefix: string | null;
      endOfWordSuffix: string | null;
    },
  ) {
    super(vocab, 'model.vocab');
    for (const id of vocab.values()) if (id >= PAIR) fail('model.vocab', `token ids must be below 2^26, got ${id}`);
    this.mergeNew = new Int32Array(merges.length);
    const prefixLen = opts.continuingSubwordPrefix?.length ?? 0;
    merges.forEach(([a, b], rank) => {
      const where = `model.merges[${rank}]`;
      const ia = vocab.get(a),
        ib = vocab.get(b);
      if (ia === undefined) fail(where, `token ${JSON.stringify(a)} is not in the vocabulary`);
      if (ib === undefined) fail(where, `token ${JSON.stringify(b)} is not in the vocabulary`);
      const merged = a + b.slice(prefixLen);
      const ic = vocab.get(merged);
      if (ic === undefined) fail(where, `the merged token ${JSON.stringify(merged)} is not in the vocabulary`);
      this.mergeIndex.set(ia * PAIR + ib, rank); // a repeated pair: the last rank wins, as in tokenizers
      this.mergeNew[rank] = ic;
    });
    if (opts.byteFallback) {
      this.byteTokens = new Int32Array(256);
      for (let b = 0; b < 256; b++) this.byteTokens[b] = vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? -1;
    } else this.byteTokens = null;
  }

  tokenize(word: readonly string[]): ModelToken[] {
    if (word.length === 0) return [];
    const text = word.join('');
    if (this.opts.ignoreMerges) {
      const id = this.vocab.get(text);
      if (id !== undefined) return [{ id, value: text, start: 0, end: word.length }];
    }
    const hit = this.cache.get(text);
    if (hit) return hit;
    const tokens = this.mergeWord(word);
    if (this.cache.size >= 1 << 16) this.cache.clear();
    this.cache.set(text, tokens);
    return tokens;
  }

  private mergeWord(word: readonly string[]): ModelToken[] {
    const { unkToken, fuseUnk, continuingSubwordPrefix: prefix, endOfWordSuffix: suffix } = this.opts;
    const sym: number[] = [];
    const lens: number[] = [];
    // Byte-fallback tokens cover part of a character: they carry its start, and a length of 0 except
    // the last one (offsets of all of them are the whole character, as in tokenizers).
    let unk: [id: number, len: number] | null = null;
    for (let i = 0; i < word.length; i++) {
      let s = word[i];
      if (i > 0 && prefix) s = prefix + s;
      if (i === word.length - 1 && suffix) s = s + suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        if (unk) {
          sym.push(unk[0]);
          lens.push(unk[1]);
          unk = null;
        }
        sym.push(id);
        lens.push(1);
        continue;
      }
      if (this.byteTokens) {
        const bytes = utf8Encoder.encode(s);
        const ids = Array.from(bytes, (b) => this.byteTokens![b]);
        if (ids.every((x) => x >= 0)) {
          // tokenizers adds them without first flushing a pending unk (it comes after them).
          ids.forEach((x, k) => {
            sym.push(x);
            lens.push(k === ids.length - 1 ? 1 : 0);
          });
          continue;
        }
      }
      if (unkToken !== null) {
        // As in tokenizers, an unk token missing from the vocabulary is an error only when needed.
        const unkId = this.vocab.get(unkToken);
        if (unkId === undefined) throw new Error(`BPE: ${JSON.stringify(word[i])} has no token and the unk token ${JSON.stringify(unkToken)} is not in the vocabulary`);
        if (unk && fuseUnk) unk[1] += 1;
        else {
          if (unk) {
            sym.push(unk[0]);
            lens.push(unk[1]);
          }
          unk = [unkId, 1];
        }
      }
    }
    if (unk) {
      sym.push(unk[0]);
      lens.push(unk[1]);
    }
    const merged = mergeSymbols(sym, this.mergeIndex, this.mergeNew, lens);
    const out: ModelToken[] = [];
    let pos = 0;
    for (let i = 0; i < merged.length; i++) {
      // A zero-length piece (a byte token before the last of its character) spans that character.
      const end = lens[i] === 0 ? Math.min(pos + 1, word.length) : pos + lens[i];
      out.push({ id: merged[i], value: this.vocabR.get(merged[i])!, start: pos, end });
      pos += lens[i];
    }
    return out;
  }
}

/** One token per word (models/wordlevel), or the unk token. */
export class WordLevelModel extends VocabModel implements Model {
  readonly type = 'WordLevel';
  constructor(
    vocab: Map<string, number>,
    readonly unkToken: string,
  ) {
    super(vocab, 'model.vocab');
  }
  tokenize(word: readonly string[]): ModelToken[] {
    const w = word.join('');
    const id = this.vocab.get(w) ?? this.vocab.get(this.unkToken);
    if (id === undefined) throw new Error(`WordLevel: ${JSON.stringify(w)} is not in the vocabulary and neither is the unk token ${JSON.stringify(this.unkToken)}`);
    return [{ id, value: this.vocabR.get(id)!, start: 0, end: word.length }];
  }
}

/** model.merges: "a b" strings (tokenizers < 0.20) or [a, b] pairs. */
export function parseMerges(v: unknown, where = 'model.merges'): [string, string][] {
  return arrayAt(v ?? [], where).map((m, i): [string, string] => {
    const at = `${where}[${i}]`;
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2 || !parts[0] || !parts[1]) fail(at, `expected "left right" (two tokens, one space), got ${describe(m)}`);
      return [parts[0], parts[1]];
    }
    const pair = arrayAt(m, at);
    if (pair.length !== 2) fail(at, `expected a pair [left, right], got ${pair.length} elements`);
    return [stringAt(pair[0], `${at}[0]`), stringAt(pair[1], `${at}[1]`)];
  });
}

/** The model of a tokenizer.json `model` field. */
export function parseModel(v: unknown, where = 'model'): Model {
  const o: JsonObject = objectAt(v, where);
  // Files from before tokenizers wrote "type" are told apart by their fields, as tokenizers does
  // (a type that is there must be a string: tokenizers refuses "type": null).
  if (o.type === null) fail(`${where}.type`, 'is null; name the model (BPE, WordPiece or WordLevel) or leave the field out');
  const type = o.type ?? ('merges' in o ? 'BPE' : 'max_input_chars_per_word' in o ? 'WordPiece' : undefined);
  switch (type) {
    case 'WordPiece': {
      const max = o.max_input_chars_per_word ?? 100;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) fail(`${where}.max_input_chars_per_word`, `expected a non-negative integer, got ${describe(max)}`);
      return new WordPieceModel(readVocab(o.vocab, `${where}.vocab`), optString(o, 'unk_token', where) ?? '[UNK]', optString(o, 'continuing_subword_prefix', where) ?? '##', max);
    }
    case 'BPE': {
      const dropout = o.dropout;
      if (dropout !== undefined && dropout !== null && dropout !== 0)
        fail(`${where}.dropout`, `BPE dropout is not supported (it makes merges random, a training-time regularizer); got ${describe(dropout)}`);
      return new BPEModel(readVocab(o.vocab, `${where}.vocab`), parseMerges(o.merges, `${where}.merges`), {
        unkToken: optString(o, 'unk_token', where),
        fuseUnk: optBool(o, 'fuse_unk', where, false),
        byteFallback: optBool(o, 'byte_fallback', where, false),
        ignoreMerges: optBool(o, 'ignore_merges', where, false),
        continuingSubwordPrefix: optString(o, 'continuing_subword_prefix', where),
        endOfWordSuffix: optString(o, 'end_of_word_suffix', where),
      });
    }
    case 'WordLevel':
      // tokenizers' WordLevel takes a missing unk_token as "<unk>" but refuses a null one.
      if (o.unk_token === null) fail(`${where}.unk_token`, 'is null; a WordLevel model needs the token it gives unknown words (or leave the field out for "<unk>")');
      return new WordLevelModel(readVocab(o.vocab, `${where}.vocab`), optString(o, 'unk_token', where) ?? '<unk>');
    default:
      return fail(`${where}.type`, `unsupported model ${describe(o.type)} (supported: ${SUPPORTED_MODELS.join(', ')}; Unigram models, as in T5 and ALBERT, are not)`);
  }
}
