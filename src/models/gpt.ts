// GPT-2 (Radford et al. 2019) as nanoGPT writes it, with Hugging Face's module names so a
// GPT2LMHeadModel safetensors checkpoint loads by name; generation with a key/value cache.

import { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { Embedding } from '../nn/layers/embedding.js';
import { LayerNorm } from '../nn/layers/norm.js';
import { Linear } from '../nn/layers/linear.js';
import { Dropout } from '../nn/layers/dropout.js';
import { packedCausalSelfAttention, scaledDotProductAttention } from '../nn/layers/attention.js';
import { crossEntropy } from '../nn/functional.js';
import { normal_ } from '../nn/init.js';
import { add, greaterEqual } from '../ops/binary.js';
import { matmul } from '../ops/matmul.js';
import { gelu, relu } from '../ops/activation.js';
import { reshape, permute, split, concat, select, contiguous } from '../ops/movement.js';
import { arange, zeros, tensor as makeTensor, fromTypedArray } from '../tensor/creation.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { defaultGenerator, Generator } from '../ops/random.js';
import { AdamW } from '../optim/adam.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';

/**
 * The architecture of a {@link GPT} (Hugging Face's GPT2Config fields, camelCased); `nLayer` is the
 * number of transformer blocks, `layerNormEps` the LayerNorms' eps (1e-5).
 */
export interface GPTConfig {
  /** Tokens in the vocabulary (50257 for GPT-2's byte-level BPE). */
  vocabSize: number;
  /** Context length: the most positions the model sees (block_size in nanoGPT, n_positions in HF). */
  nPositions: number;
  /** Width of the residual stream (C). */
  nEmbd: number;
  nLayer: number;
  /** Attention heads; nEmbd must divide evenly. */
  nHead: number;
  /** Hidden width of the MLP; null = 4·nEmbd (HF's n_inner). */
  nInner: number | null;
  /** 'gelu_new' is GPT-2's tanh approximation of GELU. */
  activation: 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu' | 'relu';
  /** Dropout on the embeddings, the attention weights and the residual branches (HF: 0.1 each). */
  dropout: number;
  /** Per-site overrides of `dropout` (HF's embd_pdrop, attn_pdrop, resid_pdrop). */
  embdPdrop?: number;
  attnPdrop?: number;
  residPdrop?: number;
  layerNormEps: number;
  /** Biases in the projections and LayerNorms (nanoGPT: false is a bit better and faster). */
  bias: boolean;
  /** lm_head shares its weight with the token embedding wte (GPT-2 does). */
  tieWeights: boolean;
  /** Token ids written to config.json (GPT-2: 50256, <|endoftext|>); null when there are none. */
  bosTokenId: number | null;
  eosTokenId: number | null;
}

const BASE = { nInner: null, activation: 'gelu_new', layerNormEps: 1e-5, bias: true, tieWeights: true } as const;

/** Named configs. No prototype, so a name from a user or a file (`__proto__`, `constructor`) finds nothing. */
export const GPT_PRESETS: Record<string, GPTConfig> = Object.assign(Object.create(null), {
  /** A model for tests and demos: 4 layers, 4 heads, 128 wide, context 64 (byte-sized vocabulary). */
  tiny: { ...BASE, vocabSize: 256, nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, dropout: 0, bosTokenId: null, eosTokenId: null },
  /** nanoGPT's shakespeare_char: 6 layers, 6 heads, 384 wide, context 256, dropout 0.2, 65 characters. */
  'small-char': { ...BASE, vocabSize: 65, nPositions: 256, nEmbd: 384, nLayer: 6, nHead: 6, dropout: 0.2, bosTokenId: null, eosTokenId: null },
  /** GPT-2 small (124M): HF's GPT2Config() defaults. */
  gpt2: { ...BASE, vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, dropout: 0.1, bosTokenId: 50256, eosTokenId: 50256 },
});

/** HF's initializer_range: N(0, 0.02) for every weight matrix and embedding. */
const INIT_STD = 0.02;

/** c_proj's init: N(0, 0.02/√(2·nLayer)), so the residual stream's variance does not grow with depth (GPT-2 paper, §2.3). */
const residStd = (c: GPTConfig): number => INIT_STD / Math.sqrt(2 * c.nLayer);

/** Per-layer key and value cache, [B, H, S, D] each; null before the first step. */
export interface LayerCache { k: Tensor | null; v: Tensor | null }

// ---------------------------------------------------------------------------------------------

/**
 * Hugging Face's Conv1D: a linear layer with the weight stored transposed, [in, out], so
 * y = x·W + b. GPT-2's checkpoints use it for every projection. Built as HF's Conv1D(nf, nx).
 */
export class Conv1D extends Module {
  /** Marks the [in, out] layout for code that treats it as a Linear (PEFT's fan_in_fan_out). */
  readonly fanInFanOut = true;
  weight: Parameter;
  bias: Parameter | null;

  /** Weight N(0, std) (HF: 0.02; 0 leaves zeros, for weights about to be loaded), bias zeros. */
  constructor(readonly nf: number, readonly nx: number, opts: { bias?: boolean; std?: number } = {}) {
    super();
    this.weight = new Parameter(zeros([nx, nf]));
    this.bias = (opts.bias ?? true) ? new Parameter(zeros([nf])) : null;
    const std = opts.std ?? INIT_STD;
    if (std > 0) normal_(this.weight, 0, std);
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.ndim - 1] !== this.nx) throw new Error(`Conv1D: input ${fmtShape(x.shape)} does not end in ${this.nx} features (weight ${fmtShape(this.weight.shape)})`);
    const lead = x.shape.slice(0, -1);
    const x2 = x.ndim === 2 ? x : reshape(x, [-1, this.nx]); // (N, nx): one GEMM for every position
    const y = this.bias ? add(matmul(x2, this.weight), this.bias) : matmul(x2, this.weight); // (N, nf)
    return x.ndim === 2 ? y : reshape(y, [...lead, this.nf]); // (..., nf)
  }

  override extraRepr(): string {
    return `nf=${this.nf}, nx=${this.nx}`;
  }
}

