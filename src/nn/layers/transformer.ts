// Transformer layers as PyTorch's: TransformerEncoderLayer, TransformerDecoderLayer (post-norm or
// pre-norm), their stacks TransformerEncoder/TransformerDecoder, and the causal mask helper.

import { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { MultiheadAttention } from './attention.js';
import { Linear } from './linear.js';
import { Dropout } from './dropout.js';
import { LayerNorm } from './norm.js';
import { ModuleList } from './container.js';
import { add } from '../../ops/binary.js';
import { relu, gelu } from '../../ops/activation.js';
import { clone } from '../../ops/movement.js';
import { fromTypedArray } from '../../tensor/creation.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { fmtShape } from '../../tensor/shape.js';
import type { DType } from '../../tensor/dtype.js';

/**
 * The feed-forward activation of a Transformer layer: 'relu' (the default), exact 'gelu', or any
 * function of a tensor.
 */
export type TransformerActivation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);

/**
 * Options of {@link TransformerEncoderLayer} and {@link TransformerDecoderLayer} (PyTorch's
 * arguments); `layerNormEps` defaults to 1e-5, `dtype` (the parameters') to float32.
 */
export interface TransformerLayerOptions {
  /** Hidden size of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block, and on attention weights (default 0.1). */
  dropout?: number;
  activation?: TransformerActivation;
  layerNormEps?: number;
  /** Inputs [N, L, E] instead of [L, N, E]. */
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before each block) instead of post-norm (after each residual sum). */
  normFirst?: boolean;
  /** Biases in the Linear and LayerNorm layers (default true). */
  bias?: boolean;
  dtype?: DType;
}

function resolveActivation(where: string, a: TransformerActivation | undefined): (x: Tensor) => Tensor {
  if (a === undefined || a === 'relu') return relu;
  if (a === 'gelu') return (x) => gelu(x);
  if (typeof a === 'function') return a;
  throw new Error(`${where}: activation should be 'relu', 'gelu' or a function, got ${String(a)}`);
}

