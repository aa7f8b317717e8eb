// The BERT family's Hugging Face files: config.json (bert-config.ts parses and writes it), and the
// weights (model.safetensors, or shards listed in model.safetensors.index.json; F32, F16 or BF16,
// computed in float32) checked against the config from their headers before any data is read,
// loaded into an encoder or a task head and saved from one. A head whose weights the directory lacks
// (a classifier fine-tuned from a masked-LM checkpoint) starts from transformers' init, as
// transformers' from_pretrained does; the classes in bert.ts and bert-heads.ts call these.

import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { safetensorsBytes } from '../io/safetensors.js';
import { writeFileAtomic } from '../platform/fs.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { type SaveTokenizer, type WeightHeaders, disposeModel, readJsonObject, readWeightData, readWeightHeaders } from './gpt2-files.js';
import { BERT_ARCHITECTURES, type BertConfig, type BertHead, bertConfigFromHF, bertConfigToHF, bertHeadOf } from './bert-config.js';

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

/** Tensors older checkpoints carry that are not weights (position id buffers) or belong to heads nabla does not have (next-sentence prediction). */
const IGNORED = /(^|\.)(position_ids|token_type_ids)$|^cls\.seq_relationship\./;

/** One expected tensor: its key in the model, shape, the config.json fields that set it, and whether it belongs to the encoder, the pooler or the head. */
type Expected = [key: string, shape: number[], fields: string, part: 'trunk' | 'pooler' | 'head'];

/**
 * The tensors a model with config `c` and head `head` holds (transformers' names; the encoder's under
 * `bert.`/`distilbert.`/`roberta.` when there is a head), tied ones left out. Lazy, so a huge
 * num_hidden_layers costs nothing.
 */
function* bertShapes(c: BertConfig, head: BertHead, pooler: boolean): Generator<Expected> {
  const C = c.nEmbd,
    I = c.nInner,
    V = c.vocabSize,
    L = c.labels.length;
  const distil = c.family === 'distilbert';
  const hidden = distil ? 'dim' : 'hidden_size',
    inner = distil ? 'dim, hidden_dim' : 'hidden_size, intermediate_size';
  const p = head === 'base' ? '' : `${c.family}.`;
  const linear = function* (name: string, out: number, inp: number, fields: string, part: Expected[3] = 'trunk'): Generator<Expected> {
    yield [`${name}.weight`, [out, inp], fields, part];
    yield [`${name}.bias`, [out], fields, part];
  };
  const norm = function* (name: string, part: Expected[3] = 'trunk'): Generator<Expected> {
    yield [`${name}.weight`, [C], hidden, part];
    yield [`${name}.bias`, [C], hidden, part];
  };
  yield [`${p}embeddings.word_embeddings.weight`, [V, C], `vocab_size, ${hidden}`, 'trunk'];
  yield [`${p}embeddings.position_embeddings.weight`, [c.nPositions, C], `max_position_embeddings, ${hidden}`, 'trunk'];
  if (!distil) yield [`${p}embeddings.token_type_embeddings.weight`, [c.typeVocabSize, C], 'type_vocab_size, hidden_size', 'trunk'];
  yield* norm(`${p}embeddings.LayerNorm`);
  for (let i = 0; i < c.nLayer; i++) {
    if (distil) {
      const l = `${p}transformer.layer.${i}`;
      for (const n of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) yield* linear(`${l}.attention.${n}`, C, C, hidden);
      yield* norm(`${l}.sa_layer_norm`);
      yield* linear(`${l}.ffn.lin1`, I, C, inner);
      yield* linear(`${l}.ffn.lin2`, C, I, inner);
      yield* norm(`${l}.output_layer_norm`);
    } else {
      const l = `${p}encoder.layer.${i}`;
      for (const n of ['query', 'key', 'value']) yield* linear(`${l}.attention.self.${n}`, C, C, hidden);
      yield* linear(`${l}.attention.output.dense`, C, C, hidden);
      yield* norm(`${l}.attention.output.LayerNorm`);
      yield* linear(`${l}.intermediate.dense`, I, C, inner);
      yield* linear(`${l}.output.dense`, C, I, inner);
      yield* norm(`${l}.output.LayerNorm`);
    }
  }
  if (pooler) yield* linear(`${p}pooler.dense`, C, C, hidden, 'pooler');
  const labels = `id2label (${L} labels), ${hidden}`;
  const untied = ' (tie_word_embeddings false)';
  switch (head) {
    case 'base':
      return;
    case 'sequenceClassification':
      if (c.family === 'roberta') {
        yield* linear('classifier.dense', C, C, hidden, 'head');
        yield* linear('classifier.out_proj', L, C, labels, 'head');
      } else {
        if (distil) yield* linear('pre_classifier', C, C, hidden, 'head');
        yield* linear('classifier', L, C, labels, 'head');
      }
      return;
    case 'tokenClassification':
      yield* linear('classifier', L, C, labels, 'head');
      return;
    case 'questionAnswering':
      yield* linear('qa_outputs', 2, C, `${hidden} (start and end logits)`, 'head');
      return;
    case 'maskedLM':
      if (c.family === 'bert') {
        yield* linear('cls.predictions.transform.dense', C, C, hidden, 'head');
        yield* norm('cls.predictions.transform.LayerNorm', 'head');
        yield ['cls.predictions.bias', [V], 'vocab_size', 'head'];
        if (!c.tieWeights) yield ['cls.predictions.decoder.weight', [V, C], `vocab_size, hidden_size${untied}`, 'head'];
      } else if (c.family === 'roberta') {
        yield* linear('lm_head.dense', C, C, hidden, 'head');
        yield* norm('lm_head.layer_norm', 'head');
        yield ['lm_head.bias', [V], 'vocab_size', 'head'];
        if (!c.tieWeights) yield ['lm_head.decoder.weight', [V, C], `vocab_size, hidden_size${untied}`, 'head'];
      } else {
        yield* linear('vocab_transform', C, C, hidden, 'head');
        yield* norm('vocab_layer_norm', 'head');
        if (!c.tieWeights) yield ['vocab_projector.weight', [V, C], `vocab_size, dim${untied}`, 'head'];
        yield ['vocab_projector.bias', [V], 'vocab_size', 'head'];
      }
  }
}