/** Multi-head causal self-attention (HF's GPT2Attention, nanoGPT's CausalSelfAttention). */
export class CausalSelfAttention extends Module {
  c_attn: Conv1D;
  c_proj: Conv1D;
  resid_dropout: Dropout;
  readonly nHead: number;
  readonly attnPdrop: number;

  constructor(config: GPTConfig, init = true) {
    super();
    const C = config.nEmbd;
    this.nHead = config.nHead;
    this.attnPdrop = config.attnPdrop ?? config.dropout;
    this.c_attn = new Conv1D(3 * C, C, { bias: config.bias, std: init ? INIT_STD : 0 }); // q, k, v for all heads at once
    this.c_proj = new Conv1D(C, C, { bias: config.bias, std: init ? residStd(config) : 0 });
    this.resid_dropout = new Dropout(config.residPdrop ?? config.dropout);
  }

  /**
   * x [B, T, C] → [B, T, C]. With a cache, the new keys and values are appended to the cached ones
   * (which cover the positions before these T) and written back into it.
   */
  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape, H = this.nHead, D = C / H;
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    const dropoutP = this.training ? this.attnPdrop : 0;
    if (!cache) {
      // The fused kernels read the heads in place and write (B, T, C) directly, where they can.
      const y = packedCausalSelfAttention(qkv, H, { dropoutP, training: this.training });
      if (y) return this.resid_dropout.forward(this.c_proj.forward(y));
    }
    const heads = (t: Tensor) => permute(reshape(t, [B, T, H, D]), [0, 2, 1, 3]); // (B, H, T, D)
    let [q, k, v] = split(qkv, C, 2).map(heads);
    const past = cache?.k ? cache.k.shape[2] : 0;
    if (cache) {
      if (cache.k && cache.v) {
        k = concat([cache.k, k], 2); // (B, H, past + T, D)
        v = concat([cache.v, v], 2);
      }
      cache.k = contiguous(k);
      cache.v = contiguous(v);
    }
    let y: Tensor;
    if (past === 0 || T === 1) {
      // Causal over equal lengths, or one new query that sees every cached key.
      y = scaledDotProductAttention(q, k, v, { isCausal: past === 0 && T > 1, dropoutP, training: this.training });
    } else {
      // Query i (absolute position past + i) sees keys 0..past + i: the bottom-right triangle.
      const opts = { dtype: 'int32', device: x.device } as const;
      const rows = reshape(arange(past, past + T, 1, opts), [T, 1]), cols = reshape(arange(0, past + T, 1, opts), [1, past + T]);
      const attnMask = greaterEqual(rows, cols); // (T, S): true = may attend
      y = scaledDotProductAttention(q, k, v, { attnMask, dropoutP, training: this.training });
    }
    y = reshape(permute(y, [0, 2, 1, 3]), [B, T, C]); // (B, T, C): heads side by side
    return this.resid_dropout.forward(this.c_proj.forward(y));
  }
}