function checkSizes(where: string, dModel: number, nhead: number, dimFeedforward: number): void {
  for (const [name, v] of [
    ['dModel', dModel],
    ['nhead', nhead],
    ['dimFeedforward', dimFeedforward],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${where}: ${name} must be a positive integer, got ${v}`);
  }
  if (dModel % nhead !== 0) throw new Error(`${where}: dModel ${dModel} must be divisible by nhead ${nhead}`);
}

/** Shared by both layers: the feed-forward block linear2(dropout(act(linear1(x)))). */
abstract class TransformerLayerBase extends Module {
  abstract linear1: Linear;
  abstract dropout: Dropout;
  abstract linear2: Linear;
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  protected readonly act: (x: Tensor) => Tensor;

  constructor(
    where: string,
    readonly dModel: number,
    readonly nhead: number,
    opts: TransformerLayerOptions,
  ) {
    super();
    checkSizes(where, dModel, nhead, opts.dimFeedforward ?? 2048);
    this.normFirst = opts.normFirst ?? false;
    this.batchFirst = opts.batchFirst ?? false;
    this.act = resolveActivation(where, opts.activation);
  }

  /** The feed-forward block (each Linear is one GEMM over all positions: linear flattens leading dims). */
  protected ff(x: Tensor): Tensor {
    return this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x))));
  }
}

export interface TransformerEncoderLayerForwardOptions {
  /** [L, L] or [N·nhead, L, L]: boolean true = not allowed to attend, or float added to the scores. */
  srcMask?: Tensor | null;
  /** [N, L]: true = padding, ignored as a key. */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (a hint when srcMask is given; the mask is made when not). */
  isCausal?: boolean;
}

/**
 * nn.TransformerEncoderLayer: self-attention then a feed-forward block, each with a residual
 * connection and LayerNorm (after the sum by default, before the block with normFirst).
 * @example const layer = new TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true })
 */
export class TransformerEncoderLayer extends TransformerLayerBase {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super('TransformerEncoderLayer', dModel, nhead, opts);
    const ff = opts.dimFeedforward ?? 2048,
      p = opts.dropout ?? 0.1,
      bias = opts.bias ?? true,
      dtype = opts.dtype;
    const eps = opts.layerNormEps ?? 1e-5;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: p, bias, batchFirst: this.batchFirst, dtype });
    this.linear1 = new Linear(dModel, ff, { bias, dtype });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { bias, dtype });
    this.norm1 = new LayerNorm(dModel, { eps, bias, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, bias, dtype });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
  }

  /** src [L, N, E] (batchFirst [N, L, E]; unbatched [L, E]) → same shape. */
  forward(src: Tensor, opts: TransformerEncoderLayerForwardOptions = {}): Tensor {
    if (src.shape[src.ndim - 1] !== this.dModel) {
      throw new Error(`TransformerEncoderLayer: src ${fmtShape(src.shape)} must have dModel ${this.dModel} features in its last dim`);
    }
    const sa = (x: Tensor) =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, {
          attnMask: opts.srcMask,
          keyPaddingMask: opts.srcKeyPaddingMask,
          isCausal: opts.isCausal,
          needWeights: false,
        })[0],
      );
    const ff = (x: Tensor) => this.dropout2.forward(this.ff(x));
    let x = src;
    if (this.normFirst) {
      x = add(x, sa(this.norm1.forward(x)));
      x = add(x, ff(this.norm2.forward(x)));
    } else {
      x = this.norm1.forward(add(x, sa(x)));
      x = this.norm2.forward(add(x, ff(x)));
    }
    return x;
  }
}

export interface TransformerDecoderLayerForwardOptions {
  /** Self-attention mask [T, T] or [N·nhead, T, T] (boolean true = not allowed, or additive float). */
  tgtMask?: Tensor | null;
  /** Cross-attention mask [T, S] or [N·nhead, T, S]. */
  memoryMask?: Tensor | null;
  /** [N, T]: true = padding in the target. */
  tgtKeyPaddingMask?: Tensor | null;
  /** [N, S]: true = padding in the memory. */
  memoryKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (a hint when tgtMask is given; the mask is made when not). */
  tgtIsCausal?: boolean;
  /** Causal cross-attention (the same). */
  memoryIsCausal?: boolean;
}

/**
 * nn.TransformerDecoderLayer: self-attention over the target, cross-attention to the memory (the
 * encoder's output) and a feed-forward block, each with a residual connection and LayerNorm.
 * @example const layer = new TransformerDecoderLayer(64, 4, { batchFirst: true })
 */
export class TransformerDecoderLayer extends TransformerLayerBase {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super('TransformerDecoderLayer', dModel, nhead, opts);
    const ff = opts.dimFeedforward ?? 2048,
      p = opts.dropout ?? 0.1,
      bias = opts.bias ?? true,
      dtype = opts.dtype;
    const eps = opts.layerNormEps ?? 1e-5;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: p, bias, batchFirst: this.batchFirst, dtype });
    this.multihead_attn = new MultiheadAttention(dModel, nhead, { dropout: p, bias, batchFirst: this.batchFirst, dtype });
    this.linear1 = new Linear(dModel, ff, { bias, dtype });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { bias, dtype });
    this.norm1 = new LayerNorm(dModel, { eps, bias, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, bias, dtype });
    this.norm3 = new LayerNorm(dModel, { eps, bias, dtype });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.dropout3 = new Dropout(p);
  }

  /** tgt [T, N, E], memory [S, N, E] (batchFirst [N, T, E], [N, S, E]) → like tgt. */
  forward(tgt: Tensor, memory: Tensor, opts: TransformerDecoderLayerForwardOptions = {}): Tensor {
    for (const [name, t] of [
      ['tgt', tgt],
      ['memory', memory],
    ] as const) {
      if (t.shape[t.ndim - 1] !== this.dModel) {
        throw new Error(`TransformerDecoderLayer: ${name} ${fmtShape(t.shape)} must have dModel ${this.dModel} features in its last dim`);
      }
    }
    const sa = (x: Tensor) =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, {
          attnMask: opts.tgtMask,
          keyPaddingMask: opts.tgtKeyPaddingMask,
          isCausal: opts.tgtIsCausal,
          needWeights: false,
        })[0],
      );
    const ca = (x: Tensor) =>
      this.dropout2.forward(
        this.multihead_attn.forward(x, memory, memory, {
          attnMask: opts.memoryMask,
          keyPaddingMask: opts.memoryKeyPaddingMask,
          isCausal: opts.memoryIsCausal,
          needWeights: false,
        })[0],
      );
    const ff = (x: Tensor) => this.dropout3.forward(this.ff(x));
    let x = tgt;
    if (this.normFirst) {
      x = add(x, sa(this.norm1.forward(x)));
      x = add(x, ca(this.norm2.forward(x)));
      x = add(x, ff(this.norm3.forward(x)));
    } else {
      x = this.norm1.forward(add(x, sa(x)));
      x = this.norm2.forward(add(x, ca(x)));
      x = this.norm3.forward(add(x, ff(x)));
    }
    return x;
  }
}

// ---------------------------------------------------------------------------------------------
// Stacks

/**
 * A deep copy of a module, as Python's copy.deepcopy: parameters and buffers are copied to new
 * storage with the same values (so each copy trains on its own), sub-modules are copied
 * recursively, other fields (numbers, functions, options) are shared. A parameter shared inside
 * the module stays shared inside the copy.
 */
export function cloneModule<T extends Module>(m: T): T {
  return noGrad(() => copyValue(m, new Map())) as T;
}

function copyValue(v: unknown, memo: Map<unknown, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (memo.has(v)) return memo.get(v);
  let c: unknown;
  if (v instanceof Parameter) {
    const data = clone(v);
    const p = new Parameter(data, v.requiresGrad);
    data.dispose(); // the parameter holds its own reference to the storage
    p.name = v.name;
    c = p;
  } else if (v instanceof Tensor) {
    const t = clone(v);
    if (v.kept) t.keep();
    c = t;
  } else if (v instanceof Module) {
    const o = Object.create(Object.getPrototypeOf(v)) as Record<string, unknown>;
    memo.set(v, o);
    for (const [k, x] of Object.entries(v)) o[k] = copyValue(x, memo);
    return o;
  } else if (Array.isArray(v)) {
    const a: unknown[] = [];
    memo.set(v, a);
    for (const x of v) a.push(copyValue(x, memo));
    return a;
  } else if (v instanceof Set) {
    c = new Set([...v].map((x) => copyValue(x, memo)));
  } else if (v instanceof Map) {
    c = new Map([...v].map(([k, x]) => [k, copyValue(x, memo)]));
  } else if (Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, unknown> = {};
    memo.set(v, o);
    for (const [k, x] of Object.entries(v)) o[k] = copyValue(x, memo);
    return o;
  } else {
    c = v; // class instances that are not modules or tensors (generators, backends): shared
  }
  memo.set(v, c);
  return c;
}

function checkNumLayers(where: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: numLayers must be a positive integer, got ${n}`);
}

export interface TransformerEncoderForwardOptions {
  /** Attention mask for every layer ([L, L] or [N·nhead, L, L]); PyTorch's `mask`. */
  mask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
  isCausal?: boolean;
}

/**
 * nn.TransformerEncoder: numLayers deep copies of encoderLayer (`layers.0`, `layers.1`, ...; each
 * starts from the layer's values and trains on its own, as PyTorch's _get_clones), then an
 * optional final norm. The layer passed in is not itself part of the stack.
 * @example const enc = new TransformerEncoder(new TransformerEncoderLayer(64, 4, { batchFirst: true }), 2)
 */
export class TransformerEncoder extends Module {
  layers: ModuleList;
  norm: Module | null;

  constructor(
    encoderLayer: Module,
    readonly numLayers: number,
    opts: { norm?: Module | null } = {},
  ) {
    super();
    checkNumLayers('TransformerEncoder', numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => cloneModule(encoderLayer)));
    this.norm = opts.norm ?? null;
  }

  forward(src: Tensor, opts: TransformerEncoderForwardOptions & { srcMask?: Tensor | null } = {}): Tensor {
    let x = src;
    const layerOpts = { srcMask: opts.mask ?? opts.srcMask, srcKeyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal };
    for (const layer of this.layers) x = layer.forward(x, layerOpts);
    return this.norm ? this.norm.forward(x) : x;
  }
}

