// Reading tokenizer files from disk: a directory (its tokenizer.json, else vocab.json + merges.txt),
// a tokenizer.json, or GPT-2's vocab.json with merges.txt beside it. Which class a file becomes is
// the caller's `TokenizerReaders` (Tokenizer's registry of its subclasses), so this module knows no
// tokenizer class. Files are size-limited and errors name the file and the field.

import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathExists as exists, readTextFile } from '../platform/fs.js';
import { type Json, TokenizerFormatError, describe, isObject } from './tokenizer-json.js';

/** How each kind of tokenizer file becomes a tokenizer of type T. */
export interface TokenizerReaders<T> {
  /** From a parsed tokenizer.json. */
  fromJSON(json: Json): T;
  /** From GPT-2's parsed vocab.json (token → id) and the text of merges.txt. */
  fromVocabMerges(vocab: Record<string, number>, merges: string): T;
}

/** The most a tokenizer file may hold (large multilingual tokenizer.json files are ~35 MB). */
export const TOKENIZER_MAX_BYTES = 64 * 2 ** 20;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

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

async function fromVocabMergesFiles<T>(vocabPath: string, mergesPath: string, readers: TokenizerReaders<T>): Promise<T> {
  if (!(await exists(mergesPath))) throw new Error(`${vocabPath}: a vocab.json needs merges.txt beside it, and ${mergesPath} does not exist`);
  const vocab = parseJson(await readText(vocabPath), vocabPath);
  const merges = await readText(mergesPath);
  return inFile(`${vocabPath} + ${mergesPath}`, () => readers.fromVocabMerges(vocab as Record<string, number>, merges));
}

/**
 * Read the tokenizer at `path`: a directory (its tokenizer.json, else its vocab.json + merges.txt),
 * a tokenizer.json file, or a vocab.json file (with merges.txt in the same directory).
 */
export async function readTokenizerPath<T>(path: string, readers: TokenizerReaders<T>): Promise<T> {
  if (await isDirectory(path)) {
    const tj = join(path, 'tokenizer.json');
    if (await exists(tj)) return readTokenizerFile(tj, readers);
    const vj = join(path, 'vocab.json');
    if (await exists(vj)) return fromVocabMergesFiles(vj, join(path, 'merges.txt'), readers);
    throw new Error(`loadTokenizer: ${path} holds neither tokenizer.json nor vocab.json + merges.txt`);
  }
  return readTokenizerFile(path, readers);
}

/** Read a tokenizer.json or vocab.json file (never a directory: its name is read as a file). */
export async function readTokenizerFile<T>(path: string, readers: TokenizerReaders<T>): Promise<T> {
  const json = parseJson(await readText(path), path);
  if (!isObject(json) && basename(path) === 'vocab.json') throw new TokenizerFormatError(`${path}: expected a JSON object of token → id, got ${describe(json)}`);
  // A flat token → id map is a vocab.json; tokenizer.json has a "model" object.
  if (isObject(json) && !isObject(json.model) && basename(path) !== 'tokenizer.json') {
    return fromVocabMergesFiles(path, join(dirname(path), 'merges.txt'), readers);
  }
  return inFile(path, () => readers.fromJSON(json));
}
