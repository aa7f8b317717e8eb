// The BERT family of encoders (Devlin et al. 2019; DistilBERT, Sanh et al. 2019; RoBERTa, Liu et al.
// 2019) as transformers' modeling_bert.py, modeling_distilbert.py and modeling_roberta.py write them,
// with their module names, so BertModel / DistilBertModel / RobertaModel checkpoints load by name:
// token + position (+ segment) embeddings and a LayerNorm, then post-LN layers of bidirectional
// self-attention and a GELU feed-forward block. RoBERTa is BERT's layout whose positions count from
// pad_token_id + 1 and skip padding; DistilBERT has its own names, no segments and half the layers.
// The task heads are in bert-heads.ts, the config in bert-config.ts, the files in bert-files.ts.

import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Embedding } from '../nn/layers/embedding.js';
import { LayerNorm } from '../nn/layers/norm.js';
import { Linear } from '../nn/layers/linear.js';
import { Dropout } from '../nn/layers/dropout.js';
import { scaledDotProductAttention } from '../nn/layers/attention.js';
import { normal_, ones_, zeros_ } from '../nn/init.js';
import { add, clamp, div, mul, notEqual } from '../ops/binary.js';
import { cast, tanh } from '../ops/unary.js';
import { sum } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { gelu, relu, silu } from '../ops/activation.js';
import { reshape, permute, select, unsqueeze } from '../ops/movement.js';
import { arange, tensor, zeros } from '../tensor/creation.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { copy_ } from '../ops/inplace.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { sqrt } from '../ops/unary.js';
import { newestCheckpointCopy } from '../io/checkpoint.js';
import { BERT_PRESETS, type BertActivation, type BertConfig, type BertFamily, checkBertConfig } from './bert-config.js';
import { loadBert, saveBert } from './bert-files.js';
import type { SaveTokenizer } from './gpt2-files.js';

// ---------------------------------------------------------------------------------------------
// Inputs and small pieces shared by the families

/**
 * What an encoder reads besides the token ids, as transformers' forward arguments: each [B, T].
 * Without an attention mask every position is a token; without token type ids every token is of
 * segment 0; without position ids positions are 0..T−1 (RoBERTa: counted from pad_token_id + 1 over
 * the non-padding tokens, as transformers' create_position_ids_from_input_ids).
 */
export interface BertInputs {
  /** 1 (or true) for tokens, 0 for padding: no query attends to a padding key. Any dtype. */
  attentionMask?: Tensor | null;
  /** Segment ids, int32 (0 for the first text, 1 for the pair); not for DistilBERT, which has no segments. */
  tokenTypeIds?: Tensor | null;
  /** Position ids, int32, to override the family's own. */
  positionIds?: Tensor | null;
}

/** An encoder's outputs: the last hidden states [B, T, C] and, for BERT and RoBERTa with a pooler, tanh(dense(h[:, 0])) [B, C]. */
export interface EncoderOutput {
  lastHiddenState: Tensor;
  poolerOutput: Tensor | null;
}

/** The feed-forward activation by transformers' ACT2FN name: exact (erf) GELU, its tanh form, ReLU or SiLU. */
export function bertActivation(x: Tensor, act: BertActivation): Tensor {
  switch (act) {
    case 'gelu':
      return gelu(x, 'none');
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return gelu(x, 'tanh');
    case 'relu':
      return relu(x);
    case 'silu':
    case 'swish':
      return silu(x);
  }
}

/**
 * Multi-head self-attention over projected q, k, v [B, T, C] → [B, T, C] with the heads side by side.
 * `keyMask` bool [B, 1, 1, T] (true = a token) keeps every query from the padding keys: the additive
 * −∞ of transformers' SDPA path (its eager path adds the float minimum; the weights are the same).
 */
