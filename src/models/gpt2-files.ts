// GPT-2's Hugging Face files: config.json ↔ GPTConfig (transformers' GPT2Config), and the weights
// (model.safetensors, or shards listed in model.safetensors.index.json) checked against the config
// from their headers before any data is read, loaded into a model and saved from one. The model
// classes call these (GPT.fromPretrained / savePretrained, GPTClassifier); pretrained.ts picks the
// class for a directory.

import { join, isAbsolute, posix, win32 } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { zeros } from '../tensor/creation.js';
import { readSafetensorsFile, readSafetensorsHeader, safetensorsBytes } from '../io/safetensors.js';
import type { HeaderEntry } from '../io/safetensors-format.js';
import { pathExists as exists, readJsonObject as readFsJsonObject, writeFileAtomic } from '../platform/fs.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import type { GPTConfig } from './gpt-config.js';

const WEIGHTS = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
/** Size limits of the JSON files read from a model directory (GPT-2's config.json is 1 KB, a large index 100 KB). */
export const CONFIG_MAX_BYTES = 16 * 2 ** 20;
const INDEX_MAX_BYTES = 64 * 2 ** 20;

/** config.json-sized JSON object files (platform/fs readJsonObject with the config limit by default). */
// biome-ignore lint/suspicious/noExplicitAny: JSON of any shape; callers check each field
export function readJsonObject(path: string, where: string, maxBytes = CONFIG_MAX_BYTES): Promise<Record<string, any>> {
  return readFsJsonObject(path, where, maxBytes);
}

/** Free every tensor of a model that will not be returned (its parameters are kept tensors). */
export function disposeModel(m: Module): void {
  for (const t of new Set(Object.values(m.stateDict()))) t.dispose();
}

// ---------------------------------------------------------------------------------------------
// config.json

/**
 * A GPTConfig from a transformers GPT2Config (config.json); unsupported variants, ill-typed and
 * out-of-range fields are errors that name `file` and the field.
 */
// biome-ignore lint/suspicious/noExplicitAny: config.json as read; each field is checked below
export function gpt2ConfigFromHF(j: Record<string, any>, where = 'GPT.fromPretrained', file = 'config.json'): GPTConfig {
  const bad = (what: string): never => {
    throw new Error(`${where}: ${file}: ${what}`);
  };
  const show = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v)));
  const has = (key: string) => Object.hasOwn(j, key);
  const num = (key: string, fallback: number): number => {
    const v = has(key) ? j[key] : fallback;
    if (typeof v !== 'number') bad(`needs a number ${key}, got ${show(v)}`);
    return v;
  };
  const int = (key: string, fallback: number): number => {
    const v = num(key, fallback);
    if (!Number.isSafeInteger(v) || v < 1) bad(`${key} must be a positive integer, got ${show(v)}`);
    return v;
  };
  const prob = (key: string): number => {
    const v = num(key, 0.1);
    if (!(v >= 0 && v <= 1)) bad(`${key} must be in [0, 1], got ${show(v)}`);
    return v;
  };
  const tokenId = (key: string): number | null => {
    // GPT2Config's default (50256, <|endoftext|>) when absent; an explicit null stays null.
    const v = has(key) ? j[key] : 50256;
    if (v !== null && !(Number.isSafeInteger(v) && v >= 0)) bad(`${key} must be null or a non-negative integer, got ${show(v)}`);
    return v;
  };
  if (j.scale_attn_weights === false) bad('sets scale_attn_weights false, which GPT does not support');
  if (j.scale_attn_by_inverse_layer_idx === true) bad('sets scale_attn_by_inverse_layer_idx, which GPT does not support');
  const activation = j.activation_function ?? 'gelu_new';
  if (!['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'relu'].includes(activation)) {
    bad(`activation_function ${typeof activation === 'string' ? `'${activation}'` : show(activation)} is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu)`);
  }
  const nEmbd = int('n_embd', 768),
    nHead = int('n_head', 12);
  if (nEmbd % nHead !== 0) bad(`n_embd ${nEmbd} is not divisible by n_head ${nHead}`);
  const nInner = has('n_inner') ? j.n_inner : null;
  if (nInner !== null && !(Number.isSafeInteger(nInner) && nInner >= 1)) bad(`n_inner must be null or a positive integer, got ${show(nInner)}`);
  const eps = num('layer_norm_epsilon', 1e-5);
  if (!(eps > 0 && Number.isFinite(eps))) bad(`layer_norm_epsilon must be a positive number, got ${show(eps)}`);
  const tie = has('tie_word_embeddings') ? j.tie_word_embeddings : true;
  if (typeof tie !== 'boolean') bad(`tie_word_embeddings must be true or false, got ${show(tie)}`);
  const resid = prob('resid_pdrop');
  return {
    vocabSize: int('vocab_size', 50257),
    nPositions: has('n_positions') ? int('n_positions', 1024) : int('n_ctx', 1024),
    nEmbd,
    nLayer: int('n_layer', 12),
    nHead,
    nInner,
    activation,
    dropout: resid,
    embdPdrop: prob('embd_pdrop'),
    attnPdrop: prob('attn_pdrop'),
    residPdrop: resid,
    layerNormEps: eps,
    bias: true,
    tieWeights: tie,
    bosTokenId: tokenId('bos_token_id'),
    eosTokenId: tokenId('eos_token_id'),
  };
}

