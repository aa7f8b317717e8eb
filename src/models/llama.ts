// The Llama family of decoders (Touvron et al. 2023; Qwen2 and Mistral are the same network with
// q/k/v biases or a sliding window) as transformers' modeling_llama.py writes it, with its module
// names, so a LlamaForCausalLM / Qwen2ForCausalLM / MistralForCausalLM safetensors checkpoint loads
// by name: RMSNorm before each block, rotary position embeddings on the queries and keys,
// grouped-query attention, a SwiGLU MLP. The config is in llama-config.ts, the Hugging Face files in
// llama-files.ts, generation in generation.ts (shared with GPT).

import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Embedding } from '../nn/layers/embedding.js';
import { RMSNorm } from '../nn/layers/norm.js';
import { Linear } from '../nn/layers/linear.js';
import { scaledDotProductAttention } from '../nn/layers/attention.js';
import { crossEntropy } from '../nn/functional.js';
import { normal_, zeros_ } from '../nn/init.js';
import { add, mul } from '../ops/binary.js';
import { type Rope, applyRope, attentionMask, repeatKv, ropeTables } from './llama-ops.js';
import { silu } from '../ops/activation.js';
import { reshape, permute, concat, select, contiguous } from '../ops/movement.js';
import { zeros } from '../tensor/creation.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { copy_ } from '../ops/inplace.js';
import { AdamW } from '../optim/adam.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { newestCheckpointCopy } from '../io/checkpoint.js';
import { LLAMA_PRESETS, type LlamaConfig, checkLlamaConfig, layerTypesOf } from './llama-config.js';
import { type GenerateOptions, type Ids, type LayerCache, generateTokens, generateTokensAsync, streamTokens } from './generation.js';
import type { SaveTokenizer } from './gpt2-files.js';
import { loadLlama, saveLlama } from './llama-files.js';
import type { SlotCache, SlotLM } from './kv-cache.js';
import { allocLlamaSlots } from './llama-slots.js';

// ---------------------------------------------------------------------------------------------
// The modules

/** Grouped-query self-attention with rotary embeddings (transformers' LlamaAttention). */
export class LlamaAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  readonly nHead: number;
  readonly nKvHead: number;
  readonly headDim: number;
  readonly attentionDropout: number;
  /** Keys a query sees (sliding-window layers), or null for every earlier position. */
  readonly window: number | null;

  constructor(c: LlamaConfig, layerIdx: number) {
    super();
    this.nHead = c.nHead;
    this.nKvHead = c.nKvHead;
    this.headDim = c.headDim;
    this.attentionDropout = c.attentionDropout;
    this.window = layerTypesOf(c)[layerIdx] === 'sliding_attention' ? c.slidingWindow : null;
    const C = c.nEmbd,
      D = c.headDim;
    this.q_proj = new Linear(C, c.nHead * D, { bias: c.qkvBias });
    this.k_proj = new Linear(C, c.nKvHead * D, { bias: c.qkvBias });
    this.v_proj = new Linear(C, c.nKvHead * D, { bias: c.qkvBias });
    this.o_proj = new Linear(c.nHead * D, C, { bias: c.oBias });
  }

  /**
   * x [B, T, C] → [B, T, C], the rope tables covering these T positions. With a cache, the new keys
   * and values (after rotation, nKvHead heads) are appended to the cached ones and written back.
   */
  forward(x: Tensor, rope: Rope, cache?: LayerCache): Tensor {
    const [B, T] = x.shape,
      H = this.nHead,
      Hkv = this.nKvHead,
      D = this.headDim;
    const heads = (t: Tensor, n: number) => permute(reshape(t, [B, T, n, D]), [0, 2, 1, 3]); // (B, n, T, D)
    const q = applyRope(heads(this.q_proj.forward(x), H), rope); // (B, H, T, D)
    let k = applyRope(heads(this.k_proj.forward(x), Hkv), rope); // (B, Hkv, T, D)
    let v = heads(this.v_proj.forward(x), Hkv); // (B, Hkv, T, D)
    const past = cache?.k ? cache.k.shape[2] : 0;
    if (cache) {
      if (cache.k && cache.v) {
        k = concat([cache.k, k], 2); // (B, Hkv, past + T, D)
        v = concat([cache.v, v], 2);
      }
      cache.k = contiguous(k);
      cache.v = contiguous(v);
    }
    const rep = H / Hkv,
      training = this.training,
      dropoutP = training ? this.attentionDropout : 0;
    const mask = attentionMask(past, T, this.window, x.device);
    let y: Tensor;
    if (!mask && T === 1) {
      // One query that sees every key: the rep query heads of a group attend to its one key/value
      // head as rep rows, so the cached keys are read in place, not repeated.
      const qg = reshape(q, [B, Hkv, rep, D]); // (B, Hkv, rep, D)
      y = reshape(scaledDotProductAttention(qg, k, v, { dropoutP, training }), [B, H, 1, D]); // (B, H, 1, D)
    } else {
      const opts = mask ? { attnMask: mask, dropoutP, training } : { isCausal: true, dropoutP, training };
      y = scaledDotProductAttention(q, repeatKv(k, rep), repeatKv(v, rep), opts); // (B, H, T, D)
    }
    y = reshape(permute(y, [0, 2, 1, 3]), [B, T, H * D]); // (B, T, H·D): heads side by side
    return this.o_proj.forward(y); // (B, T, C)
  }
}