function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, nHead: number, keyMask: Tensor | null, dropoutP: number, training: boolean): Tensor {
  const [B, T, C] = q.shape,
    D = C / nHead;
  const heads = (t: Tensor) => permute(reshape(t, [B, T, nHead, D]), [0, 2, 1, 3]); // (B, H, T, D)
  const y = scaledDotProductAttention(heads(q), heads(k), heads(v), { attnMask: keyMask, dropoutP, training }); // (B, H, T, D)
  return reshape(permute(y, [0, 2, 1, 3]), [B, T, C]); // (B, T, C)
}

/** The attention mask [B, T] as SDPA's boolean key mask [B, 1, 1, T] (true = attend), or null without one. */
function keyMaskOf(mask: Tensor | null | undefined, B: number, T: number, where: string): Tensor | null {
  if (!mask) return null;
  if (!shapesEqual(mask.shape, [B, T])) throw new Error(`${where}: attentionMask must be [B, T] = ${fmtShape([B, T])} like the input ids, got ${fmtShape(mask.shape)}`);
  return reshape(notEqual(mask, 0), [B, 1, 1, T]);
}

/**
 * RoBERTa's position ids (transformers' create_position_ids_from_input_ids): the running count of
 * non-padding tokens plus padding_idx, so the first token is at padding_idx + 1 and every padding
 * token at padding_idx. The count is a product with an upper-triangular matrix of ones (exact in
 * float32 for any length below 2^24), so it runs on every backend without reading the ids back.
 */
export function robertaPositionIds(inputIds: Tensor, paddingIdx: number): Tensor {
  const T = inputIds.shape[1];
  const tokens = cast(notEqual(inputIds, paddingIdx), 'float32'); // (B, T): 1 for a token, 0 for padding
  const upper = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i; j < T; j++) upper[i * T + j] = 1;
  const count = matmul(tokens, tensor(upper, { shape: [T, T], device: inputIds.device })); // (B, T): tokens up to and including j
  return cast(add(mul(count, tokens), paddingIdx), 'int32'); // (B, T)
}