/** transformers' GPT2Config as config.json holds it, every field written so GPT2LMHeadModel.from_pretrained takes it as is. */
export function gpt2ConfigToHF(c: GPTConfig, torchDtype = 'float32'): Record<string, unknown> {
  return {
    activation_function: c.activation,
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: c.attnPdrop ?? c.dropout,
    bos_token_id: c.bosTokenId,
    embd_pdrop: c.embdPdrop ?? c.dropout,
    eos_token_id: c.eosTokenId,
    initializer_range: 0.02,
    layer_norm_epsilon: c.layerNormEps,
    model_type: 'gpt2',
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_head: c.nHead,
    n_inner: c.nInner,
    n_layer: c.nLayer,
    n_positions: c.nPositions,
    reorder_and_upcast_attn: false,
    resid_pdrop: c.residPdrop ?? c.dropout,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    tie_word_embeddings: c.tieWeights,
    torch_dtype: torchDtype,
    use_cache: true,
    vocab_size: c.vocabSize,
  };
}

// ---------------------------------------------------------------------------------------------
// GPT-2 weights

/** Buffers older checkpoints carry (the causal mask); not weights. */
const IGNORED = /(^|\.)attn\.(bias|masked_bias)$/;

/** The headers of a directory's weights: each tensor's entry and the file that holds it. */
export interface WeightHeaders {
  dir: string;
  files: string[];
  /** The files in words, for errors: the one file's path, or the index file's. */
  source: string;
  tensors: Map<string, HeaderEntry & { file: string }>;
}

/** A file name from an index file that stays inside its directory: relative, and no `..` that leaves it. */
function insideDir(name: string): boolean {
  if (isAbsolute(name) || win32.isAbsolute(name)) return false;
  const norm = posix.normalize(name.replaceAll('\\', '/'));
  return norm !== '..' && !norm.startsWith('../') && norm !== '.';
}

/**
 * The checked headers of a directory's safetensors file, or of the shards its index lists (no
 * tensor data is read). Shard names must stay inside the directory. (Symlinked shards may point
 * elsewhere: the Hugging Face cache links every file to a blob outside the snapshot directory.)
 */