/** Where a model key may be in a file: as it is, with or without the encoder's prefix, LayerNorm's old gamma/beta names, a decoder bias under its own name. */
function candidates(key: string, family: string): string[] {
  const prefix = `${family}.`;
  const names = [key, key.startsWith(prefix) ? key.slice(prefix.length) : `${prefix}${key}`];
  if (key === 'cls.predictions.bias') names.push('cls.predictions.decoder.bias');
  if (key === 'lm_head.bias') names.push('lm_head.decoder.bias');
  const old = names.filter((n) => /LayerNorm\.(weight|bias)$/.test(n)).map((n) => n.replace(/\.weight$/, '.gamma').replace(/\.bias$/, '.beta'));
  return [...names, ...old];
}

/** What checkBertWeights found: the file key of each model key it reads, whether the pooler is there, and which parts start from init. */
export interface BertWeightPlan {
  keys: Map<string, string>;
  /** The directory holds BERT's/RoBERTa's pooler (an encoder without a head is built with it only then). */
  pooler: boolean;
  /** Parts the files lack, which start from transformers' init (a new head, or a pooler). */
  fresh: ('pooler' | 'head')[];
}

/**
 * Compare a config with the weights' headers before anything is allocated: the number of layers,
 * then every tensor's presence, dtype and shape. The head's tensors may all be absent when
 * config.json names another class (`fileHead`): they start from init then. With `strict`, a tensor
 * of the encoder that nobody reads is an error (another head's are not).
 */