/** DistilBERT's fixed sinusoidal table [n, dim] (Vaswani et al. 2017): sin on even features, cos on odd, computed in float64 as transformers' numpy code. */
export function sinusoidalPositions(n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let pos = 0; pos < n; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / 10000 ** ((2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

/**
 * sentence-transformers' mean pooling: the average of the token vectors hidden [B, T, C] weighted by
 * the attention mask [B, T] (all tokens without one), the count clamped at 1e-9 → [B, C]; with
 * `normalize`, each row divided by its L2 norm (clamped at 1e-12, as F.normalize).
 * @example const emb = meanPooling(model.forward(ids, { attentionMask }).lastHiddenState, attentionMask, { normalize: true })
 */
export function meanPooling(hidden: Tensor, attentionMask?: Tensor | null, opts: { normalize?: boolean } = {}): Tensor {
  const [B, T] = hidden.shape;
  let pooled: Tensor;
  if (attentionMask) {
    if (!shapesEqual(attentionMask.shape, [B, T])) throw new Error(`meanPooling: attentionMask must be [B, T] = ${fmtShape([B, T])}, got ${fmtShape(attentionMask.shape)}`);
    const m = unsqueeze(cast(attentionMask, hidden.dtype), -1); // (B, T, 1)
    pooled = div(sum(mul(hidden, m), 1), clamp(sum(m, 1), 1e-9)); // (B, C)
  } else pooled = div(sum(hidden, 1), T); // (B, C)
  if (!opts.normalize) return pooled;
  return div(pooled, clamp(sqrt(sum(mul(pooled, pooled), -1, true)), 1e-12)); // (B, C)
}

/** A config with what was left out filled in: BERT_PRESETS.tiny, with the family's own ids and token types. */
export function fillBertConfig(config: Partial<BertConfig>, family: BertFamily = config.family ?? 'bert'): BertConfig {
  const own: Partial<BertConfig> = family === 'roberta' ? { padTokenId: 1, bosTokenId: 0, eosTokenId: 2, typeVocabSize: 1 } : family === 'distilbert' ? { typeVocabSize: 0 } : {};
  const c: BertConfig = { ...BERT_PRESETS.tiny, labels: [...BERT_PRESETS.tiny.labels], ...own, ...config, family };
  checkBertConfig(c);
  return c;
}

/**
 * transformers' _init_weights for every module under `root`: N(0, initializerRange) for Linear and
 * Embedding weights (the padding row zero), zero biases, LayerNorm gains 1; DistilBERT's sinusoidal
 * table written (BertEmbeddings freezes it).
 */
export function initBertWeights(root: Module, c: BertConfig): void {
  const std = c.initializerRange;
  const modules = [...root.modules()];
  // A masked-LM decoder tied to the word embeddings takes their draw, not one of its own.
  const embeddings = new Set<Tensor>(modules.filter((m) => m instanceof Embedding).map((m) => (m as Embedding).weight));
  noGrad(() => {
    for (const m of modules) {
      if (m instanceof Linear) {
        if (!embeddings.has(m.weight)) normal_(m.weight, 0, std);
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof Embedding) {
        normal_(m.weight, 0, std);
        const p = m.paddingIdx;
        if (p !== null) scope(() => copy_(m.weight.slice(0, p, p + 1), zeros([1, m.embeddingDim], { device: m.weight.device })));
      } else if (m instanceof LayerNorm) {
        if (m.weight) ones_(m.weight);
        if (m.bias) zeros_(m.bias);
      }
    }
    for (const m of modules) {
      if (!(m instanceof BertEmbeddings) || !c.sinusoidalPositions) continue;
      const w = m.position_embeddings.weight;
      scope(() => copy_(w, tensor(sinusoidalPositions(c.nPositions, c.nEmbd), { shape: [c.nPositions, c.nEmbd], device: w.device })));
    }
  });
}

/** An Embedding whose table starts at zero (skipping Embedding's N(0, 1) draw): initBertWeights or a checkpoint fills it. */
function table(n: number, dim: number, paddingIdx: number | null = null): Embedding {
  return new Embedding(n, dim, { paddingIdx, _weight: zeros([n, dim]) });
}

// ---------------------------------------------------------------------------------------------
// Embeddings (shared: DistilBERT's have no token types and a fixed eps)

/** Word + position (+ token type) embeddings, then LayerNorm and dropout (transformers' BertEmbeddings, RobertaEmbeddings, DistilBERT's Embeddings). */
export class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  /** null for DistilBERT, which has no segments. */
  token_type_embeddings: Embedding | null;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  readonly config: BertConfig;

  constructor(c: BertConfig) {
    super();
    this.config = c;
    const pad = c.padTokenId;
    this.word_embeddings = table(c.vocabSize, c.nEmbd, pad);
    // RoBERTa's padding tokens sit at position padding_idx, a row nn.Embedding keeps at zero.
    this.position_embeddings = table(c.nPositions, c.nEmbd, c.family === 'roberta' ? pad : null);
    // DistilBERT's sinusoidal table is a function of the position, not learned: frozen, as transformers 4 froze it.
    if (c.sinusoidalPositions) this.position_embeddings.weight.requiresGrad = false;
    this.token_type_embeddings = c.typeVocabSize > 0 ? table(c.typeVocabSize, c.nEmbd) : null;
    this.LayerNorm = new LayerNorm(c.nEmbd, { eps: c.layerNormEps });
    this.dropout = new Dropout(c.hiddenDropout);
  }

  /** input ids int32 [B, T] → [B, T, C]; positions and token types as BertInputs says. */
  forward(inputIds: Tensor, opts: BertInputs = {}): Tensor {
    const c = this.config,
      [B, T] = inputIds.shape,
      device = inputIds.device;
    const positions = opts.positionIds ?? (c.family === 'roberta' ? robertaPositionIds(inputIds, c.padTokenId!) : reshape(arange(0, T, 1, { device }), [1, T])); // (B or 1, T)
    let x = add(this.word_embeddings.forward(inputIds), this.position_embeddings.forward(positions)); // (B, T, C)
    if (this.token_type_embeddings) {
      const types = opts.tokenTypeIds ?? zeros([1, T], { dtype: 'int32', device }); // segment 0 throughout
      if (opts.tokenTypeIds && !shapesEqual(types.shape, [B, T])) throw new Error(`${c.family}: tokenTypeIds must be [B, T] = ${fmtShape([B, T])}, got ${fmtShape(types.shape)}`);
      x = add(x, this.token_type_embeddings.forward(types));
    } else if (opts.tokenTypeIds) {
      throw new Error('distilbert: DistilBERT has no token type embeddings; leave tokenTypeIds out');
    }
    return this.dropout.forward(this.LayerNorm.forward(x)); // (B, T, C)
  }
}

// ---------------------------------------------------------------------------------------------
// BERT and RoBERTa: embeddings, encoder.layer.N.{attention.{self,output}, intermediate, output}, pooler

/** The query, key and value projections of one layer (transformers' BertSelfAttention). */
export class BertSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  readonly nHead: number;
  readonly attentionDropout: number;

  constructor(c: BertConfig) {
    super();
    this.nHead = c.nHead;
    this.attentionDropout = c.attentionDropout;
    this.query = new Linear(c.nEmbd, c.nEmbd);
    this.key = new Linear(c.nEmbd, c.nEmbd);
    this.value = new Linear(c.nEmbd, c.nEmbd);
  }

  /** x [B, T, C] → the heads' outputs side by side [B, T, C]. */
  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    const p = this.training ? this.attentionDropout : 0;
    return multiHeadAttention(this.query.forward(x), this.key.forward(x), this.value.forward(x), this.nHead, keyMask, p, this.training);
  }
}