export async function readWeightHeaders(dir: string, where: string): Promise<WeightHeaders> {
  const single = join(dir, WEIGHTS),
    index = join(dir, INDEX);
  let files: string[];
  let map: Map<string, string> | null = null;
  if (await exists(single)) files = [single];
  else if (await exists(index)) {
    const wm = (await readJsonObject(index, where, INDEX_MAX_BYTES)).weight_map;
    if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new Error(`${where}: ${index}: weight_map must be an object of tensor name → file name`);
    map = new Map();
    for (const [key, f] of Object.entries(wm as Record<string, unknown>)) {
      if (typeof f !== 'string' || f === '') throw new Error(`${where}: ${index}: weight_map entry '${key}' must be a file name, got ${JSON.stringify(f)}`);
      if (!insideDir(f)) throw new Error(`${where}: ${index}: weight_map entry '${key}' names ${JSON.stringify(f)}, which is outside the model directory`);
      map.set(key, join(dir, f));
    }
    if (map.size === 0) throw new Error(`${where}: ${index}: weight_map is empty`);
    files = [...new Set(map.values())];
  } else if (await exists(join(dir, 'pytorch_model.bin'))) {
    throw new Error(`${where}: ${dir} holds pytorch_model.bin but no ${WEIGHTS}; only safetensors can be read (re-save with save_pretrained(dir, safe_serialization=True))`);
  } else throw new Error(`${where}: ${dir} has no ${WEIGHTS} (nor ${INDEX})`);
  const tensors = new Map<string, HeaderEntry & { file: string }>();
  for (const file of files) {
    const header = await readSafetensorsHeader(file).catch((e: Error) => {
      throw map ? new Error(`${where}: ${e.message} (a shard ${index} lists)`) : e;
    });
    for (const [k, e] of header.tensors) {
      const other = tensors.get(k);
      if (other) throw new Error(`${where}: tensor '${k}' is in both ${other.file} and ${file}`);
      tensors.set(k, { ...e, file });
    }
  }
  for (const [k, f] of map ?? []) {
    if (tensors.get(k)?.file !== f) throw new Error(`${where}: ${index} puts tensor '${k}' in ${f}, which does not hold it`);
  }
  return { dir, files, tensors, source: map ? `the files listed in ${index}` : single };
}

/** The tensors of the files whose headers were read (kept tensors; the caller disposes them). */
export async function readWeightData(h: WeightHeaders): Promise<Map<string, Tensor>> {
  const all = new Map<string, Tensor>();
  try {
    for (const f of h.files) for (const [k, t] of (await readSafetensorsFile(f)).tensors) all.set(k, t);
  } catch (e) {
    for (const t of all.values()) t.dispose();
    throw e;
  }
  return all;
}

/**
 * The tensors a GPT-2 trunk with config `c` holds (HF names with the `transformer.` prefix), each
 * with its shape and the config.json fields that set it. Lazy, so a huge n_layer costs nothing.
 */
function* gpt2TrunkShapes(c: GPTConfig): Generator<[string, number[], string]> {
  const C = c.nEmbd,
    I = c.nInner ?? 4 * C;
  yield ['transformer.wte.weight', [c.vocabSize, C], 'vocab_size, n_embd'];
  yield ['transformer.wpe.weight', [c.nPositions, C], 'n_positions, n_embd'];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `transformer.h.${i}`;
    for (const ln of ['ln_1', 'ln_2']) {
      yield [`${p}.${ln}.weight`, [C], 'n_embd'];
      yield [`${p}.${ln}.bias`, [C], 'n_embd'];
    }
    yield [`${p}.attn.c_attn.weight`, [C, 3 * C], 'n_embd'];
    yield [`${p}.attn.c_attn.bias`, [3 * C], 'n_embd'];
    yield [`${p}.attn.c_proj.weight`, [C, C], 'n_embd'];
    yield [`${p}.attn.c_proj.bias`, [C], 'n_embd'];
    yield [`${p}.mlp.c_fc.weight`, [C, I], 'n_embd, n_inner'];
    yield [`${p}.mlp.c_fc.bias`, [I], 'n_embd, n_inner'];
    yield [`${p}.mlp.c_proj.weight`, [I, C], 'n_embd, n_inner'];
    yield [`${p}.mlp.c_proj.bias`, [C], 'n_embd'];
  }
  yield ['transformer.ln_f.weight', [C], 'n_embd'];
  yield ['transformer.ln_f.bias', [C], 'n_embd'];
}

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