export function checkBertWeights(c: BertConfig, head: BertHead, fileHead: BertHead, h: WeightHeaders, opts: { configFile: string; strict: boolean; where: string }): BertWeightPlan {
  const { configFile, where } = opts;
  const distil = c.family === 'distilbert';
  let fileLayers = 0;
  for (const k of h.tensors.keys()) {
    const m = /(?:^|\.)(?:encoder|transformer)\.layer\.(\d+)\./.exec(k);
    if (m) fileLayers = Math.max(fileLayers, Number(m[1]) + 1);
  }
  if (fileLayers !== c.nLayer) {
    throw new Error(`${where}: ${configFile} has ${distil ? 'n_layers' : 'num_hidden_layers'} ${c.nLayer}, but the weights in ${h.dir} hold ${fileLayers || 'no'} layers`);
  }
  const find = (key: string) => candidates(key, c.family).find((k) => h.tensors.has(k)) ?? null;
  const hasPooler = !distil && find(`${head === 'base' ? '' : `${c.family}.`}pooler.dense.weight`) !== null;
  // BERT's sequence classifier reads the pooler; an encoder alone keeps it when the files have it.
  const pooler = !distil && ((head === 'sequenceClassification' && c.family === 'bert') || (head === 'base' && hasPooler));
  const expected = [...bertShapes(c, head, pooler)];
  const keys = new Map<string, string>();
  const missing: Record<Expected[3], string[]> = { trunk: [], pooler: [], head: [] };
  for (const [key, shape, fields, part] of expected) {
    const k = find(key);
    if (k === null) {
      missing[part].push(key);
      continue;
    }
    const e = h.tensors.get(k)!;
    if (!FLOAT_DTYPES.has(e.dtype)) throw new Error(`${where}: '${k}' in ${e.file} has dtype ${e.dtype}; weights are floating point (F32, F16, BF16, F64)`);
    if (!shapesEqual(e.shape, shape)) throw new Error(`${where}: '${k}' has shape ${fmtShape(e.shape)} in ${h.dir}, but ${configFile} gives ${fmtShape(shape)} (${fields})`);
    keys.set(key, k);
  }
  const fresh: BertWeightPlan['fresh'] = [];
  if (missing.trunk.length)
    throw new Error(`${where}: ${h.source} has no tensor '${missing.trunk[0]}', which ${configFile} needs${missing.trunk.length > 1 ? ` (and ${missing.trunk.length - 1} more)` : ''}`);
  const name = BERT_ARCHITECTURES[c.family][head];
  for (const part of ['pooler', 'head'] as const) {
    const lack = missing[part];
    if (!lack.length) continue;
    const all = expected.filter((e) => e[3] === part).length;
    // A class's own checkpoint must hold its head; a checkpoint of another class gives the encoder only.
    if (lack.length < all || (part === 'head' && fileHead === head)) {
      throw new Error(`${where}: ${h.source} has no tensor '${lack[0]}', which ${name} needs${lack.length > 1 ? ` (and ${lack.length - 1} more)` : ''}`);
    }
    fresh.push(part);
  }
  if (opts.strict) {
    const used = new Set(keys.values());
    const encoder = new RegExp(`^(${c.family}\\.)?(embeddings|encoder|transformer|pooler)\\.`);
    const extra = [...h.tensors.keys()].filter((k) => !used.has(k) && !IGNORED.test(k) && encoder.test(k) && !/pooler\./.test(k));
    if (extra.length) {
      throw new Error(
        `${where}: ${h.source} has encoder tensors the model does not use: ${extra.slice(0, 8).join(', ')}${extra.length > 8 ? ` and ${extra.length - 8} more` : ''} (check config.json's sizes)`,
      );
    }
  }
  return { keys, pooler, fresh };
}

/** Options of loading a BERT-family directory. */
export interface LoadBertOptions {
  /** Refuse encoder tensors nobody reads (default true). */
  strict?: boolean;
  /** Class names for a classifier whose head starts from init (fine-tuning from a checkpoint of another class); default config.json's id2label. */
  labels?: string[];
}

/**
 * Load a BERT-family directory into the model `build(config, pooler)` makes with `head` (see the
 * classes' fromPretrained). config.json is checked against the weights' headers before the model is
 * built or any tensor data is read; every weight then comes from the files, except a head (or
 * pooler) the files lack, which keeps transformers' init.
 */