/** The SwiGLU feed-forward block (Shazeer 2020): down_proj(silu(gate_proj(x)) · up_proj(x)) (transformers' LlamaMLP). */
export class LlamaMLP extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;

  constructor(c: LlamaConfig) {
    super();
    this.gate_proj = new Linear(c.nEmbd, c.nInner, { bias: c.mlpBias });
    this.up_proj = new Linear(c.nEmbd, c.nInner, { bias: c.mlpBias });
    this.down_proj = new Linear(c.nInner, c.nEmbd, { bias: c.mlpBias });
  }

  forward(x: Tensor): Tensor {
    const h = mul(silu(this.gate_proj.forward(x)), this.up_proj.forward(x)); // (B, T, nInner)
    return this.down_proj.forward(h); // (B, T, C)
  }
}

/** Pre-norm block: x + attn(rms(x)), then + mlp(rms(h)) (transformers' LlamaDecoderLayer). */
export class LlamaDecoderLayer extends Module {
  self_attn: LlamaAttention;
  mlp: LlamaMLP;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;

  constructor(c: LlamaConfig, layerIdx: number) {
    super();
    this.self_attn = new LlamaAttention(c, layerIdx);
    this.mlp = new LlamaMLP(c);
    this.input_layernorm = new RMSNorm(c.nEmbd, { eps: c.rmsNormEps });
    this.post_attention_layernorm = new RMSNorm(c.nEmbd, { eps: c.rmsNormEps });
  }

  forward(x: Tensor, rope: Rope, cache?: LayerCache): Tensor {
    const h = add(x, this.self_attn.forward(this.input_layernorm.forward(x), rope, cache)); // (B, T, C)
    return add(h, this.mlp.forward(this.post_attention_layernorm.forward(h))); // (B, T, C)
  }
}

/** The trunk: token embeddings, the layers and the final RMSNorm (transformers' LlamaModel). */
export class LlamaModel extends Module {
  embed_tokens: Embedding;
  layers: LlamaDecoderLayer[] = [];
  norm: RMSNorm;
  readonly config: LlamaConfig;

  constructor(c: LlamaConfig) {
    super();
    this.config = c;
    const pad = c.padTokenId !== null && c.padTokenId < c.vocabSize ? c.padTokenId : null;
    // A zero table (skipping Embedding's N(0, 1) draw); Llama's init draws N(0, initializerRange).
    this.embed_tokens = new Embedding(c.vocabSize, c.nEmbd, { paddingIdx: pad, _weight: zeros([c.vocabSize, c.nEmbd]) });
    for (let i = 0; i < c.nLayer; i++) this.layers.push(new LlamaDecoderLayer(c, i));
    this.norm = new RMSNorm(c.nEmbd, { eps: c.rmsNormEps });
  }

  /**
   * idx int32 [B, T] → hidden states [B, T, C]. With caches (one per layer), idx continues the
   * cached positions and the caches grow by T.
   */
  forward(idx: Tensor, caches?: LayerCache[]): Tensor {
    const T = idx.shape[1],
      past = caches?.[0]?.k?.shape[2] ?? 0;
    const rope = ropeTables(
      this.config,
      Array.from({ length: T }, (_, i) => past + i),
      idx.device,
      past + T,
    ); // (T, D) each, broadcast over batch and heads
    let x = this.embed_tokens.forward(idx); // (B, T, C)
    this.layers.forEach((layer, i) => {
      x = layer.forward(x, rope, caches?.[i]);
    });
    return this.norm.forward(x); // (B, T, C)
  }
}

/**
 * A Llama-family language model (transformers' LlamaForCausalLM; Qwen2ForCausalLM and
 * MistralForCausalLM are the same class with another config): the trunk and lm_head, with
 * transformers' parameter names, so `fromPretrained` / `savePretrained` read and write Hugging Face
 * directories. `forward(idx)` maps token ids int32 [B, T] to logits [B, T, vocabSize] (and the loss
 * given targets); `generate` samples continuations with a key/value cache.
 */
