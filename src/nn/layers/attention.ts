// Attention: scaled dot-product attention (F.scaled_dot_product_attention) and multi-head attention
// (F.multi_head_attention_forward, nn.MultiheadAttention), composed from matmul, softmax and masks.

import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { Linear } from './linear.js';
import { empty } from './util.js';
import { xavierUniform_, zeros_ } from '../init.js';
import { linear } from './linear.js';
import { dropout } from './dropout.js';
import { add, mul, equal, where } from '../../ops/binary.js';
import { cast } from '../../ops/unary.js';
import { max, mean } from '../../ops/reduce.js';
import { matmul } from '../../ops/matmul.js';
import { softmax } from '../../ops/activation.js';
import { attention, causalMask, packedCausalAttention } from '../../ops/attention.js';
import { reshape, permute, transpose, chunk, squeeze, unsqueeze } from '../../ops/movement.js';
import { detach } from '../../autograd/tape.js';
import { broadcastShapes, fmtShape, shapesEqual } from '../../tensor/shape.js';
import { isFloat, type DType } from '../../tensor/dtype.js';
import type { Generator } from '../../ops/random.js';

// ---------------------------------------------------------------------------------------------
// Masks

/**
 * A mask as an additive float mask of `dtype`: float masks are added as they are; boolean masks
 * become 0 / −∞. `trueMeans` says what `true` means: 'attend' (SDPA's convention) or 'ignore'
 * (nn.MultiheadAttention's attn_mask and key_padding_mask).
 */
function additiveMask(where_: string, name: string, mask: Tensor, dtype: DType, trueMeans: 'attend' | 'ignore'): Tensor {
  if (mask.dtype === 'bool') {
    const m = trueMeans === 'attend' ? where(mask, 0, -Infinity) : where(mask, -Infinity, 0);
    return cast(m, dtype);
  }
  if (!isFloat(mask.dtype)) throw new Error(`${where_}: ${name} must be bool or floating point, got ${mask.dtype} of shape ${fmtShape(mask.shape)}`);
  return cast(mask, dtype);
}

/**
 * Softmax over the last dim that gives 0 (not NaN) on rows where every score is −∞: PyTorch's
 * _safe_softmax, which its SDPA math backend uses for fully masked rows.
 */
function safeSoftmax(scores: Tensor): Tensor {
  const dead = equal(detach(max(scores, -1, true)), -Infinity); // (…, L, 1)
  return where(dead, 0, softmax(where(dead, 0, scores), -1));
}

/** q·kᵀ·scale + mask → softmax → dropout → ·v; returns the output and the weights (after dropout, as PyTorch's MHA). */
function attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, scale: number, p: number, generator?: Generator): [Tensor, Tensor] {
  let scores = matmul(mul(q, scale), transpose(k, -2, -1)); // (…, L, S)
  if (mask) scores = add(scores, mask);
  let w = mask ? safeSoftmax(scores) : softmax(scores, -1);
  if (p > 0) w = dropout(w, p, true, generator);
  return [matmul(w, v), w]; // (…, L, Ev)
}

// ---------------------------------------------------------------------------------------------
// Scaled dot-product attention

/**
 * Options of {@link scaledDotProductAttention} (F.scaled_dot_product_attention's arguments);
 * `generator` draws the dropout mask.
 */
export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcastable to [..., L, S]. Boolean: true = this query may attend to this key (PyTorch's SDPA
   * convention, the opposite of nn.MultiheadAttention's). Float: added to the scores.
   */
  attnMask?: Tensor | null;
  /** Query i attends to keys 0..i only (the top-left triangle when L ≠ S). Not with attnMask. */
  isCausal?: boolean;
  /** Dropout probability on the attention weights. */
  dropoutP?: number;
  /** Multiplies QKᵀ; default 1/√E with E the query's last dim. */
  scale?: number | null;
  /** Apply dropout (default true: F.scaled_dot_product_attention applies dropoutP whenever it is > 0). */
  training?: boolean;
  generator?: Generator;
}

