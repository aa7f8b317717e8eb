// Reading tokenizer files: Hugging Face tokenizer.json (BPE, or the character tokenizer's WordLevel
// form) and GPT-2's vocab.json + merges.txt. Errors name the file and the field.

import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readTextFile } from '../platform/fs.js';
import { BPETokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';
import { type Json, TokenizerFormatError, describe, fail, isObject, objectAt } from './json.js';
import { type Tokenizer, isDirectory } from './tokenizer.js';

const exists = (p: string) => access(p).then(() => true, () => false);

/** A tokenizer from a parsed tokenizer.json object (BPE, or a CharTokenizer's WordLevel file). */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const o = objectAt(json, 'tokenizer.json');
  const model = objectAt(o.model, 'model');
  if (model.type === 'BPE' || (model.type === undefined && 'merges' in model)) return BPETokenizer.fromJSON(o);
  if (model.type === 'WordLevel') return CharTokenizer.fromJSON(o);
  return fail('model.type', `unsupported model ${describe(model.type)} (supported: "BPE" with ByteLevel pre-tokenizer, and the character tokenizer's "WordLevel")`);
}

/** The most a tokenizer file may hold (large multilingual tokenizer.json files are ~35 MB). */
export const TOKENIZER_MAX_BYTES = 64 * 2 ** 20;

/** A regular file of at most TOKENIZER_MAX_BYTES, as text. */
function readText(path: string): Promise<string> {
  return readTextFile(path, TOKENIZER_MAX_BYTES);
}

function parseJson(text: string, path: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new TokenizerFormatError(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/** Prefix format errors (and the tokenizers' own plain Errors, such as a repeated token) with the file they come from. */
function inFile<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TokenizerFormatError || (e as Error)?.constructor === Error) throw new TokenizerFormatError(`${path}: ${(e as Error).message}`);
    throw e;
  }
}

async function fromVocabMergesFiles(vocabPath: string, mergesPath: string): Promise<Tokenizer> {
  if (!(await exists(mergesPath))) throw new Error(`${vocabPath}: a vocab.json needs merges.txt beside it, and ${mergesPath} does not exist`);
  const vocab = parseJson(await readText(vocabPath), vocabPath);
  const merges = await readText(mergesPath);
  return inFile(`${vocabPath} + ${mergesPath}`, () => BPETokenizer.fromVocabMerges(vocab as Record<string, number>, merges));
}

/**
 * Load a tokenizer from `path`: a directory (its tokenizer.json, else its vocab.json + merges.txt),
 * a tokenizer.json file, or a vocab.json file (with merges.txt in the same directory).
 */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  if (await isDirectory(path)) {
    const tj = join(path, 'tokenizer.json');
    if (await exists(tj)) return loadTokenizerFile(tj);
    const vj = join(path, 'vocab.json');
    if (await exists(vj)) return fromVocabMergesFiles(vj, join(path, 'merges.txt'));
    throw new Error(`loadTokenizer: ${path} holds neither tokenizer.json nor vocab.json + merges.txt`);
  }
  return loadTokenizerFile(path);
}

/** A tokenizer.json or vocab.json file (never a directory: its name is read as a file). */
export async function loadTokenizerFile(path: string): Promise<Tokenizer> {
  const json = parseJson(await readText(path), path);
  if (!isObject(json) && basename(path) === 'vocab.json') throw new TokenizerFormatError(`${path}: expected a JSON object of token → id, got ${describe(json)}`);
  // A flat token → id map is a vocab.json; tokenizer.json has a "model" object.
  if (isObject(json) && !isObject(json.model) && basename(path) !== 'tokenizer.json') {
    return fromVocabMergesFiles(path, join(dirname(path), 'merges.txt'));
  }
  return inFile(path, () => tokenizerFromJSON(json));
}
