// The Llama family's Hugging Face files: config.json (llama-config.ts parses and writes it), and the
// weights (model.safetensors, or shards listed in model.safetensors.index.json; F32, F16 or BF16,
// read as float32) checked against the config from their headers before any data is read, loaded
// into a model and saved from one. Llama.fromPretrained / savePretrained call these; pretrained.ts
// picks the class for a directory.

import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { safetensorsBytes } from '../io/safetensors.js';
import { writeFileAtomic } from '../platform/fs.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { type SaveTokenizer, type WeightHeaders, loadCheckedWeights, readJsonObject, readWeightHeaders } from './gpt2-files.js';
import { LLAMA_ARCHITECTURES, type LlamaConfig, llamaConfigFromHF, llamaConfigToHF } from './llama-config.js';

const WHERE = 'Llama.fromPretrained';

/** Buffers older checkpoints carry (the rotary inverse frequencies, recomputed from the config); not weights. */
const IGNORED = /(^|\.)rotary_emb\.inv_freq$/;

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

/**
 * The tensors a Llama with config `c` holds (transformers' names), each with its shape and the
 * config.json fields that set it. Lazy, so a huge num_hidden_layers costs nothing.
 */
function* llamaShapes(c: LlamaConfig): Generator<[string, number[], string]> {
  const C = c.nEmbd,
    q = c.nHead * c.headDim,
    kv = c.nKvHead * c.headDim,
    I = c.nInner;
  const heads = 'hidden_size, num_attention_heads, head_dim',
    kvHeads = 'hidden_size, num_key_value_heads, head_dim',
    mlp = 'hidden_size, intermediate_size';
  yield ['model.embed_tokens.weight', [c.vocabSize, C], 'vocab_size, hidden_size'];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `model.layers.${i}`;
    yield [`${p}.self_attn.q_proj.weight`, [q, C], heads];
    yield [`${p}.self_attn.k_proj.weight`, [kv, C], kvHeads];
    yield [`${p}.self_attn.v_proj.weight`, [kv, C], kvHeads];
    yield [`${p}.self_attn.o_proj.weight`, [C, q], heads];
    if (c.qkvBias) {
      yield [`${p}.self_attn.q_proj.bias`, [q], heads];
      yield [`${p}.self_attn.k_proj.bias`, [kv], kvHeads];
      yield [`${p}.self_attn.v_proj.bias`, [kv], kvHeads];
    }
    if (c.oBias) yield [`${p}.self_attn.o_proj.bias`, [C], 'hidden_size'];
    yield [`${p}.mlp.gate_proj.weight`, [I, C], mlp];
    yield [`${p}.mlp.up_proj.weight`, [I, C], mlp];
    yield [`${p}.mlp.down_proj.weight`, [C, I], mlp];
    if (c.mlpBias) {
      yield [`${p}.mlp.gate_proj.bias`, [I], mlp];
      yield [`${p}.mlp.up_proj.bias`, [I], mlp];
      yield [`${p}.mlp.down_proj.bias`, [C], 'hidden_size'];
    }
    yield [`${p}.input_layernorm.weight`, [C], 'hidden_size'];
    yield [`${p}.post_attention_layernorm.weight`, [C], 'hidden_size'];
  }
  yield ['model.norm.weight', [C], 'hidden_size'];
  if (!c.tieWeights) yield ['lm_head.weight', [c.vocabSize, C], 'vocab_size, hidden_size (tie_word_embeddings false)'];
}

/**
 * Compare a config with the weights' headers before anything is allocated: the number of layers,
 * then every tensor's presence, dtype and shape; with `strict`, tensors nobody uses. Returns the
 * file key of each model key (the file may omit the `model.` prefix, as LlamaModel saves it).
 */
