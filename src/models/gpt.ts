// GPT-2 (Radford et al. 2019) as nanoGPT writes it, with Hugging Face's module names so a
// GPT2LMHeadModel safetensors checkpoint loads by name. The config and presets are in gpt-config.ts,
// generation with a key/value cache in generation.ts, the Hugging Face files in gpt2-files.ts;
// GPT's methods (generate, fromPretrained, savePretrained) delegate to them.

import type { Tensor } from '../tensor/tensor.js';
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
import { arange, zeros } from '../tensor/creation.js';
import { AdamW } from '../optim/adam.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { newestCheckpointCopy } from '../io/checkpoint.js';
import { GPT_PRESETS, type GPTConfig } from './gpt-config.js';
import { type GenerateOptions, type Ids, type LayerCache, generateTokens, generateTokensAsync, streamTokens } from './generation.js';
import { type SaveTokenizer, loadGPT2, saveGPT2 } from './gpt2-files.js';
import type { SlotCache, SlotLM } from './kv-cache.js';
import { allocGptSlots } from './gpt-slots.js';

/** HF's initializer_range: N(0, 0.02) for every weight matrix and embedding. */
const INIT_STD = 0.02;

/** c_proj's init: N(0, 0.02/√(2·nLayer)), so the residual stream's variance does not grow with depth (GPT-2 paper, §2.3). */
const residStd = (c: GPTConfig): number => INIT_STD / Math.sqrt(2 * c.nLayer);

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
  constructor(
    readonly nf: number,
    readonly nx: number,
    opts: { bias?: boolean; std?: number } = {},
  ) {
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
    const [B, T, C] = x.shape,
      H = this.nHead,
      D = C / H;
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
        v = concat([cache.v, v], 2); // (B, H, past + T, D)
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
      const rows = reshape(arange(past, past + T, 1, opts), [T, 1]),
        cols = reshape(arange(0, past + T, 1, opts), [1, past + T]);
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
    const C = config.nEmbd,
      inner = config.nInner ?? 4 * C;
    this.activation = config.activation;
    this.c_fc = new Conv1D(inner, C, { bias: config.bias, std: init ? INIT_STD : 0 });
    this.c_proj = new Conv1D(C, inner, { bias: config.bias, std: init ? residStd(config) : 0 });
    this.dropout = new Dropout(config.residPdrop ?? config.dropout);
  }

  forward(x: Tensor): Tensor {
    const h = this.c_fc.forward(x); // (B, T, inner)
    const a = this.activation === 'relu' ? relu(h) : gelu(h, this.activation === 'gelu' ? 'none' : 'tanh'); // (B, T, inner)
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
    return add(h, this.mlp.forward(this.ln_2.forward(h))); // (B, T, C)
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
    if (init) {
      normal_(this.wte.weight, 0, INIT_STD);
      normal_(this.wpe.weight, 0, INIT_STD);
    }
    this.drop = new Dropout(config.embdPdrop ?? config.dropout);
    for (let i = 0; i < config.nLayer; i++) this.h.push(new GPT2Block(config, init));
    this.ln_f = new LayerNorm(config.nEmbd, { eps: config.layerNormEps, bias: config.bias });
  }

  /**
   * idx int32 [B, T] → hidden states [B, T, C]. With caches (one per block), idx continues the
   * cached positions and the caches grow by T.
   */
  forward(idx: Tensor, caches?: LayerCache[]): Tensor {
    const T = idx.shape[1],
      past = caches?.[0]?.k?.shape[2] ?? 0;
    const pos = arange(past, past + T, 1, { dtype: 'int32', device: idx.device }); // (T)
    let x = this.drop.forward(add(this.wte.forward(idx), this.wpe.forward(pos))); // (B, T, C)
    this.h.forEach((block, i) => {
      x = block.forward(x, caches?.[i]);
    });
    return this.ln_f.forward(x); // (B, T, C)
  }
}