export class Llama extends Module implements SlotLM {
  readonly config: LlamaConfig;
  model: LlamaModel;
  lm_head: Linear;

  /**
   * A Llama with transformers' parameter names, initialized as transformers does: N(0,
   * initializerRange) for every matrix and embedding, zero biases, RMSNorm gains 1. `init: false`
   * skips the normal draws (for weights about to be loaded). Fields left out take
   * LLAMA_PRESETS.tiny's values, except that giving nEmbd or nHead without headDim makes it
   * nEmbd / nHead, and nHead without nKvHead makes them equal (transformers' defaults).
   * @example const model = new Llama({ ...LLAMA_PRESETS.tiny, vocabSize: tok.vocabSize })
   */
  constructor(config: Partial<LlamaConfig> = {}, opts: { init?: boolean } = {}) {
    super();
    const c: LlamaConfig = { ...LLAMA_PRESETS.tiny, ...config };
    // transformers' defaults when a width is given without them: head_dim = hidden / heads, one key/value head per query head.
    if (config.headDim === undefined && (config.nEmbd !== undefined || config.nHead !== undefined)) {
      if (c.nEmbd % c.nHead !== 0) throw new Error(`Llama: nEmbd ${c.nEmbd} is not divisible by nHead ${c.nHead}; give headDim`);
      c.headDim = c.nEmbd / c.nHead;
    }
    if (config.nKvHead === undefined && config.nHead !== undefined) c.nKvHead = c.nHead;
    checkLlamaConfig(c);
    this.config = c;
    this.model = new LlamaModel(c);
    this.lm_head = new Linear(c.nEmbd, c.vocabSize, { bias: false });
    if (c.tieWeights) {
      // One storage: the gradients of both uses add up in embed_tokens.weight.
      this.lm_head.weight.dispose();
      this.lm_head.weight = this.model.embed_tokens.weight;
    }
    if (opts.init ?? true) this.initWeights();
  }

  /** transformers' _init_weights: N(0, initializerRange) for Linear and Embedding weights (the padding row zero), zero biases. */
  private initWeights(): void {
    const std = this.config.initializerRange;
    noGrad(() => {
      for (const m of this.modules()) {
        if (m instanceof Linear) {
          if (m !== this.lm_head || !this.config.tieWeights) normal_(m.weight, 0, std);
          if (m.bias) zeros_(m.bias);
        } else if (m instanceof Embedding) {
          normal_(m.weight, 0, std);
          const p = m.paddingIdx;
          if (p !== null) scope(() => copy_(m.weight.slice(0, p, p + 1), zeros([1, m.embeddingDim], { device: m.weight.device })));
        }
      }
    });
  }

  /** The parameter count of a config without building the model (embed_tokens counted once when tied). */
  static countParams(config: Partial<LlamaConfig> = {}): number {
    const c = { ...LLAMA_PRESETS.tiny, ...config };
    const C = c.nEmbd,
      D = c.headDim,
      I = c.nInner;
    const attn = C * c.nHead * D + 2 * C * c.nKvHead * D + c.nHead * D * C + (c.qkvBias ? (c.nHead + 2 * c.nKvHead) * D : 0) + (c.oBias ? C : 0);
    const mlp = 3 * C * I + (c.mlpBias ? 2 * I + C : 0);
    return c.vocabSize * C * (c.tieWeights ? 1 : 2) + c.nLayer * (attn + mlp + 2 * C) + C;
  }

  /**
   * idx int32 [B, T] → logits [B, T, V]; with targets int32 [B, T] (the next tokens; −100 is
   * ignored) also the mean cross-entropy.
   */
  forward(idx: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null } {
    this.checkIdx('forward', idx);
    const logits = this.lm_head.forward(this.model.forward(idx)); // (B, T, V)
    if (!targets) return { logits, loss: null };
    if (!shapesEqual(targets.shape, idx.shape)) throw new Error(`Llama.forward: targets ${fmtShape(targets.shape)} must have the shape of idx ${fmtShape(idx.shape)}`);
    const loss = crossEntropy(reshape(logits, [-1, this.config.vocabSize]), reshape(targets, [-1]), { ignoreIndex: -100 }); // (B·T, V) vs (B·T)
    return { logits, loss };
  }