/** dense → dropout → LayerNorm(· + residual): the output of a sub-layer (transformers' BertSelfOutput and BertOutput). */
export class BertSelfOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: BertConfig, inFeatures: number = c.nEmbd) {
    super();
    this.dense = new Linear(inFeatures, c.nEmbd);
    this.LayerNorm = new LayerNorm(c.nEmbd, { eps: c.layerNormEps });
    this.dropout = new Dropout(c.hiddenDropout);
  }

  forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(h)), residual)); // (B, T, C)
  }
}

/** Self-attention and its output sub-layer (transformers' BertAttention: `self` and `output`). */
export class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertSelfOutput;

  constructor(c: BertConfig) {
    super();
    this.self = new BertSelfAttention(c);
    this.output = new BertSelfOutput(c);
  }

  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(x, keyMask), x); // (B, T, C)
  }
}

/** The feed-forward block's expansion and activation (transformers' BertIntermediate). */
export class BertIntermediate extends Module {
  dense: Linear;
  readonly act: BertActivation;

  constructor(c: BertConfig) {
    super();
    this.act = c.hiddenAct;
    this.dense = new Linear(c.nEmbd, c.nInner);
  }

  forward(x: Tensor): Tensor {
    return bertActivation(this.dense.forward(x), this.act); // (B, T, nInner)
  }
}

/** One post-LN encoder layer: LN(x + attn(x)), then LN(h + ffn(h)) (transformers' BertLayer). */
export class BertLayer extends Module {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertSelfOutput;

  constructor(c: BertConfig) {
    super();
    this.attention = new BertAttention(c);
    this.intermediate = new BertIntermediate(c);
    this.output = new BertSelfOutput(c, c.nInner);
  }

  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    const h = this.attention.forward(x, keyMask); // (B, T, C)
    return this.output.forward(this.intermediate.forward(h), h); // (B, T, C)
  }
}

/** The stack of layers (transformers' BertEncoder: `layer.N`). */
export class BertEncoder extends Module {
  layer: BertLayer[] = [];

  constructor(c: BertConfig) {
    super();
    for (let i = 0; i < c.nLayer; i++) this.layer.push(new BertLayer(c));
  }

  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    for (const l of this.layer) x = l.forward(x, keyMask);
    return x;
  }
}

/** tanh(dense(h[:, 0])): the first token's state as the sequence's (transformers' BertPooler). */
export class BertPooler extends Module {
  dense: Linear;