/** The feed-forward block: c_fc → GELU → c_proj (HF's GPT2MLP). */
export class GPT2MLP extends Module {
  c_fc: Conv1D;
  c_proj: Conv1D;
  dropout: Dropout;
  readonly activation: GPTConfig['activation'];

  constructor(config: GPTConfig, init = true) {
    super();
    const C = config.nEmbd, inner = config.nInner ?? 4 * C;
    this.activation = config.activation;
    this.c_fc = new Conv1D(inner, C, { bias: config.bias, std: init ? INIT_STD : 0 });
    this.c_proj = new Conv1D(C, inner, { bias: config.bias, std: init ? residStd(config) : 0 });
    this.dropout = new Dropout(config.residPdrop ?? config.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.c_fc.forward(x); // (B, T, inner)
    const a = this.activation === 'relu' ? relu(h) : gelu(h, this.activation === 'gelu' ? 'none' : 'tanh');
    return this.dropout.forward(this.c_proj.forward(a)); // (B, T, C)
  }
}

/** Pre-norm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x)) (HF's GPT2Block). */
export class GPT2Block extends Module {
  ln_1: LayerNorm;
  attn: CausalSelfAttention;
  ln_2: LayerNorm;
  mlp: GPT2MLP;

  constructor(config: GPTConfig, init = true) {
    super();
    const ln = { eps: config.layerNormEps, bias: config.bias };
    this.ln_1 = new LayerNorm(config.nEmbd, ln);
    this.attn = new CausalSelfAttention(config, init);
    this.ln_2 = new LayerNorm(config.nEmbd, ln);
    this.mlp = new GPT2MLP(config, init);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    const h = add(x, this.attn.forward(this.ln_1.forward(x), cache)); // (B, T, C)
    return add(h, this.mlp.forward(this.ln_2.forward(h)));
  }
}

/** The trunk: embeddings, the blocks and the final LayerNorm (HF's GPT2Model). */
export class GPT2Model extends Module {
  wte: Embedding;
  wpe: Embedding;
  drop: Dropout;
  h: GPT2Block[] = [];
  ln_f: LayerNorm;

  constructor(config: GPTConfig, init = true) {
    super();
    // Given zero tables (skipping Embedding's N(0, 1) draw), then N(0, 0.02) as HF.
    const table = (n: number) => new Embedding(n, config.nEmbd, { _weight: zeros([n, config.nEmbd]) });
    this.wte = table(config.vocabSize);
    this.wpe = table(config.nPositions);
    if (init) { normal_(this.wte.weight, 0, INIT_STD); normal_(this.wpe.weight, 0, INIT_STD); }
    this.drop = new Dropout(config.embdPdrop ?? config.dropout);
    for (let i = 0; i < config.nLayer; i++) this.h.push(new GPT2Block(config, init));
    this.ln_f = new LayerNorm(config.nEmbd, { eps: config.layerNormEps, bias: config.bias });
  }