/**
 * Compare a GPT-2 config with the weights' headers before anything is allocated: the number of
 * layers, then every tensor's presence, dtype and shape; with `strict`, tensors nobody uses.
 * `head` adds the tensors of the model's head (lm_head.weight, a classifier's score.weight).
 * Returns the file key of each model key (the file may omit the `transformer.` prefix).
 */
export function checkGPT2Weights(
  c: GPTConfig,
  h: WeightHeaders,
  opts: { where: string; configFile: string; strict: boolean; head: [string, number[], string, string?][] },
): Map<string, string> {
  const { where, configFile } = opts,
    dir = h.dir;
  let fileLayers = 0,
    prefix = 'transformer.';
  for (const k of h.tensors.keys()) {
    const m = /^(transformer\.)?h\.(\d+)\./.exec(k);
    if (m) {
      fileLayers = Math.max(fileLayers, Number(m[2]) + 1);
      prefix = m[1] ?? '';
    }
  }
  if (fileLayers < c.nLayer || (fileLayers > c.nLayer && opts.strict)) {
    const held = fileLayers ? `${fileLayers} layers (${prefix}h.0 to ${prefix}h.${fileLayers - 1})` : 'no layers';
    throw new Error(`${where}: ${configFile} has n_layer ${c.nLayer}, but the weights in ${dir} hold ${held}`);
  }
  const found = new Map<string, string>();
  const want: Iterable<[string, number[], string, string?]>[] = [gpt2TrunkShapes(c), opts.head];
  for (const list of want) {
    for (const [key, shape, fields, why] of list) {
      const short = key.replace(/^transformer\./, '');
      const k = h.tensors.has(key) ? key : h.tensors.has(short) ? short : null;
      if (k === null) throw new Error(`${where}: ${h.source} has no tensor '${key}'${short !== key ? ` (nor '${short}')` : ''}${why ? `, which ${configFile} needs (${why})` : ''}`);
      const e = h.tensors.get(k)!;
      if (!FLOAT_DTYPES.has(e.dtype)) throw new Error(`${where}: '${k}' in ${e.file} has dtype ${e.dtype}; weights are floating point (F32, F16, BF16, F64)`);
      if (!shapesEqual(e.shape, shape)) {
        throw new Error(`${where}: '${k}' has shape ${fmtShape(e.shape)} in ${dir}, but config.json gives ${fmtShape(shape)} (${fields})`);
      }
      found.set(key, k);
    }
  }
  if (opts.strict) {
    const used = new Set(found.values());
    const extra = [...h.tensors.keys()].filter((k) => !used.has(k) && !IGNORED.test(k) && k !== 'lm_head.weight');
    if (extra.length) {
      throw new Error(`${where}: ${h.source} has tensors GPT does not use: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ` and ${extra.length - 8} more` : ''}`);
    }
  }
  return found;
}

/**
 * Load a GPT-2 directory into the model `build(config)` makes with zero weights (see
 * GPT.fromPretrained). Keys may carry the `transformer.` prefix (GPT2LMHeadModel) or not
 * (GPT2Model); lm_head.weight is taken from wte when tied. config.json is checked against the
 * weights' headers before the model is built or any tensor data is read.
 */