/**
 * The checked SDPA: returns [output [..., L, Ev], weights [..., L, S]]. Rows whose keys are all
 * masked give zero weights and a zero output, as PyTorch's SDPA (its math backend's safe softmax).
 */
export function scaledDotProductAttentionWithWeights(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions = {}): [Tensor, Tensor] {
  const w = 'scaledDotProductAttention';
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) {
    throw new Error(`${w}: query, key and value need at least 2 dims [..., L, E], got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const L = q.shape[q.ndim - 2],
    E = q.shape[q.ndim - 1],
    S = k.shape[k.ndim - 2];
  if (k.shape[k.ndim - 1] !== E) throw new Error(`${w}: query ${fmtShape(q.shape)} and key ${fmtShape(k.shape)} must have the same last dim`);
  if (v.shape[v.ndim - 2] !== S) throw new Error(`${w}: key ${fmtShape(k.shape)} and value ${fmtShape(v.shape)} must have the same number of keys (dim -2)`);
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p <= 1)) throw new Error(`${w}: dropoutP must be in [0, 1], got ${p}`);
  const dtype = q.dtype;
  let mask: Tensor | null = null;
  if (opts.isCausal) {
    if (opts.attnMask) throw new Error(`${w}: an explicit attnMask cannot be given with isCausal (as PyTorch)`);
    mask = causalMask(L, S, dtype, q.device);
  } else if (opts.attnMask) {
    const m = opts.attnMask;
    const batch = broadcastShapes(w, q.shape.slice(0, -2), k.shape.slice(0, -2));
    const scores = [...batch, L, S];
    let ok = m.ndim <= scores.length;
    try {
      ok = ok && shapesEqual(broadcastShapes(w, m.shape, scores), scores);
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`${w}: attnMask ${fmtShape(m.shape)} is not broadcastable to the scores ${fmtShape(scores)} of query ${fmtShape(q.shape)} and key ${fmtShape(k.shape)}`);
    mask = additiveMask(w, 'attnMask', m, dtype, 'attend');
  }
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  return attend(q, k, v, mask, scale, (opts.training ?? true) ? p : 0, opts.generator);
}

/**
 * softmax(Q·Kᵀ·scale + mask)·V over the last two dims, any leading batch dims broadcast
 * (F.scaled_dot_product_attention). q [..., L, E], k [..., S, E], v [..., S, Ev] → [..., L, Ev].
 * Without a mask (or with isCausal) and dropout, on equal batch dims, it is one fused op
 * (ops/attention.ts): a single kernel where the backend has one.
 * @example const y = scaledDotProductAttention(q, k, v, { isCausal: true }) // q, k, v [B, H, T, D]
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions = {}): Tensor {
  if (!plainOptions(opts) || !plainShapes(q, k, v)) return scaledDotProductAttentionWithWeights(q, k, v, opts)[0];
  return attention(q, k, v, opts.scale ?? 1 / Math.sqrt(q.shape[q.ndim - 1]), !!opts.isCausal);
}

/** Whether the options leave plain (or causal) attention: no mask but isCausal, no dropout. */
function plainOptions(opts: ScaledDotProductAttentionOptions): boolean {
  if (opts.attnMask) return false;
  const p = opts.dropoutP ?? 0;
  return p >= 0 && p <= 1 && !((opts.training ?? true) && p !== 0);
}

/** Whether q, k, v are valid operands with equal batch dims and keys (broadcast batches take the checked path). */
function plainShapes(q: Tensor, k: Tensor, v: Tensor): boolean {
  const nd = q.ndim,
    batch = q.shape.slice(0, -2);
  if (nd < 2 || k.ndim !== nd || v.ndim !== nd || !shapesEqual(k.shape.slice(0, -2), batch) || !shapesEqual(v.shape.slice(0, -2), batch)) return false;
  return k.shape[nd - 1] === q.shape[nd - 1] && v.shape[nd - 2] === k.shape[nd - 2] && k.shape[nd - 2] > 0;
}

/**
 * Causal self-attention from a packed projection qkv [B, T, 3·C] (query, key and value side by
 * side, each nHead heads of D = C / nHead: GPT-2's c_attn output) to [B, T, C] with the heads side
 * by side. It is splitting qkv into heads, `scaledDotProductAttention(q, k, v, { isCausal: true })`
 * and merging the heads, but the fused kernels read the heads where they lie and write the output
 * and the gradient of qkv through strides, so nothing is split, padded, added or copied
 * (ops/attention.ts). Returns null where the options ask for dropout or qkv is not [B, T, 3·C] with
 * C a multiple of nHead: the caller composes it then.
 */
export function packedCausalSelfAttention(qkv: Tensor, nHead: number, opts: Pick<ScaledDotProductAttentionOptions, 'dropoutP' | 'training' | 'scale'> = {}): Tensor | null {
  if (!plainOptions(opts) || qkv.ndim !== 3) return null;
  const D = qkv.shape[2] / 3 / nHead;
  if (!Number.isInteger(D) || D === 0) return null;
  return packedCausalAttention(qkv, nHead, opts.scale ?? 1 / Math.sqrt(D));
}

// ---------------------------------------------------------------------------------------------
// Multi-head attention, functional

/** The projections of a multi-head attention (either inProjWeight, or the three separate ones). */
export interface MultiheadAttentionParams {
  /** [3E, E]: rows 0..E-1 project the query, E..2E-1 the key, 2E..3E-1 the value. */
  inProjWeight?: Tensor | null;
  /** [E, E], [E, kdim], [E, vdim] when key or value dims differ from E. */
  qProjWeight?: Tensor | null;
  kProjWeight?: Tensor | null;
  vProjWeight?: Tensor | null;
  /** [3E] */
  inProjBias?: Tensor | null;
  /** [E, E] and [E] */
  outProjWeight: Tensor;
  outProjBias?: Tensor | null;
}

/** Options of `MultiheadAttention.forward` (the masks and what to return, as PyTorch's). */
export interface MultiheadAttentionForwardOptions {
  /** [N, S] (or [S] unbatched): boolean true = ignore this key (PyTorch's convention), or float added to the scores. */
  keyPaddingMask?: Tensor | null;
  /** Also return the attention weights (default true). */
  needWeights?: boolean;
  /**
   * [L, S] or [N·numHeads, L, S] ([numHeads, L, S] unbatched): boolean true = NOT allowed to attend
   * (nn.MultiheadAttention's convention), or float added to the scores.
   */
  attnMask?: Tensor | null;
  /** Average the returned weights over the heads (default true): [N, L, S], else [N, numHeads, L, S]. */
  averageAttnWeights?: boolean;
  /**
   * Causal attention. With attnMask this is only a hint and the mask is used, as PyTorch; without one
   * the causal mask is made here (PyTorch requires the mask to be passed too).
   */
  isCausal?: boolean;
}

export interface MultiHeadAttentionForwardOptions extends MultiheadAttentionForwardOptions {
  dropoutP?: number;
  training?: boolean;
  generator?: Generator;
  /**
   * Batched inputs are [N, L, E], [N, S, kdim], [N, S, vdim] and the output [N, L, E] (an addition to
   * PyTorch's functional form, which is time-first only; MultiheadAttention uses it for batchFirst).
   */
  batchFirst?: boolean;
}

/**
 * F.multi_head_attention_forward on the time-first layout: query [L, N, E], key [S, N, kdim], value
 * [S, N, vdim] (or unbatched [L, E], [S, kdim], [S, vdim]; batch-first with opts.batchFirst) →
 * [output [L, N, E], weights or null].
 * Heads: the projected query, key and value are split into numHeads slices of E/numHeads features,
 * attend separately, and are joined again before the output projection.
 */
export function multiHeadAttentionForward(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  numHeads: number,
  params: MultiheadAttentionParams,
  opts: MultiHeadAttentionForwardOptions = {},
  where_ = 'multiHeadAttentionForward',
): [Tensor, Tensor | null] {
  const w = where_;
  const { keyPaddingMask: kpm, attnMask } = opts;
  // Shapes, as PyTorch's _mha_shape_check.
  const batched = query.ndim === 3;
  if (query.ndim !== 3 && query.ndim !== 2) throw new Error(`${w}: query should be unbatched 2D [L, E] or batched 3D, got ${fmtShape(query.shape)}`);
  if (key.ndim !== query.ndim || value.ndim !== query.ndim) {
    throw new Error(`${w}: key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must have the same number of dims as query ${fmtShape(query.shape)}`);
  }
  if (kpm && kpm.ndim !== (batched ? 2 : 1)) {
    throw new Error(`${w}: keyPaddingMask must be ${batched ? '[N, S] for batched' : '[S] for unbatched'} input, got ${fmtShape(kpm.shape)}`);
  }
  if (attnMask && attnMask.ndim !== 2 && attnMask.ndim !== 3) throw new Error(`${w}: attnMask must be 2D [L, S] or 3D, got ${fmtShape(attnMask.shape)}`);
  // Work in the batch-first layout (N, len, features); unbatched input is a batch of one.
  const bf = batched && (opts.batchFirst ?? false);
  const toBF = (x: Tensor) => (!batched ? unsqueeze(x, 0) : bf ? x : transpose(x, 0, 1));
  const q3 = toBF(query),
    k3 = key === query ? q3 : toBF(key),
    v3 = value === key ? k3 : value === query ? q3 : toBF(value);
  const [N, L, E] = q3.shape,
    S = k3.shape[1];
  const layout = !batched ? '' : bf ? ' (batch first)' : '';
  const H = numHeads;
  if (!Number.isInteger(H) || H < 1 || E % H !== 0) throw new Error(`${w}: embed dim ${E} of query ${fmtShape(query.shape)} must be divisible by numHeads ${H}`);
  const hd = E / H;
  if (k3.shape[0] !== N || v3.shape[0] !== N || v3.shape[1] !== S) {
    throw new Error(`${w}: key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must match the batch of query ${fmtShape(query.shape)}${layout} and each other's length`);
  }
  if (params.outProjWeight.shape[0] !== E) throw new Error(`${w}: query's embed dim ${E} does not match outProjWeight ${fmtShape(params.outProjWeight.shape)}`);

  // Input projections.
  let q: Tensor, k: Tensor, v: Tensor;
  const [bq, bk, bv] = params.inProjBias ? chunk(params.inProjBias, 3, 0) : [null, null, null];
  if (params.inProjWeight) {
    const W = params.inProjWeight;
    if (!shapesEqual(W.shape, [3 * E, E])) throw new Error(`${w}: inProjWeight ${fmtShape(W.shape)} must be [3·E, E] = [${3 * E}, ${E}] for query ${fmtShape(query.shape)}`);
    if (k3.shape[2] !== E || v3.shape[2] !== E) {
      throw new Error(`${w}: key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must have embed dim ${E} (use kdim/vdim for other sizes)`);
    }
    if (q3 === k3 && k3 === v3) {
      [q, k, v] = chunk(linear(q3, W, params.inProjBias ?? null), 3, -1); // self-attention: one matmul
    } else {
      const [wq, wk, wv] = chunk(W, 3, 0);
      q = linear(q3, wq, bq);
      k = linear(k3, wk, bk);
      v = linear(v3, wv, bv);
    }
  } else {
    const { qProjWeight: wq, kProjWeight: wk, vProjWeight: wv } = params;
    if (!wq || !wk || !wv) throw new Error(`${w}: needs inProjWeight or all of qProjWeight, kProjWeight and vProjWeight`);
    const check = (name: string, t: Tensor, x: Tensor, orig: Tensor, xn: string) => {
      if (t.ndim !== 2 || t.shape[0] !== E || t.shape[1] !== x.shape[2]) {
        throw new Error(`${w}: ${name} ${fmtShape(t.shape)} must be [${E}, ${x.shape[2]}] for ${xn} ${fmtShape(orig.shape)}`);
      }
    };
    check('qProjWeight', wq, q3, query, 'query');
    check('kProjWeight', wk, k3, key, 'key');
    check('vProjWeight', wv, v3, value, 'value');
    q = linear(q3, wq, bq);
    k = linear(k3, wk, bk);
    v = linear(v3, wv, bv);
  }
  const heads = (x: Tensor, len: number) => permute(reshape(x, [N, len, H, hd]), [0, 2, 1, 3]); // (N, H, len, hd)
  q = heads(q, L);
  k = heads(k, S);
  v = heads(v, S);

  // Masks, merged into one additive mask broadcast to (N, H, L, S).
  const dtype = q.dtype;
  let mask: Tensor | null = null;
  if (attnMask) {
    if (attnMask.ndim === 2) {
      if (!shapesEqual(attnMask.shape, [L, S])) throw new Error(`${w}: 2D attnMask ${fmtShape(attnMask.shape)} must be [L, S] = [${L}, ${S}]`);
      mask = additiveMask(w, 'attnMask', attnMask, dtype, 'ignore');
    } else {
      const want = batched ? [N * H, L, S] : [H, L, S];
      if (!shapesEqual(attnMask.shape, want)) {
        throw new Error(`${w}: 3D attnMask ${fmtShape(attnMask.shape)} must be ${batched ? '[N·numHeads, L, S]' : '[numHeads, L, S]'} = ${fmtShape(want)}`);
      }
      mask = reshape(additiveMask(w, 'attnMask', attnMask, dtype, 'ignore'), [N, H, L, S]);
    }
  } else if (opts.isCausal) {
    mask = causalMask(L, S, dtype, q.device);
  }
  if (kpm) {
    const want = batched ? [N, S] : [S];
    if (!shapesEqual(kpm.shape, want)) throw new Error(`${w}: keyPaddingMask ${fmtShape(kpm.shape)} must be ${batched ? '[N, S]' : '[S]'} = ${fmtShape(want)}`);
    const pm = reshape(additiveMask(w, 'keyPaddingMask', kpm, dtype, 'ignore'), [N, 1, 1, S]);
    mask = mask ? add(mask, pm) : pm;
  }

  const p = (opts.training ?? true) ? (opts.dropoutP ?? 0) : 0;
  const [o, weights] = attend(q, k, v, mask, 1 / Math.sqrt(hd), p, opts.generator); // (N, H, L, hd), (N, H, L, S)
  // Heads joined in the caller's layout, so the output projection is one GEMM over contiguous rows.
  const joined = !batched
    ? reshape(permute(o, [0, 2, 1, 3]), [L, E]) // (L, E)
    : bf
      ? reshape(permute(o, [0, 2, 1, 3]), [N, L, E]) // (N, L, E)
      : reshape(permute(o, [2, 0, 1, 3]), [L, N, E]); // (L, N, E)
  const out = linear(joined, params.outProjWeight, params.outProjBias ?? null);
  if (!(opts.needWeights ?? true)) return [out, null];
  let aw = (opts.averageAttnWeights ?? true) ? mean(weights, 1) : weights; // (N, L, S) or (N, H, L, S)
  if (!batched) aw = squeeze(aw, 0);
  return [out, aw];
}

