// Hugging Face model directories: config.json ↔ GPTConfig, GPT-2 safetensors load and save, and
// fromPretrained(dir), which picks the model class from config.json's model_type.

import { readFile, stat } from 'node:fs/promises';
import { join, isAbsolute, resolve } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import { tensorsFromSafetensors, safetensorsBytes } from '../io/safetensors.js';
import { readFileBytes, writeFileAtomic } from '../platform/fs.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { loadTokenizer, type Tokenizer } from '../text/index.js';
import { GPT, type GPTConfig, type SaveTokenizer } from './gpt.js';

const WEIGHTS = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}

async function readJson(path: string, where: string): Promise<Record<string, any>> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch { throw new Error(`${where}: cannot read ${path}`); }
  try { return JSON.parse(text); } catch (e) { throw new Error(`${where}: ${path} is not valid JSON: ${(e as Error).message}`); }
}

// ---------------------------------------------------------------------------------------------
// config.json

/** A GPTConfig from a transformers GPT2Config (config.json); unsupported variants are errors. */
export function gpt2ConfigFromHF(j: Record<string, any>, where = 'GPT.fromPretrained'): GPTConfig {
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number') throw new Error(`${where}: config.json needs a number ${key}, got ${JSON.stringify(j[key])}`);
    return v;
  };
  if (j.scale_attn_weights === false) throw new Error(`${where}: config.json sets scale_attn_weights false, which GPT does not support`);
  if (j.scale_attn_by_inverse_layer_idx === true) throw new Error(`${where}: config.json sets scale_attn_by_inverse_layer_idx, which GPT does not support`);
  const activation = j.activation_function ?? 'gelu_new';
  if (!['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'relu'].includes(activation)) {
    throw new Error(`${where}: activation_function '${activation}' is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu)`);
  }
  const resid = num('resid_pdrop', 0.1);
  return {
    vocabSize: num('vocab_size', 50257),
    nPositions: num('n_positions', j.n_ctx ?? 1024),
    nEmbd: num('n_embd', 768),
    nLayer: num('n_layer', 12),
    nHead: num('n_head', 12),
    nInner: j.n_inner ?? null,
    activation,
    dropout: resid,
    embdPdrop: num('embd_pdrop', 0.1),
    attnPdrop: num('attn_pdrop', 0.1),
    residPdrop: resid,
    layerNormEps: num('layer_norm_epsilon', 1e-5),
    bias: true,
    tieWeights: j.tie_word_embeddings ?? true,
    // GPT2Config's defaults (50256, <|endoftext|>) when absent; an explicit null stays null.
    bosTokenId: 'bos_token_id' in j ? j.bos_token_id : 50256,
    eosTokenId: 'eos_token_id' in j ? j.eos_token_id : 50256,
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

/** The tensors of a directory's safetensors file, or of the shards its index lists. */
async function readWeights(dir: string, where: string): Promise<Map<string, Tensor>> {
  const single = join(dir, WEIGHTS), index = join(dir, INDEX);
  let files: string[];
  if (await exists(single)) files = [single];
  else if (await exists(index)) {
    const map = (await readJson(index, where)).weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== 'object') throw new Error(`${where}: ${index} has no weight_map`);
    files = [...new Set(Object.values(map))].map((f) => join(dir, f));
  } else if (await exists(join(dir, 'pytorch_model.bin'))) {
    throw new Error(`${where}: ${dir} holds pytorch_model.bin but no ${WEIGHTS}; only safetensors can be read (re-save with save_pretrained(dir, safe_serialization=True))`);
  } else throw new Error(`${where}: ${dir} has no ${WEIGHTS} (nor ${INDEX})`);
  const all = new Map<string, Tensor>();
  for (const f of files) for (const [k, t] of tensorsFromSafetensors(await readFileBytes(f), f).tensors) all.set(k, t);
  return all;
}

/**
 * Load a GPT-2 directory (see GPT.fromPretrained). Keys may carry the `transformer.` prefix
 * (GPT2LMHeadModel) or not (GPT2Model); lm_head.weight is taken from wte when tied.
 */
export async function loadGPT2(dir: string, opts: { strict?: boolean } = {}): Promise<GPT> {
  const where = 'GPT.fromPretrained';
  const json = await readJson(join(dir, 'config.json'), where);
  if (json.model_type !== undefined && json.model_type !== 'gpt2') throw new Error(`${where}: ${dir} holds a '${json.model_type}' model, not gpt2`);
  const model = new GPT(gpt2ConfigFromHF(json, where), { init: false }); // every weight comes from the file
  const file = await readWeights(dir, where);
  try {
    const own = model.stateDict();
    const sd: Record<string, Tensor> = {};
    const used = new Set<string>();
    for (const [key, t] of Object.entries(own)) {
      if (key === 'lm_head.weight' && model.config.tieWeights) { used.add(key); continue; }
      const short = key.replace(/^transformer\./, '');
      const found = file.has(key) ? key : file.has(short) ? short : null;
      if (!found) throw new Error(`${where}: ${dir} has no tensor '${key}'${short !== key ? ` (nor '${short}')` : ''}`);
      const v = file.get(found)!;
      if (!shapesEqual(v.shape, t.shape)) {
        throw new Error(`${where}: '${found}' has shape ${fmtShape(v.shape)} in ${dir}, but config.json gives ${fmtShape(t.shape)}`);
      }
      sd[key] = v;
      used.add(found);
    }
    const extra = [...file.keys()].filter((k) => !used.has(k) && !IGNORED.test(k) && k !== 'lm_head.weight');
    if (extra.length && (opts.strict ?? true)) {
      throw new Error(`${where}: ${dir} has tensors GPT does not use: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ` and ${extra.length - 8} more` : ''}`);
    }
    model.loadStateDict(sd, { strict: false });
  } finally {
    for (const t of file.values()) t.dispose();
  }
  return model;
}

/** Write a GPT as transformers' GPT2LMHeadModel.save_pretrained does (see GPT.savePretrained). */
export async function saveGPT2(model: GPT, dir: string, opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {}): Promise<void> {
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
      const addZeros = (key: string, n: number) => { const z = zeros([n]); made.push(z); tensors.set(key, z); };
      const C = c.nEmbd, I = c.nInner ?? 4 * C;
      for (let i = 0; i < c.nLayer; i++) {
        const p = `transformer.h.${i}`;
        addZeros(`${p}.ln_1.bias`, C); addZeros(`${p}.attn.c_attn.bias`, 3 * C); addZeros(`${p}.attn.c_proj.bias`, C);
        addZeros(`${p}.ln_2.bias`, C); addZeros(`${p}.mlp.c_fc.bias`, I); addZeros(`${p}.mlp.c_proj.bias`, C);
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

// ---------------------------------------------------------------------------------------------

/** The model classes fromPretrained knows, by config.json's model_type. */
const LOADERS: Record<string, (dir: string) => Promise<GPT>> = {
  gpt2: (dir) => loadGPT2(dir),
};

/** What fromPretrained returns: the model, and its tokenizer when the directory has one. */
export interface Pretrained {
  model: GPT;
  /** From tokenizer.json, or vocab.json + merges.txt; null when the directory has neither. */
  tokenizer: Tokenizer | null;
}

/**
 * Load a Hugging Face model directory, choosing the class by config.json's model_type (gpt2
 * today), with its tokenizer when tokenizer files are there.
 * @example const { model, tokenizer } = await models.fromPretrained('models/distilgpt2')
 */
export async function fromPretrained(dir: string): Promise<Pretrained> {
  if (await exists(join(dir, 'adapter_config.json'))) return fromAdapter(dir);
  const json = await readJson(join(dir, 'config.json'), 'fromPretrained');
  const type = json.model_type;
  const load = typeof type === 'string' ? LOADERS[type] : undefined;
  if (!load) throw new Error(`fromPretrained: ${dir}/config.json has model_type ${JSON.stringify(type)}; supported: ${Object.keys(LOADERS).join(', ')}`);
  const model = await load(dir);
  const hasTokenizer = await exists(join(dir, 'tokenizer.json')) || (await exists(join(dir, 'vocab.json')) && await exists(join(dir, 'merges.txt')));
  const tokenizer = hasTokenizer ? await loadTokenizer(dir) : null;
  return { model, tokenizer };
}

/**
 * A PEFT adapter directory (adapter_config.json + adapter_model.safetensors): the base model named
 * by base_model_name_or_path (a directory; relative paths resolve from the adapter's) with the
 * adapters loaded, as PEFT's AutoPeftModelForCausalLM does. The tokenizer comes from the adapter
 * directory when it has one, else from the base.
 */
async function fromAdapter(dir: string): Promise<Pretrained> {
  const cfg = await readJson(join(dir, 'adapter_config.json'), 'fromPretrained');
  const basePath = cfg.base_model_name_or_path;
  if (typeof basePath !== 'string' || !basePath) throw new Error(`fromPretrained: ${dir}/adapter_config.json names no base_model_name_or_path`);
  const base = isAbsolute(basePath) ? basePath : resolve(dir, basePath);
  if (!(await exists(join(base, 'config.json')))) throw new Error(`fromPretrained: the base model of the adapter in ${dir}, ${base}, has no config.json`);
  const { model, tokenizer } = await fromPretrained(base);
  const { loadAdapter } = await import('../nn/lora.js');
  await loadAdapter(model, dir);
  const own = await exists(join(dir, 'tokenizer.json')) ? await (await import('../text/index.js')).loadTokenizer(dir) : null;
  return { model, tokenizer: own ?? tokenizer };
}