export async function loadGPT2<M extends Module>(dir: string, build: (config: GPTConfig) => M, opts: { strict?: boolean } = {}): Promise<M> {
  const where = 'GPT.fromPretrained';
  const configFile = join(dir, 'config.json');
  const json = await readJsonObject(configFile, where);
  if (json.model_type !== undefined && json.model_type !== 'gpt2') throw new Error(`${where}: ${dir} holds a '${json.model_type}' model, not gpt2`);
  const config = gpt2ConfigFromHF(json, where, configFile);
  const headers = await readWeightHeaders(dir, where);
  const head: [string, number[], string, string][] = config.tieWeights ? [] : [['lm_head.weight', [config.vocabSize, config.nEmbd], 'vocab_size, n_embd', 'tie_word_embeddings false']];
  const keys = checkGPT2Weights(config, headers, { where, configFile, strict: opts.strict ?? true, head });
  return loadCheckedWeights(build(config), headers, keys, { tied: config.tieWeights, where, dir }); // every weight comes from the file
}

/**
 * Fill a new model's state from weight files whose headers were checked against its config
 * (`keys`: the model's key → the file's, where they differ); a tied lm_head.weight is left to its
 * embedding. The model is disposed if anything fails.
 */
export async function loadCheckedWeights<M extends Module>(
  model: M,
  headers: WeightHeaders,
  keys: ReadonlyMap<string, string>,
  o: { tied: boolean; where: string; dir: string },
): Promise<M> {
  let file: Map<string, Tensor> | null = null;
  try {
    file = await readWeightData(headers);
    const sd: Record<string, Tensor> = {};
    for (const [key, t] of Object.entries(model.stateDict())) {
      if (key === 'lm_head.weight' && o.tied) continue;
      const v = file.get(keys.get(key) ?? key);
      // The headers were checked; the files could still have changed since.
      if (!v || !shapesEqual(v.shape, t.shape)) throw new Error(`${o.where}: ${o.dir} changed while being read ('${key}')`);
      sd[key] = v;
    }
    model.loadStateDict(sd, { strict: false });
  } catch (e) {
    disposeModel(model);
    throw e;
  } finally {
    for (const t of file?.values() ?? []) t.dispose();
  }
  return model;
}

/** What savePretrained needs of a tokenizer (nb.text's tokenizers have it). */
export interface SaveTokenizer {
  save(path: string): Promise<void>;
}

/** Write a GPT as transformers' GPT2LMHeadModel.save_pretrained does (see GPT.savePretrained). */
export async function saveGPT2(
  model: Module & { readonly config: GPTConfig },
  dir: string,
  opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {},
): Promise<void> {
  const c = model.config;
  const tensors = new Map<string, Tensor>();
  const made: Tensor[] = [];
  try {
    for (const [key, t] of Object.entries(model.stateDict())) {
      if (key === 'lm_head.weight' && c.tieWeights) continue; // shared with wte, which HF omits too
      tensors.set(key, t);
    }
    if (!c.bias) {
      // GPT2LMHeadModel always has biases: zeros give the same function.
      const addZeros = (key: string, n: number) => {
        const z = zeros([n]);
        made.push(z);
        tensors.set(key, z);
      };
      const C = c.nEmbd,
        I = c.nInner ?? 4 * C;
      for (let i = 0; i < c.nLayer; i++) {
        const p = `transformer.h.${i}`;
        addZeros(`${p}.ln_1.bias`, C);
        addZeros(`${p}.attn.c_attn.bias`, 3 * C);
        addZeros(`${p}.attn.c_proj.bias`, C);
        addZeros(`${p}.ln_2.bias`, C);
        addZeros(`${p}.mlp.c_fc.bias`, I);
        addZeros(`${p}.mlp.c_proj.bias`, C);
      }
      addZeros('transformer.ln_f.bias', C);
    }
    const dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[opts.float32As ?? 'F32'];
    await writeFileAtomic(join(dir, WEIGHTS), await safetensorsBytes(tensors, { format: 'pt' }, { float32As: opts.float32As }));
    await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(gpt2ConfigToHF(c, dtype), null, 2)}\n`);
    if (opts.tokenizer) await opts.tokenizer.save(join(dir, 'tokenizer.json'));
  } finally {
    for (const t of made) t.dispose();
  }
}