  constructor(c: BertConfig) {
    super();
    this.dense = new Linear(c.nEmbd, c.nEmbd);
  }

  forward(hidden: Tensor): Tensor {
    return tanh(this.dense.forward(select(hidden, 1, 0))); // (B, C)
  }
}

/** Options of the encoders' constructors. */
export interface EncoderOptions {
  /** BERT's and RoBERTa's pooler (add_pooling_layer; default true, as transformers' BertModel). */
  addPoolingLayer?: boolean;
  /** Draw transformers' initial weights (default true); false leaves zeros for weights about to be loaded. */
  init?: boolean;
}

/** The most tokens a sequence may have: max_position_embeddings, less RoBERTa's pad_token_id + 1 unused rows. */
export function bertMaxTokens(c: BertConfig): number {
  return c.family === 'roberta' ? c.nPositions - (c.padTokenId ?? 0) - 1 : c.nPositions;
}

/** Check input ids before a forward: int32 [B, T] within the position table. */
function checkIds(where: string, ids: Tensor, c: BertConfig): void {
  if (ids.dtype !== 'int32' || ids.ndim !== 2) throw new Error(`${where}: input ids must be int32 [B, T], got ${ids.dtype} ${fmtShape(ids.shape)}`);
  const most = bertMaxTokens(c);
  if (ids.shape[1] > most) throw new Error(`${where}: a sequence of ${ids.shape[1]} tokens is longer than the ${most} positions the model has (max_position_embeddings)`);
}

/**
 * A BERT or RoBERTa encoder (transformers' BertModel, RobertaModel) with transformers' parameter
 * names: `forward(inputIds, { attentionMask, tokenTypeIds })` gives the last hidden states and the
 * pooler's output; `embed` gives sentence-transformers' mean-pooled sentence embeddings.
 * @example const out = new BertModel({ vocabSize: tok.vocabSize }).forward(ids, { attentionMask })
 */
export class BertModel extends Module {
  readonly config: BertConfig;
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler | null;

  constructor(config: Partial<BertConfig> = {}, opts: EncoderOptions = {}) {
    super();
    const c = fillBertConfig(config, config.family ?? 'bert');
    if (c.family === 'distilbert') throw new Error('BertModel: a distilbert config has its own layout; use DistilBertModel (or bertEncoder(config))');
    this.config = c;
    this.embeddings = new BertEmbeddings(c);
    this.encoder = new BertEncoder(c);
    this.pooler = (opts.addPoolingLayer ?? true) ? new BertPooler(c) : null;
    if (opts.init ?? true) initBertWeights(this, c);
  }

  /** input ids int32 [B, T] → the last hidden states [B, T, C] and the pooler's output [B, C] (null without a pooler). */
  forward(inputIds: Tensor, opts: BertInputs = {}): EncoderOutput {
    checkIds(this.constructor.name, inputIds, this.config);
    const [B, T] = inputIds.shape;
    const keyMask = keyMaskOf(opts.attentionMask, B, T, this.constructor.name);
    const h = this.encoder.forward(this.embeddings.forward(inputIds, opts), keyMask); // (B, T, C)
    return { lastHiddenState: h, poolerOutput: this.pooler ? this.pooler.forward(h) : null };
  }

  /**
   * Sentence embeddings [B, C]: the hidden states mean-pooled over the attention mask, L2-normalised
   * with `normalize` (sentence-transformers' Pooling + Normalize, as all-MiniLM-L6-v2 is used).
   * @example const emb = model.embed(ids, { attentionMask, normalize: true })
   */
  embed(inputIds: Tensor, opts: BertInputs & { normalize?: boolean } = {}): Tensor {
    return meanPooling(this.forward(inputIds, opts).lastHiddenState, opts.attentionMask, opts);
  }

  /**
   * Write config.json (architectures: BertModel or RobertaModel) and model.safetensors as
   * transformers' save_pretrained does, plus tokenizer.json when a tokenizer is given.
   * @example await model.savePretrained('out/encoder', { tokenizer })
   */
  async savePretrained(dir: string, opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {}): Promise<void> {
    await saveBert(this, 'base', dir, opts);
  }