  private checkIdx(where: string, idx: Tensor): void {
    if (idx.dtype !== 'int32' || idx.ndim !== 2) throw new Error(`Llama.${where}: idx must be int32 [B, T], got ${idx.dtype} ${fmtShape(idx.shape)}`);
    if (idx.shape[1] > this.config.nPositions) {
      throw new Error(`Llama.${where}: sequence of length ${idx.shape[1]} is longer than the context of ${this.config.nPositions} positions (max_position_embeddings)`);
    }
  }

  /**
   * AdamW with weight decay on the ≥2-D parameters (matrices, embeddings) and none on biases and
   * RMSNorm gains (nanoGPT's rule).
   * @example const opt = model.configureOptimizer({ weightDecay: 0.1, lr: 3e-4 })
   */
  configureOptimizer(opts: { weightDecay?: number; lr?: number; betas?: [number, number]; eps?: number } = {}): AdamW {
    const params = this.parameters().filter((p) => p.requiresGrad);
    const groups = [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: opts.weightDecay ?? 0.1 },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ].filter((g) => g.params.length);
    return new AdamW(groups, { lr: opts.lr ?? 3e-4, betas: opts.betas ?? [0.9, 0.95], eps: opts.eps });
  }

  /**
   * Next-token logits [B, V] of idx int32 [B, L]: lm_head on the last position only. With caches
   * (one per layer), idx continues the cached positions and the caches grow by L (generation.ts).
   */
  lastLogits(idx: Tensor, caches?: LayerCache[]): Tensor {
    const past = caches?.[0]?.k?.shape[2] ?? 0;
    if (past + idx.shape[1] > this.config.nPositions) {
      throw new Error(`Llama.lastLogits: ${past} cached and ${idx.shape[1]} new positions exceed the context of ${this.config.nPositions}`);
    }
    const hidden = this.model.forward(idx, caches); // (B, L, C)
    return this.lm_head.forward(select(hidden, 1, hidden.shape[1] - 1)); // (B, C) → (B, V)
  }

  /** The last hidden states [B, T, C] (after the final norm) of idx int32 [B, T]: what embeddings pool. */
  hiddenStates(idx: Tensor): Tensor {
    this.checkIdx('hiddenStates', idx);
    return this.model.forward(idx); // (B, T, C)
  }

  /**
   * `parallel` sequence slots of `ctx` positions for continuous batching (serve/engine.ts): each
   * slot has its own key/value cache, prefilled on its own and decoded with the others (llama-slots.ts).
   * @example const slots = model.allocSlots(4, 256)
   */
  allocSlots(parallel: number, ctx: number): SlotCache {
    return allocLlamaSlots(this, parallel, ctx);
  }

  // -------------------------------------------------------------------------------------------
  // Generation (generation.ts, shared with GPT)

  /**
   * Append maxNewTokens tokens to each row of idx (int32 [B, T] or [T], or plain arrays) and
   * return the ids with them (same rank as idx). temperature 0 (or topK 1) is greedy; otherwise
   * repetition penalty, temperature, top-k and top-p are applied in transformers' order and a
   * token is drawn from the seeded generator. Runs in eval mode without gradients with a key/value
   * cache; reads each step's logits synchronously (generateAsync or stream() where reads are asynchronous).
   * @example const out = model.generate(prompt, { maxNewTokens: 50, temperature: 0.7, topP: 0.9, seed: 1 })
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
   * The new tokens of one sequence as they are produced; breaking out of the loop ends generation
   * and frees the cache.
   * @example for await (const id of model.stream(ids, { maxNewTokens: 100 })) process.stdout.write(tok.decode([id]))
   */
  async *stream(idx: Ids, opts: GenerateOptions): AsyncGenerator<number> {
    yield* streamTokens(this, idx, opts);
  }

  // -------------------------------------------------------------------------------------------
  // Hugging Face files (llama-files.ts)

  /**
   * Write config.json and model.safetensors as transformers' save_pretrained does for this family
   * (plus tokenizer.json when a tokenizer is given), each file atomically; `float32As` stores the
   * weights as F16 or BF16.
   * @example await model.savePretrained('out/my-llama', { tokenizer })
   */
  async savePretrained(dir: string, opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {}): Promise<void> {
    await saveLlama(this, dir, opts);
  }

  /**
   * Load a Llama, Qwen2 or Mistral directory (config.json + model.safetensors, or the shards
   * model.safetensors.index.json lists; F32, F16 or BF16, computed in float32): the logits of
   * transformers' *ForCausalLM.
   * @example const model = await Llama.fromPretrained('models/SmolLM2-135M')
   */
  static async fromPretrained(dir: string, opts: { strict?: boolean } = {}): Promise<Llama> {
    return loadLlama((await newestCheckpointCopy(dir)) ?? dir, (c) => new Llama(c, { init: false }), opts);
  }
}