/**
 * GPT-2 as a language model (HF's GPT2LMHeadModel): the transformer trunk and lm_head, with
 * Hugging Face's parameter names, so `fromPretrained` / `savePretrained` read and write HF
 * directories.
 * `forward(idx)` maps token ids int32 [B, T] to logits [B, T, vocabSize] (and the loss given
 * targets);
 * `generate` samples continuations with a KV cache.
 */
export class GPT extends Module implements SlotLM {
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
    const C = c.nEmbd,
      I = c.nInner ?? 4 * C,
      b = c.bias ? 1 : 0;
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
    const decay = params.filter((p) => p.ndim >= 2),
      noDecay = params.filter((p) => p.ndim < 2);
    const groups = [
      { params: decay, weightDecay: opts.weightDecay ?? 0.1 },
      { params: noDecay, weightDecay: 0 },
    ].filter((g) => g.params.length);
    return new AdamW(groups, { lr: opts.lr ?? 6e-4, betas: opts.betas ?? [0.9, 0.95], eps: opts.eps });
  }

  /**
   * Next-token logits [B, V] of idx int32 [B, L]: lm_head on the last position only. With caches
   * (one per block), idx continues the cached positions and the caches grow by L (generation.ts).
   */
  lastLogits(idx: Tensor, caches?: LayerCache[]): Tensor {
    const hidden = this.transformer.forward(idx, caches); // (B, L, C)
    return this.lm_head.forward(select(hidden, 1, hidden.shape[1] - 1)); // (B, C) → (B, V)
  }

  /** The last hidden states [B, T, C] (after ln_f) of idx int32 [B, T]: what embeddings pool. */
  hiddenStates(idx: Tensor): Tensor {
    this.checkIdx('hiddenStates', idx);
    return this.transformer.forward(idx); // (B, T, C)
  }

  /**
   * `parallel` sequence slots of `ctx` positions for continuous batching (serve/engine.ts): each
   * slot has its own key/value cache, prefilled on its own and decoded with the others (gpt-slots.ts).
   * @example const slots = model.allocSlots(4, 256)
   */
  allocSlots(parallel: number, ctx: number): SlotCache {
    return allocGptSlots(this, parallel, ctx);
  }

  // -------------------------------------------------------------------------------------------
  // Generation (generation.ts)

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
    return generateTokens(this, idx, opts);
  }

  /**
   * generate() for any backend: each step's logits are awaited (GPUs read asynchronously).
   * @example const out = await model.generateAsync(prompt, { maxNewTokens: 50, seed: 1 })
   */
  async generateAsync(idx: Ids, opts: GenerateOptions): Promise<Tensor> {
    return generateTokensAsync(this, idx, opts);
  }

  /**
   * The new tokens of one sequence as they are produced (an async iterator that awaits each read,
   * so it also works where reads are asynchronous); breaking out of the loop ends generation and
   * frees the cache.
   * @example for await (const id of model.stream(ids, { maxNewTokens: 100 })) process.stdout.write(tok.decode([id]))
   */
  async *stream(idx: Ids, opts: GenerateOptions): AsyncGenerator<number> {
    yield* streamTokens(this, idx, opts);
  }

  // -------------------------------------------------------------------------------------------
  // Hugging Face files (the format lives in gpt2-files.ts)

  /**
   * Write config.json and model.safetensors as transformers' GPT2LMHeadModel.save_pretrained does
   * (plus tokenizer.json when a tokenizer is given), each file atomically.
   * @example await model.savePretrained('out/my-gpt', { tokenizer })
   */
  async savePretrained(dir: string, opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {}): Promise<void> {
    await saveGPT2(this, dir, opts);
  }

  /**
   * Load a GPT-2-family directory (config.json + model.safetensors, or shards listed in
   * model.safetensors.index.json): the same logits as transformers' GPT2LMHeadModel.
   * @example const model = await GPT.fromPretrained('models/gpt2')
   */
  static async fromPretrained(dir: string, opts: { strict?: boolean } = {}): Promise<GPT> {
    return loadGPT2((await newestCheckpointCopy(dir)) ?? dir, (c) => new GPT(c, { init: false }), opts);
  }
}