  /**
   * Load the encoder of a BERT or RoBERTa directory (BertModel's own, or any head's: the head is not
   * read), with the pooler when the files have one. A RoBERTa directory gives a RobertaModel.
   * @example const enc = await BertModel.fromPretrained('models/all-MiniLM-L6-v2')
   */
  static async fromPretrained(dir: string, opts: { strict?: boolean } = {}): Promise<BertModel> {
    const where = 'BertModel.fromPretrained';
    return loadBert(
      (await newestCheckpointCopy(dir)) ?? dir,
      'base',
      (c, o) => {
        if (c.family === 'distilbert') throw new Error(`${where}: ${dir} holds a DistilBERT model; load it with DistilBertModel.fromPretrained`);
        return c.family === 'roberta' ? new RobertaModel(c, { addPoolingLayer: o.pooler, init: o.init }) : new BertModel(c, { addPoolingLayer: o.pooler, init: o.init });
      },
      { ...opts, where },
    );
  }
}

/** RoBERTa's encoder: BertModel with a roberta config (positions from pad_token_id + 1); fields left out take roberta's ids. */
export class RobertaModel extends BertModel {
  /** @example const model = new RobertaModel({ vocabSize: 1000, nPositions: 130 }) */
  constructor(config: Partial<BertConfig> = {}, opts: EncoderOptions = {}) {
    super(fillBertConfig(config, 'roberta'), opts);
  }
}

// ---------------------------------------------------------------------------------------------
// DistilBERT: embeddings, transformer.layer.N.{attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin1/2, output_layer_norm}

/** Self-attention with its output projection (transformers' DistilBertSelfAttention). */
export class DistilBertSelfAttention extends Module {
  q_lin: Linear;
  k_lin: Linear;
  v_lin: Linear;
  out_lin: Linear;
  readonly nHead: number;
  readonly attentionDropout: number;

  constructor(c: BertConfig) {
    super();
    this.nHead = c.nHead;
    this.attentionDropout = c.attentionDropout;
    this.q_lin = new Linear(c.nEmbd, c.nEmbd);
    this.k_lin = new Linear(c.nEmbd, c.nEmbd);
    this.v_lin = new Linear(c.nEmbd, c.nEmbd);
    this.out_lin = new Linear(c.nEmbd, c.nEmbd);
  }

  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    const p = this.training ? this.attentionDropout : 0;
    return this.out_lin.forward(multiHeadAttention(this.q_lin.forward(x), this.k_lin.forward(x), this.v_lin.forward(x), this.nHead, keyMask, p, this.training));
  }
}

/** lin2(act(lin1(x))) and dropout (transformers' DistilBERT FFN). */
export class DistilBertFFN extends Module {
  lin1: Linear;
  lin2: Linear;
  dropout: Dropout;
  readonly act: BertActivation;

  constructor(c: BertConfig) {
    super();
    this.act = c.hiddenAct;
    this.lin1 = new Linear(c.nEmbd, c.nInner);
    this.lin2 = new Linear(c.nInner, c.nEmbd);
    this.dropout = new Dropout(c.hiddenDropout);
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.lin2.forward(bertActivation(this.lin1.forward(x), this.act))); // (B, T, C)
  }
}

/** One post-LN layer: sa_layer_norm(x + attn(x)), then output_layer_norm(h + ffn(h)) (transformers' TransformerBlock). */
export class DistilBertLayer extends Module {
  attention: DistilBertSelfAttention;
  sa_layer_norm: LayerNorm;
  ffn: DistilBertFFN;
  output_layer_norm: LayerNorm;

  constructor(c: BertConfig) {
    super();
    this.attention = new DistilBertSelfAttention(c);
    this.sa_layer_norm = new LayerNorm(c.nEmbd, { eps: c.layerNormEps });
    this.ffn = new DistilBertFFN(c);
    this.output_layer_norm = new LayerNorm(c.nEmbd, { eps: c.layerNormEps });
  }

  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    const h = this.sa_layer_norm.forward(add(this.attention.forward(x, keyMask), x)); // (B, T, C)
    return this.output_layer_norm.forward(add(this.ffn.forward(h), h)); // (B, T, C)
  }
}