// ---------------------------------------------------------------------------------------------
// Multi-head attention, module

/**
 * Options of {@link MultiheadAttention}; `vdim` is the value features (default embedDim), `dtype`
 * the parameters' (float32).
 */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (default 0). */
  dropout?: number;
  /** Biases in the input and output projections (default true). */
  bias?: boolean;
  /** Inputs and output are [N, L, E] instead of [L, N, E]. */
  batchFirst?: boolean;
  /** Features of key and value (default embedDim). */
  kdim?: number;
  vdim?: number;
  dtype?: DType;
}

/**
 * nn.MultiheadAttention: in_proj_weight [3E, E] (xavier_uniform_), in_proj_bias [3E] (zeros) and
 * out_proj (a Linear, bias zeroed); q_proj_weight, k_proj_weight, v_proj_weight instead of
 * in_proj_weight when kdim or vdim differ from embedDim. Where every key of a query is masked the
 * output row is the output bias and the weights are 0 (PyTorch's SDPA path gives that; its
 * needWeights path gives NaN there).
 * @example
 * const mha = new MultiheadAttention(64, 4, { batchFirst: true })
 * const [y, w] = mha.forward(x, x, x) // x [B, T, 64] → y [B, T, 64], w [B, T, T]
 */
export class MultiheadAttention extends Module {
  in_proj_weight: Parameter | null;
  q_proj_weight: Parameter | null;
  k_proj_weight: Parameter | null;
  v_proj_weight: Parameter | null;
  in_proj_bias: Parameter | null;
  out_proj: Linear;
  readonly kdim: number;
  readonly vdim: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    const w = 'MultiheadAttention';
    if (!Number.isInteger(embedDim) || embedDim < 1 || !Number.isInteger(numHeads) || numHeads < 1) {
      throw new Error(`${w}: embedDim and numHeads must be positive integers, got ${embedDim} and ${numHeads}`);
    }
    if (embedDim % numHeads !== 0) throw new Error(`${w}: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new Error(`${w}: dropout must be in [0, 1], got ${this.dropout}`);
    this.batchFirst = opts.batchFirst ?? false;
    const dtype = opts.dtype ?? 'float32';
    const E = embedDim;
    if (this.qkvSameEmbedDim) {
      this.in_proj_weight = new Parameter(empty([3 * E, E], dtype));
      this.q_proj_weight = this.k_proj_weight = this.v_proj_weight = null;
    } else {
      this.in_proj_weight = null;
      this.q_proj_weight = new Parameter(empty([E, E], dtype));
      this.k_proj_weight = new Parameter(empty([E, this.kdim], dtype));
      this.v_proj_weight = new Parameter(empty([E, this.vdim], dtype));
    }
    const bias = opts.bias ?? true;
    this.in_proj_bias = bias ? new Parameter(empty([3 * E], dtype)) : null;
    // Made (and default-initialized) before the projections are reset, as PyTorch's __init__ does.
    this.out_proj = new Linear(E, E, { bias, dtype });
    this.resetParameters();
  }

  /** True when key and value have embedDim features (one packed in_proj_weight). */
  get qkvSameEmbedDim(): boolean {
    return this.kdim === this.embedDim && this.vdim === this.embedDim;
  }

  /** PyTorch's _reset_parameters: xavier_uniform_ on the input projections, zero biases. */
  resetParameters(): void {
    if (this.in_proj_weight) xavierUniform_(this.in_proj_weight);
    else for (const p of [this.q_proj_weight!, this.k_proj_weight!, this.v_proj_weight!]) xavierUniform_(p);
    if (this.in_proj_bias) zeros_(this.in_proj_bias);
    if (this.out_proj.bias) zeros_(this.out_proj.bias);
  }

  /**
   * query [L, N, E] (batchFirst: [N, L, E]; unbatched [L, E]), key [S, N, kdim], value [S, N, vdim]
   * → [output like query, weights [N, L, S] (or [N, numHeads, L, S] without averaging; [L, S] unbatched) or null].
   */
  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    if (query.ndim >= 1 && query.shape[query.ndim - 1] !== this.embedDim) {
      throw new Error(`MultiheadAttention: query ${fmtShape(query.shape)} must have embedDim ${this.embedDim} features`);
    }
    return multiHeadAttentionForward(
      query,
      key,
      value,
      this.numHeads,
      {
        inProjWeight: this.in_proj_weight,
        qProjWeight: this.q_proj_weight,
        kProjWeight: this.k_proj_weight,
        vProjWeight: this.v_proj_weight,
        inProjBias: this.in_proj_bias,
        outProjWeight: this.out_proj.weight,
        outProjBias: this.out_proj.bias,
      },
      { ...opts, dropoutP: this.dropout, training: this.training, batchFirst: this.batchFirst },
      'MultiheadAttention',
    );
  }

  override extraRepr(): string {
    return `embed_dim=${this.embedDim}, num_heads=${this.numHeads}, dropout=${this.dropout}, batch_first=${this.batchFirst ? 'True' : 'False'}`;
  }
}