  /**
   * idx int32 [B, T] → hidden states [B, T, C]. With caches (one per block), idx continues the
   * cached positions and the caches grow by T.
   */
  forward(idx: Tensor, caches?: LayerCache[]): Tensor {
    const T = idx.shape[1], past = caches?.[0]?.k?.shape[2] ?? 0;
    const pos = arange(past, past + T, 1, { dtype: 'int32', device: idx.device }); // (T)
    let x = this.drop.forward(add(this.wte.forward(idx), this.wpe.forward(pos))); // (B, T, C)
    this.h.forEach((block, i) => { x = block.forward(x, caches?.[i]); });
    return this.ln_f.forward(x);
  }
}

// ---------------------------------------------------------------------------------------------
// Sampling: transformers' logits processors, on the host in float64

/**
 * How the next token is chosen from the logits, as transformers' logits processors (defaults leave
 * the distribution as it is).
 */
export interface SamplingOptions {
  /** Divides the logits (default 1); 0 is greedy decoding (argmax). */
  temperature?: number;
  /** Keep the k most likely tokens (ties with the k-th kept, as TopKLogitsWarper); 0 = all. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (TopPLogitsWarper); 1 = all. */
  topP?: number;
  /** > 1 discourages tokens already in the sequence: positive logits ÷ penalty, negative × penalty. */
  repetitionPenalty?: number;
}

/**
 * Apply, in place and in transformers' order, the repetition penalty (over the ids in `previous`),
 * temperature, top-k and top-p to one row of logits; removed tokens become −∞.
 */
export function processLogits(logits: Float64Array, previous: readonly number[], o: SamplingOptions = {}): Float64Array {
  const V = logits.length;
  const penalty = o.repetitionPenalty ?? 1, temperature = o.temperature ?? 1, topK = o.topK ?? 0, topP = o.topP ?? 1;
  if (!(penalty > 0)) throw new Error(`generate: repetitionPenalty must be > 0, got ${penalty}`);
  if (!(temperature >= 0)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
  if (!(Number.isInteger(topK) && topK >= 0)) throw new Error(`generate: topK must be a non-negative integer, got ${topK}`);
  if (!(topP >= 0 && topP <= 1)) throw new Error(`generate: topP must be in [0, 1], got ${topP}`);
  if (penalty !== 1) {
    for (const id of new Set(previous)) {
      const s = logits[id];
      logits[id] = s < 0 ? s * penalty : s / penalty;
    }
  }
  if (temperature > 0 && temperature !== 1) for (let j = 0; j < V; j++) logits[j] /= temperature;
  if (topK > 0 && topK < V) {
    const kth = Float64Array.from(logits).sort().reverse()[topK - 1]; // the k-th largest
    for (let j = 0; j < V; j++) if (logits[j] < kth) logits[j] = -Infinity;
  }
  if (topP < 1) {
    // TopPLogitsWarper removes a token when the probability of it and everything less likely is
    // ≤ 1 − p, i.e. when the tokens more likely than it already reach p. Walk down from the top.
    const sorted = Float64Array.from(logits).sort(); // ascending
    const m = sorted[V - 1];
    let z = 0;
    for (let r = 0; r < V; r++) z += Math.exp(sorted[r] - m);
    let cum = 0, threshold = m;
    for (let r = V - 1; r >= 0 && (r === V - 1 || cum < topP); r--) { // the most likely token always stays
      threshold = sorted[r];
      cum += Math.exp(sorted[r] - m) / z;
    }
    for (let j = 0; j < V; j++) if (logits[j] < threshold) logits[j] = -Infinity;
  }
  return logits;
}

/** The next token from one row of logits: processed, then argmax (temperature 0) or drawn with uniform u ∈ [0, 1). */
export function sampleNext(logits: Float64Array, previous: readonly number[], o: SamplingOptions, u: number): number {
  const l = processLogits(logits, previous, o);
  let best = 0;
  for (let j = 1; j < l.length; j++) if (l[j] > l[best]) best = j;
  const m = l[best];
  if (!Number.isFinite(m)) throw new Error(`generate: the logits hold no finite maximum (${m}); the model's outputs are not usable`);
  if ((o.temperature ?? 1) === 0) return best;
  let z = 0;
  for (let j = 0; j < l.length; j++) z += Math.exp(l[j] - m);
  const target = u * z;
  let cum = 0, last = best;
  for (let j = 0; j < l.length; j++) {
    const p = Math.exp(l[j] - m);
    if (p === 0) continue;
    cum += p;
    last = j;
    if (cum > target) return j;
  }
  return last; // rounding left target at the very end
}

/** Options of `GPT.generate`: how many tokens, sampling, seeding, stopping and streaming. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add (per row). */
  maxNewTokens: number;
  /** Seed of a fresh generator for sampling: the same seed gives the same tokens. */
  seed?: number;
  /** Or a generator to draw from (default: the global one, seeded by manualSeed). */
  generator?: Generator;
  /** Stop a row once it ends with one of these token sequences (they are kept in the output). */
  stop?: number[][];
  /** Fills the rows that stopped while others go on (default eosTokenId, else 0). */
  padTokenId?: number;
  /** Called with each new token as it is produced (row = index in the batch). */
  onToken?: (id: number, row: number) => void;
  /** Keep keys and values between steps (default true); false recomputes the whole context each step. */
  useCache?: boolean;
}

/** What savePretrained needs of a tokenizer (nb.text's tokenizers have it). */
export interface SaveTokenizer { save(path: string): Promise<void> }

type Ids = Tensor | number[] | number[][];

/**
 * GPT-2 as a language model (HF's GPT2LMHeadModel): the transformer trunk and lm_head, with
 * Hugging Face's parameter names, so `fromPretrained` / `savePretrained` read and write HF
 * directories.
 * `forward(idx)` maps token ids int32 [B, T] to logits [B, T, vocabSize] (and the loss given
 * targets);
 * `generate` samples continuations with a KV cache.
 */
export class GPT extends Module {
  readonly config: GPTConfig;
  transformer: GPT2Model;
  lm_head: Linear;