/**
 * nn.TransformerDecoder: numLayers deep copies of decoderLayer (`layers.0`, ...), then an optional norm.
 * @example const dec = new TransformerDecoder(new TransformerDecoderLayer(64, 4), 2)
 */
export class TransformerDecoder extends Module {
  layers: ModuleList;
  norm: Module | null;

  constructor(
    decoderLayer: Module,
    readonly numLayers: number,
    opts: { norm?: Module | null } = {},
  ) {
    super();
    checkNumLayers('TransformerDecoder', numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => cloneModule(decoderLayer)));
    this.norm = opts.norm ?? null;
  }

  forward(tgt: Tensor, memory: Tensor, opts: TransformerDecoderLayerForwardOptions = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers) x = layer.forward(x, memory, opts);
    return this.norm ? this.norm.forward(x) : x;
  }
}

/**
 * A float [n, n] mask with −∞ above the diagonal and 0 elsewhere: position i attends to 0..i
 * (nn.Transformer.generate_square_subsequent_mask).
 * @example enc.forward(x, { mask: generateSquareSubsequentMask(T), isCausal: true })
 */
export function generateSquareSubsequentMask(n: number, opts: { dtype?: DType; device?: string } = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new Error(`generateSquareSubsequentMask: size must be a non-negative integer, got ${n}`);
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) data[i * n + j] = -Infinity;
  return fromTypedArray(data, [n, n], opts.dtype ?? 'float32', { device: opts.device });
}