/** DistilBERT's stack of layers (transformers' Transformer: `layer.N`). */
export class DistilBertTransformer extends Module {
  layer: DistilBertLayer[] = [];

  constructor(c: BertConfig) {
    super();
    for (let i = 0; i < c.nLayer; i++) this.layer.push(new DistilBertLayer(c));
  }

  forward(x: Tensor, keyMask: Tensor | null): Tensor {
    for (const l of this.layer) x = l.forward(x, keyMask);
    return x;
  }
}

/**
 * A DistilBERT encoder (transformers' DistilBertModel) with transformers' parameter names: no token
 * types, no pooler; learned or sinusoidal positions as the config says.
 * @example const h = new DistilBertModel({ vocabSize: tok.vocabSize }).forward(ids, { attentionMask }).lastHiddenState
 */
export class DistilBertModel extends Module {
  readonly config: BertConfig;
  embeddings: BertEmbeddings;
  transformer: DistilBertTransformer;

  constructor(config: Partial<BertConfig> = {}, opts: Pick<EncoderOptions, 'init'> = {}) {
    super();
    const c = fillBertConfig(config, 'distilbert');
    this.config = c;
    this.embeddings = new BertEmbeddings(c);
    this.transformer = new DistilBertTransformer(c);
    if (opts.init ?? true) initBertWeights(this, c);
  }

  /** input ids int32 [B, T] → the last hidden states [B, T, C] (poolerOutput null: DistilBERT has no pooler). */
  forward(inputIds: Tensor, opts: BertInputs = {}): EncoderOutput {
    checkIds('DistilBertModel', inputIds, this.config);
    const [B, T] = inputIds.shape;
    const keyMask = keyMaskOf(opts.attentionMask, B, T, 'DistilBertModel');
    return { lastHiddenState: this.transformer.forward(this.embeddings.forward(inputIds, opts), keyMask), poolerOutput: null };
  }

  /** Sentence embeddings [B, C] as BertModel.embed: the mask-weighted mean of the hidden states, optionally L2-normalised. */
  embed(inputIds: Tensor, opts: BertInputs & { normalize?: boolean } = {}): Tensor {
    return meanPooling(this.forward(inputIds, opts).lastHiddenState, opts.attentionMask, opts);
  }

  /** Write config.json (architectures: DistilBertModel) and model.safetensors as transformers' save_pretrained does. */
  async savePretrained(dir: string, opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {}): Promise<void> {
    await saveBert(this, 'base', dir, opts);
  }

  /**
   * Load the encoder of a DistilBERT directory (DistilBertModel's own, or any head's).
   * @example const enc = await DistilBertModel.fromPretrained('models/distilbert-base-uncased')
   */
  static async fromPretrained(dir: string, opts: { strict?: boolean } = {}): Promise<DistilBertModel> {
    const where = 'DistilBertModel.fromPretrained';
    return loadBert(
      (await newestCheckpointCopy(dir)) ?? dir,
      'base',
      (c, o) => {
        if (c.family !== 'distilbert') throw new Error(`${where}: ${dir} holds a ${c.family} model; load it with BertModel.fromPretrained`);
        return new DistilBertModel(c, { init: o.init });
      },
      { ...opts, where },
    );
  }
}

/** Any of the three encoders. */
export type BertEncoderModel = BertModel | DistilBertModel;

/**
 * The encoder a config describes: a DistilBertModel for family 'distilbert', else a BertModel (BERT
 * or RoBERTa).
 * @example const enc = bertEncoder({ family: 'roberta', vocabSize: 1000 })
 */
export function bertEncoder(config: Partial<BertConfig>, opts: EncoderOptions = {}): BertEncoderModel {
  return config.family === 'distilbert' ? new DistilBertModel(config, opts) : new BertModel(config, opts);
}