  /**
   * A GPT-2 with HF's parameter names, initialized as HF and nanoGPT do: N(0, 0.02) for every
   * matrix and embedding, N(0, 0.02/√(2·nLayer)) for c_proj, zero biases, LayerNorm 1 and 0.
   * `init: false` leaves the matrices zero (fast, for weights about to be loaded).
   * @example const model = new GPT({ ...GPT_PRESETS.tiny, vocabSize: tok.vocabSize })
   */
  constructor(config: Partial<GPTConfig> = {}, opts: { init?: boolean } = {}) {
    super();
    const c: GPTConfig = { ...GPT_PRESETS.gpt2, ...config };
    this.config = c;
    for (const k of ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead'] as const) {
      if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`GPT: ${k} must be a positive integer, got ${c[k]}`);
    }
    if (c.nEmbd % c.nHead !== 0) throw new Error(`GPT: nEmbd ${c.nEmbd} is not divisible by nHead ${c.nHead}`);
    if (!['gelu_new', 'gelu_pytorch_tanh', 'gelu', 'relu'].includes(c.activation)) {
      throw new Error(`GPT: unknown activation '${c.activation}', expected gelu_new, gelu_pytorch_tanh, gelu or relu`);
    }
    this.transformer = new GPT2Model(c, opts.init ?? true);
    this.lm_head = new Linear(c.nEmbd, c.vocabSize, { bias: false });
    if (c.tieWeights) {
      // One storage: the gradients of both uses add up in wte.weight.
      this.lm_head.weight.dispose();
      this.lm_head.weight = this.transformer.wte.weight;
    } else if (opts.init ?? true) normal_(this.lm_head.weight, 0, INIT_STD);
  }