export async function loadBert<M extends Module>(
  dir: string,
  head: BertHead | null,
  build: (config: BertConfig, o: { head: BertHead; pooler: boolean; init: boolean }) => M,
  opts: LoadBertOptions & { where: string },
): Promise<M> {
  const { where } = opts;
  const configFile = join(dir, 'config.json');
  const json = await readJsonObject(configFile, where);
  if (typeof json.model_type !== 'string' || !Object.hasOwn(BERT_ARCHITECTURES, json.model_type)) {
    throw new Error(`${where}: ${dir} holds a ${JSON.stringify(json.model_type ?? null)} model; the BERT family's are ${Object.keys(BERT_ARCHITECTURES).join(', ')}`);
  }
  const config = bertConfigFromHF(json, where, configFile);
  const fileHead = bertHeadOf(config.family, json.architectures, where, configFile);
  const want = head ?? fileHead;
  if (want === 'questionAnswering' && fileHead === want && config.labels.length !== 2) {
    throw new Error(`${where}: ${configFile}: a question-answering head gives start and end logits, so num_labels must be 2, got ${config.labels.length}`);
  }
  const headers = await readWeightHeaders(dir, where);
  const own = fileHead === want;
  if (opts.labels && !(want === 'sequenceClassification' || want === 'tokenClassification'))
    throw new Error(`${where}: labels are for a sequence or token classifier, not ${BERT_ARCHITECTURES[config.family][want]}`);
  if (opts.labels && own && opts.labels.length !== config.labels.length) {
    throw new Error(`${where}: ${configFile} holds a classifier of ${config.labels.length} labels (${config.labels.join(', ')}); cannot give it ${opts.labels.length}`);
  }
  if (opts.labels) config.labels = [...opts.labels];
  if (!own && want !== 'base' && want !== 'maskedLM') config.problemType = null;
  const plan = checkBertWeights(config, want, fileHead, headers, { configFile, strict: opts.strict ?? true, where });
  const model = build(config, { head: want, pooler: plan.pooler, init: plan.fresh.length > 0 });
  let file: Map<string, Tensor> | null = null;
  try {
    file = await readWeightData(headers);
    const sd: Record<string, Tensor> = {};
    const seen = new Set<Tensor>();
    for (const [key, t] of Object.entries(model.stateDict())) {
      if (seen.has(t)) continue; // a tied alias: the first name fills it
      seen.add(t);
      const k = plan.keys.get(key);
      if (k === undefined) {
        if (plan.fresh.length) continue; // a part that keeps its init
        throw new Error(`${where}: ${dir}: nothing in the files for '${key}'`);
      }
      const v = file.get(k);
      // The headers were checked; the files could still have changed since.
      if (!v || !shapesEqual(v.shape, t.shape)) throw new Error(`${where}: ${dir} changed while being read ('${key}')`);
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

/**
 * Write a BERT-family model as transformers' save_pretrained does for the class of `head`: config.json
 * and model.safetensors without the tied names (the masked-LM decoder's weight and bias), plus
 * tokenizer.json when a tokenizer is given; `float32As` stores the weights as F16 or BF16.
 */
export async function saveBert(
  model: Module & { readonly config: BertConfig },
  head: BertHead,
  dir: string,
  opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {},
): Promise<void> {
  const dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[opts.float32As ?? 'F32'];
  const json = bertConfigToHF(model.config, head, dtype); // checks the config can be said in config.json before anything is written
  const tensors = new Map<string, Tensor>();
  const seen = new Set<Tensor>();
  for (const [key, t] of Object.entries(model.stateDict())) {
    if (seen.has(t)) continue; // tied: transformers writes the first name only
    seen.add(t);
    tensors.set(key, t);
  }
  await writeFileAtomic(join(dir, 'model.safetensors'), await safetensorsBytes(tensors, { format: 'pt' }, { float32As: opts.float32As }));
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
  if (opts.tokenizer) await opts.tokenizer.save(join(dir, 'tokenizer.json'));
}