export function checkLlamaWeights(c: LlamaConfig, h: WeightHeaders, opts: { configFile: string; strict: boolean }): Map<string, string> {
  const { configFile } = opts;
  let fileLayers = 0,
    prefix = 'model.';
  for (const k of h.tensors.keys()) {
    const m = /^(model\.)?layers\.(\d+)\./.exec(k);
    if (m) {
      fileLayers = Math.max(fileLayers, Number(m[2]) + 1);
      prefix = m[1] ?? '';
    }
  }
  if (fileLayers < c.nLayer || (fileLayers > c.nLayer && opts.strict)) {
    const held = fileLayers ? `${fileLayers} layers (${prefix}layers.0 to ${prefix}layers.${fileLayers - 1})` : 'no layers';
    throw new Error(`${WHERE}: ${configFile} has num_hidden_layers ${c.nLayer}, but the weights in ${h.dir} hold ${held}`);
  }
  const found = new Map<string, string>();
  for (const [key, shape, fields] of llamaShapes(c)) {
    const short = key.replace(/^model\./, '');
    const k = h.tensors.has(key) ? key : h.tensors.has(short) ? short : null;
    if (k === null) {
      const bias = key.endsWith('.bias') ? ' (the config asks for biases: attention_bias / mlp_bias, or a qwen2 model_type)' : '';
      throw new Error(`${WHERE}: ${h.source} has no tensor '${key}'${short !== key ? ` (nor '${short}')` : ''}, which ${configFile} needs${bias}`);
    }
    const e = h.tensors.get(k)!;
    if (!FLOAT_DTYPES.has(e.dtype)) throw new Error(`${WHERE}: '${k}' in ${e.file} has dtype ${e.dtype}; weights are floating point (F32, F16, BF16, F64)`);
    if (!shapesEqual(e.shape, shape)) throw new Error(`${WHERE}: '${k}' has shape ${fmtShape(e.shape)} in ${h.dir}, but ${configFile} gives ${fmtShape(shape)} (${fields})`);
    found.set(key, k);
  }
  if (opts.strict) {
    const used = new Set(found.values());
    // A tied checkpoint may still carry lm_head.weight (a copy of the embedding); it is not read.
    const extra = [...h.tensors.keys()].filter((k) => !used.has(k) && !IGNORED.test(k) && !(c.tieWeights && k === 'lm_head.weight'));
    if (extra.length) {
      const bias = extra.some((k) => k.endsWith('_proj.bias')) ? ' (biases the config does not ask for: check attention_bias / mlp_bias and model_type)' : '';
      throw new Error(`${WHERE}: ${h.source} has tensors the model does not use: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ` and ${extra.length - 8} more` : ''}${bias}`);
    }
  }
  return found;
}

/**
 * Load a Llama-family directory into the model `build(config)` makes (see Llama.fromPretrained).
 * config.json is checked against the weights' headers before the model is built or any tensor
 * data is read; every weight then comes from the files.
 */
export async function loadLlama<M extends Module>(dir: string, build: (config: LlamaConfig) => M, opts: { strict?: boolean } = {}): Promise<M> {
  const configFile = join(dir, 'config.json');
  const json = await readJsonObject(configFile, WHERE);
  if (typeof json.model_type !== 'string' || !Object.hasOwn(LLAMA_ARCHITECTURES, json.model_type)) {
    throw new Error(`${WHERE}: ${dir} holds a ${JSON.stringify(json.model_type ?? null)} model; the Llama family's are ${Object.keys(LLAMA_ARCHITECTURES).join(', ')}`);
  }
  const config = llamaConfigFromHF(json, WHERE, configFile);
  const headers = await readWeightHeaders(dir, WHERE);
  const keys = checkLlamaWeights(config, headers, { configFile, strict: opts.strict ?? true });
  return loadCheckedWeights(build(config), headers, keys, { tied: config.tieWeights, where: WHERE, dir });
}

/** Write a Llama as transformers' save_pretrained does (see Llama.savePretrained). */
export async function saveLlama(
  model: Module & { readonly config: LlamaConfig },
  dir: string,
  opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {},
): Promise<void> {
  const c = model.config;
  const dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[opts.float32As ?? 'F32'];
  const json = llamaConfigToHF(c, dtype); // checks the config can be said in config.json before anything is written
  const tensors = new Map<string, Tensor>();
  for (const [key, t] of Object.entries(model.stateDict())) {
    if (key === 'lm_head.weight' && c.tieWeights) continue; // shared with embed_tokens, which transformers omits too
    tensors.set(key, t);
  }
  await writeFileAtomic(join(dir, 'model.safetensors'), await safetensorsBytes(tensors, { format: 'pt' }, { float32As: opts.float32As }));
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
  if (opts.tokenizer) await opts.tokenizer.save(join(dir, 'tokenizer.json'));
}