  /** The parameter count of a config without building the model (wte counted once when tied). */
  static countParams(config: Partial<GPTConfig> = {}): number {
    const c = { ...GPT_PRESETS.gpt2, ...config };
    const C = c.nEmbd, I = c.nInner ?? 4 * C, b = c.bias ? 1 : 0;
    const ln = C * (1 + b);
    const block = 2 * ln + (C * 3 * C + b * 3 * C) + (C * C + b * C) + (C * I + b * I) + (I * C + b * C);
    return c.vocabSize * C * (c.tieWeights ? 1 : 2) + c.nPositions * C + c.nLayer * block + ln;
  }

  /**
   * idx int32 [B, T] → logits [B, T, V]; with targets int32 [B, T] (the next tokens; −100 is
   * ignored) also the mean cross-entropy.
   */
  forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null } {
    this.checkIdx('forward', idx);
    const logits = this.lm_head.forward(this.transformer.forward(idx)); // (B, T, V)
    if (!targets) return { logits, loss: null };
    if (!shapesEqual(targets.shape, idx.shape)) throw new Error(`GPT.forward: targets ${fmtShape(targets.shape)} must have the shape of idx ${fmtShape(idx.shape)}`);
    const V = this.config.vocabSize;
    const loss = crossEntropy(reshape(logits, [-1, V]), reshape(targets, [-1]), { ignoreIndex: -100 }); // (B·T, V) vs (B·T)
    return { logits, loss };
  }

  private checkIdx(where: string, idx: Tensor): void {
    if (idx.dtype !== 'int32' || idx.ndim !== 2) throw new Error(`GPT.${where}: idx must be int32 [B, T], got ${idx.dtype} ${fmtShape(idx.shape)}`);
    if (idx.shape[1] > this.config.nPositions) {
      throw new Error(`GPT.${where}: sequence of length ${idx.shape[1]} is longer than the context of ${this.config.nPositions} positions`);
    }
  }

  /**
   * AdamW with weight decay on the ≥2-D parameters (matrices, embeddings) and none on biases and
   * LayerNorm gains (nanoGPT's rule).
   * @example const opt = model.configureOptimizer({ weightDecay: 0.1, lr: 6e-4, betas: [0.9, 0.95] })
   */
  configureOptimizer(opts: { weightDecay?: number; lr?: number; betas?: [number, number]; eps?: number } = {}): AdamW {
    const params = this.parameters().filter((p) => p.requiresGrad);
    const decay = params.filter((p) => p.ndim >= 2), noDecay = params.filter((p) => p.ndim < 2);
    const groups = [{ params: decay, weightDecay: opts.weightDecay ?? 0.1 }, { params: noDecay, weightDecay: 0 }].filter((g) => g.params.length);
    return new AdamW(groups, { lr: opts.lr ?? 6e-4, betas: opts.betas ?? [0.9, 0.95], eps: opts.eps });
  }

  // -------------------------------------------------------------------------------------------
  // Generation

  /**
   * Append maxNewTokens tokens to each row of idx (int32 [B, T] or [T], or plain arrays) and
   * return the ids with them (same rank as idx). temperature 0 (or topK 1) is greedy; otherwise
   * repetition penalty, temperature, top-k and top-p are applied in transformers' order and a
   * token is drawn from the seeded generator. Runs in eval mode without gradients; reads each
   * step's logits synchronously (CPU backends; generateAsync or stream() where reads are
   * asynchronous, as on webgpu).
   * @example const out = model.generate(prompt, { maxNewTokens: 50, temperature: 0.8, topK: 40, seed: 1 })
   */
  generate(idx: Ids, opts: GenerateOptions): Tensor {
    const { rows, rank } = toRows(idx);
    const dec = this.decoder(rows, opts);
    try {
      for (let logits = dec.step(); logits; logits = dec.step()) {
        let data: ArrayLike<number>;
        try { data = logits.dataSync(); } finally { logits.dispose(); }
        dec.accept(data);
      }
    } finally {
      dec.close();
    }
    return idsTensor(rows, rank);
  }

  /**
   * generate() for any backend: each step's logits are awaited (GPUs read asynchronously).
   * @example const out = await model.generateAsync(prompt, { maxNewTokens: 50, seed: 1 })
   */
  async generateAsync(idx: Ids, opts: GenerateOptions): Promise<Tensor> {
    const { rows, rank } = toRows(idx instanceof Tensor ? await idsOf(idx) : idx);
    const dec = this.decoder(rows, opts);
    try {
      for (let logits = dec.step(); logits; logits = dec.step()) {
        let data: ArrayLike<number>;
        try { data = await logits.data(); } finally { logits.dispose(); }
        dec.accept(data);
      }
    } finally {
      dec.close();
    }
    return idsTensor(rows, rank);
  }

  /**
   * The new tokens of one sequence as they are produced (an async iterator that awaits each read,
   * so it also works where reads are asynchronous); breaking out of the loop ends generation and
   * frees the cache.
   * @example for await (const id of model.stream(ids, { maxNewTokens: 100 })) process.stdout.write(tok.decode([id]))
   */
  async *stream(idx: Ids, opts: GenerateOptions): AsyncGenerator<number> {
    const { rows } = toRows(idx instanceof Tensor ? await idsOf(idx) : idx);
    if (rows.length !== 1) throw new Error(`GPT.stream: streams one sequence, got a batch of ${rows.length}; use generate with onToken for batches`);
    const dec = this.decoder(rows, opts);
    try {
      for (let logits = dec.step(); logits; logits = dec.step()) {
        let data: ArrayLike<number>;
        try { data = await logits.data(); } finally { logits.dispose(); }
        const [id] = dec.accept(data);
        if (id !== null) yield id;
      }
    } finally {
      dec.close();
    }
  }

  /**
   * The generation loop, one step at a time: step() runs the model on the new tokens and returns
   * the next-token logits [B, V] (null when done), accept() samples from them and appends to
   * `rows` in place, close() frees the cache and restores the training mode.
   */
  private decoder(rows: number[][], opts: GenerateOptions) {
    const c = this.config, B = rows.length, V = c.vocabSize, n = opts.maxNewTokens;
    if (!Number.isInteger(n) || n < 0) throw new Error(`GPT.generate: maxNewTokens must be a non-negative integer, got ${n}`);
    if (B === 0 || rows[0].length === 0 || rows.some((r) => r.length !== rows[0].length)) {
      throw new Error('GPT.generate: idx needs at least one row, and every row the same non-zero length');
    }
    for (const r of rows) for (const t of r) {
      if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`GPT.generate: token ${t} is out of range for a vocabulary of ${V}`);
    }
    processLogits(new Float64Array(1), [], opts); // check the sampling options before any work
    const stops = (opts.stop ?? []).filter((s) => s.length > 0);
    const pad = opts.padTokenId ?? c.eosTokenId ?? 0;
    const gen = opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator);
    const useCache = opts.useCache ?? true;
    const modes = [...this.modules()].map((m) => [m, m.training] as const);
    this.eval();
    let caches: LayerCache[] | null = null;
    const free = (cs: LayerCache[] | null) => { for (const lc of cs ?? []) { lc.k?.dispose(); lc.v?.dispose(); } };
    const done = new Array<boolean>(B).fill(false);
    let made = 0;
    return {
      step: (): Tensor | null => {
        if (made >= n || done.every(Boolean)) return null;
        const len = rows[0].length;
        // The cache covers positions 0..len-2. Past the context the window slides, positions shift,
        // and every step recomputes the last nPositions tokens (nanoGPT's crop).
        const cached = useCache && len <= c.nPositions;
        const past = cached && caches ? len - 1 : 0;
        const start = past > 0 ? past : Math.max(0, len - c.nPositions);
        const old = caches;
        const next: LayerCache[] | null = cached ? this.transformer.h.map((_, i) => ({ k: old?.[i].k ?? null, v: old?.[i].v ?? null })) : null;
        const input = makeTensor(rows.map((r) => r.slice(start)), { dtype: 'int32', device: this.lm_head.weight.device });
        const { logits } = noGrad(() => scope(() => {
          const hidden = this.transformer.forward(input, next ?? undefined); // (B, L, C)
          const last = select(hidden, 1, hidden.shape[1] - 1); // (B, C): only the last position is needed
          return { logits: this.lm_head.forward(last), next }; // (B, V); the new caches outlive the scope
        }));
        input.dispose();
        free(old);
        caches = next;
        return logits;
      },
      accept: (data: ArrayLike<number>): (number | null)[] => {
        made++;
        const uniforms = gen.uniformArray(B);
        return rows.map((row, b) => {
          if (done[b]) { row.push(pad); return null; }
          const id = sampleNext(Float64Array.from({ length: V }, (_, j) => data[b * V + j]), row, opts, uniforms[b]);
          row.push(id);
          opts.onToken?.(id, b);
          if (stops.some((s) => endsWith(row, s))) done[b] = true;
          return id;
        });
      },
      close: (): void => {
        free(caches);
        caches = null;
        for (const [m, t] of modes) m.training = t;
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Hugging Face files (the format lives in pretrained.ts)

  /**
   * Write config.json and model.safetensors as transformers' GPT2LMHeadModel.save_pretrained does
   * (plus tokenizer.json when a tokenizer is given), each file atomically.
   * @example await model.savePretrained('out/my-gpt', { tokenizer })
   */
  async savePretrained(dir: string, opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {}): Promise<void> {
    const { saveGPT2 } = await import('./pretrained.js');
    await saveGPT2(this, dir, opts);
  }

  /**
   * Load a GPT-2-family directory (config.json + model.safetensors, or shards listed in
   * model.safetensors.index.json): the same logits as transformers' GPT2LMHeadModel.
   * @example const model = await GPT.fromPretrained('models/gpt2')
   */
  static async fromPretrained(dir: string, opts: { strict?: boolean } = {}): Promise<GPT> {
    const { loadGPT2 } = await import('./pretrained.js');
    const { newestCheckpointCopy } = await import('../io/checkpoint.js');
    return loadGPT2(await newestCheckpointCopy(dir) ?? dir, opts);
  }
}

/** Token rows as an int32 tensor of the caller's rank ([T] or [B, T]). */
function idsTensor(rows: number[][], rank: number): Tensor {
  const T = rows[0].length;
  return fromTypedArray(Int32Array.from(rows.flat()), rank === 1 ? [T] : [rows.length, T], 'int32');
}

/** A tensor of token ids as arrays (read asynchronously), same rank. */
async function idsOf(t: Tensor): Promise<number[] | number[][]> {
  checkIds(t);
  const d = Array.from(await t.data());
  const T = t.shape[t.ndim - 1];
  return t.ndim === 1 ? d : Array.from({ length: t.shape[0] }, (_, b) => d.slice(b * T, (b + 1) * T));
}

function checkIds(t: Tensor): void {
  if (t.dtype !== 'int32' || (t.ndim !== 1 && t.ndim !== 2)) throw new Error(`GPT.generate: idx must be int32 [B, T] or [T], got ${t.dtype} ${fmtShape(t.shape)}`);
}

/** Rows of token ids from a tensor or arrays; rank 1 for a single sequence. */
function toRows(idx: Ids): { rows: number[][]; rank: number } {
  if (idx instanceof Tensor) {
    checkIds(idx);
    const d = Array.from(idx.dataSync());
    const T = idx.shape[idx.ndim - 1], B = idx.ndim === 1 ? 1 : idx.shape[0];
    return { rows: Array.from({ length: B }, (_, b) => d.slice(b * T, (b + 1) * T)), rank: idx.ndim };
  }
  if (idx.length > 0 && Array.isArray(idx[0])) return { rows: (idx as number[][]).map((r) => [...r]), rank: 2 };
  return { rows: [[...(idx as number[])]], rank: 1 };
}

function endsWith(seq: readonly number[], tail: readonly number[]): boolean {
  if (tail.length > seq.length) return false;
  for (let i = 1; i <= tail.length; i++) if (seq[seq.length - i] !== tail[tail.length - i]) return false;
  return true;
}
