// The backend interface (storage + one kernel per primitive), the primitive catalogue, and the registry.

import type { DType, TypedArray } from '../tensor/dtype.js';
import { BINARY_REFERENCE, COMPARISONS, UNARY_REFERENCE } from './primitives.js';

/** A buffer owned by a backend. Tensors are strided views over one of these. */
export interface Storage {
  readonly backend: Backend;
  readonly dtype: DType;
  readonly size: number;
  /** Backend-private handle (a typed array for js, an offset in the Wasm heap, a GPU buffer). */
  handle: unknown;
  /** Tensors and graph nodes that still use this buffer; freed when it reaches 0. */
  refs: number;
  readonly id: number;
}

/** What a kernel sees of an input: a strided view of a storage. */
export interface View {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

/** The elementwise primitives, named by their definitions in ./primitives.ts (the one list of them). */
export type UnaryPrim = keyof typeof UNARY_REFERENCE;
export type BinaryPrim = keyof typeof BINARY_REFERENCE;
/** Their names in catalogue order, the order of the wasm op codes. */
export const UNARY_PRIMS = Object.keys(UNARY_REFERENCE) as UnaryPrim[];
export const BINARY_PRIMS = Object.keys(BINARY_REFERENCE) as BinaryPrim[];
/** A binary primitive with a bool output. */
export const isComparison = (op: BinaryPrim): boolean => (COMPARISONS as readonly BinaryPrim[]).includes(op);

export type ReducePrim = 'sum' | 'max' | 'argmax';

/**
 * Parameters of every primitive (the elementwise ones take none). Inputs arrive as views whose
 * shapes the op layer has already made compatible (broadcast inputs are expanded to the output
 * shape with stride 0).
 */
export interface PrimParams extends Record<UnaryPrim | BinaryPrim, {}> {
  /** inputs: cond (bool), a, b, all of the output shape */
  where: {};
  /** reduce over `axes`; the output keeps them as size 1 */
  sum: { axes: number[] };
  max: { axes: number[] };
  argmax: { axis: number };
  cast: { dtype: DType };
  /** strided copy into a fresh contiguous buffer */
  copy: {};
  /** [...B, M, K] @ [...B, K, N] with equal batch dims */
  matmul: {};
  /** torch.gather: out[..i..] = x[..index[..i..] at axis..]; inputs: x, index (int32) */
  gather: { axis: number };
  /** zeros(shape).scatter_add_(axis, index, src); inputs: index (int32), src */
  scatterAdd: { axis: number; shape: number[] };
  /** join inputs along an axis */
  concat: { axis: number };
  /** constant padding; [before, after] per dim, both >= 0 */
  pad: { pads: [number, number][]; value: number };
  /**
   * im2col: x [N, C, H, W] → patches [N, Ho, Wo, C, kh, kw]; positions outside x (padding) read
   * `value`. pads are [top, bottom, left, right].
   */
  unfold: { kernel: [number, number]; stride: [number, number]; dilation: [number, number]; pads: [number, number, number, number]; value: number };
  /** col2im, unfold's adjoint: patches [N, Ho, Wo, C, kh, kw] summed back into [N, C, H, W] (`shape`). */
  fold: { shape: [number, number, number, number]; kernel: [number, number]; stride: [number, number]; dilation: [number, number]; pads: [number, number, number, number] };
  /** uniform [0, 1) from Philox4x32-10 keyed by `key` at counter `counter` (one value per index) */
  random: { key: [number, number]; counter: number; shape: number[]; dtype: DType };
}

/** The name of a primitive: the operations every backend implements (see {@link PrimParams}). */
export type Prim = keyof PrimParams;

/** A kernel writes the primitive's result into `out` (contiguous, allocated by dispatch). */
export type Kernel<P extends Prim> = (inputs: View[], params: PrimParams[P], out: Storage, outShape: readonly number[]) => void;

/**
 * The kernels of a family of primitives (UNARY_PRIMS, BINARY_PRIMS) from one factory, so that a new
 * elementwise primitive needs no kernel-table edit: the factory's own per-op table (typed over the
 * family) is where tsc asks for it.
 */
export function kernelsFor<P extends Prim>(prims: readonly P[], make: (prim: P) => Kernel<P>): { [Q in P]: Kernel<Q> } {
  return Object.fromEntries(prims.map((p) => [p, make(p)])) as unknown as { [Q in P]: Kernel<Q> };
}

/** One kernel per primitive: what a backend must provide to run every op. */
export type KernelTable = { [P in Prim]: Kernel<P> };

/** Hyperparameters of one fused Adam step (see src/optim/adam.ts for the composed rule). */
export interface AdamStepArgs {
  beta1: number;
  beta2: number;
  stepSize: number;
  bc2Sqrt: number;
  eps: number;
  weightDecay: number;
  /** 0: no weight decay, 1: L2 added to the gradient (Adam), 2: decoupled p·(1 − lr·wd) (AdamW) */
  mode: 0 | 1 | 2;
  decoupledScale: number;
}

/**
 * Optional fused kernels: each has a composed default elsewhere and a test comparing the two.
 * A fused kernel returns false when it does not handle the case (dtype, layout): callers then
 * take the composed path.
 */
export interface FusedKernels {
  /** softmax (log false) or log-softmax (log true) over the last axis of x into out (contiguous). */
  softmax?(x: View, out: Storage, log: boolean): boolean;
  /** One Adam step: writes the new parameter and moments into fresh storages pOut, mOut, vOut. */
  adam?(p: View, g: View, m: View, v: View, pOut: Storage, mOut: Storage, vOut: Storage, h: AdamStepArgs): boolean;
  /**
   * Layer norm of the rows of x [R, n] (nn/layers/norm.ts): out [R, n] = (x − mean)·rstd·w + b,
   * and each row's mean and rstd = 1/√(var + eps) [R] for the backward. w, b [n] are optional.
   */
  layerNorm?(x: View, w: View | null, b: View | null, eps: number, out: Storage, mean: Storage, rstd: Storage): boolean;
  /** Its backward from the saved statistics: dx [R, n], and dw, db [n] (column sums) where wanted. */
  layerNormBackward?(g: View, x: View, w: View | null, mean: View, rstd: View, dx: Storage, dw: Storage | null, db: Storage | null): boolean;
  /**
   * Cross-entropy of logits x [N, C] against int32 classes t [N] (nn/functional.ts): per-row loss
   * logsumexp(x) − x[t] into loss [N] (0 where t = ignoreIndex), the logsumexp into lse [N].
   */
  crossEntropy?(x: View, t: View, ignoreIndex: number, loss: Storage, lse: Storage): boolean;
  /** Its backward: dx [N, C] = g[r]·(e^(x − lse[r]) − onehot(t[r])), 0 on ignored rows. */
  crossEntropyBackward?(x: View, t: View, lse: View, g: View, ignoreIndex: number, dx: Storage): boolean;
  /**
   * softmax(q·kᵀ·scale [+ causal mask])·v for q [...B, L, E], k [...B, S, E], v [...B, S, Ev] with
   * equal batch dims (nn/layers/attention.ts): out [...B, L, Ev] and each row's logsumexp lse [B, L]
   * (contiguous). `out` is a view that the kernel writes through its strides: contiguous, or e.g.
   * the heads of a [B, L, H·Ev] buffer; a backend returns false for a layout it does not write.
   */
  attention?(q: View, k: View, v: View, scale: number, causal: boolean, out: View, lse: Storage): boolean;
  /** Its backward from the saved output and logsumexp: dq, dk, dv shaped as q, k, v, written through their views as `out`. */
  attentionBackward?(q: View, k: View, v: View, out: View, lse: View, g: View, scale: number, causal: boolean, dq: View, dk: View, dv: View): boolean;
  /**
   * One decoding step of attention over slot caches (ops/slot-attention.ts): for each row b of qkv
   * [B, 3C] (q | k | v, nHead heads each), its key and value are written into row rows[b] of
   * cache [R, 2C] (k | v), then its query attends to cache rows starts[b] … rows[b]; out [B, C]
   * (contiguous). In place on cache; the composed definition's bits.
   */
  slotAttention?(qkv: View, cache: View, rows: Int32Array, starts: Int32Array, nHead: number, scale: number, out: Storage): boolean;
  /** GELU of x into out (contiguous): exact x·Φ(x), or GPT-2's tanh approximation (ops/activation.ts). */
  gelu?(x: View, out: Storage, approximate: 'none' | 'tanh'): boolean;
  /** Its backward: dx = g·GELU'(x), into dx (contiguous, x's shape). */
  geluBackward?(g: View, x: View, dx: Storage, approximate: 'none' | 'tanh'): boolean;
}

/**
 * Where tensors live and primitives run: storage allocation, reads and writes, one kernel per
 * primitive and optional fused kernels. Built in: 'js' (reference), 'wasm' (default) and 'webgpu';
 * add one with {@link registerBackend}.
 */
export interface Backend {
  readonly name: string;
  allocate(size: number, dtype: DType): Storage;
  free(storage: Storage): void;
  write(storage: Storage, data: TypedArray): void;
  read(storage: Storage): Promise<TypedArray>;
  /** Present where a synchronous read is cheap (CPU backends). */
  readSync?(storage: Storage): TypedArray;
  readonly kernels: KernelTable;
  readonly fused?: FusedKernels;
  /**
   * In place, outside autograd: the elements of view `src` written into view `dst` of an existing
   * storage, in row-major order of their equal shape (same dtype; dst's elements distinct, not
   * overlapping src). What ops/inplace.ts's copy_ runs: the generation engine's key/value caches
   * take each new position this way. A backend without it cannot run copy_ (nor serve).
   */
  copyInto?(src: View, dst: View): void;
  /** Number of storages allocated and not yet freed (for leak tests). */
  liveBuffers(): number;
  /** What this backend runs on and with (variant, features, threads, memory), for `nabla info`. */
  info?(): Record<string, unknown>;
  /** Resolves when the backend is fully up (the wasm backend's worker threads). */
  ready?(): Promise<unknown>;
  /** The dtypes it can hold, when not all of them (webgpu has no float64). */
  readonly dtypes?: readonly DType[];
}

/** Whether `backend` can hold tensors of `dtype`. */
export function supportsDType(backend: Backend, dtype: DType): boolean {
  return !backend.dtypes || backend.dtypes.includes(dtype);
}

const registry = new Map<string, () => Backend | Promise<Backend>>();
const loaded = new Map<string, Backend>();
let current: Backend | null = null;

/** Register a backend factory under a name ('js', 'wasm', 'webgpu'). Heavy ones use a dynamic import. */
export function registerBackend(name: string, factory: () => Backend | Promise<Backend>): void {
  registry.set(name, factory);
}

/** The names of the registered backends, loaded or not. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

const loading = new Map<string, Promise<Backend>>();

/** Load a backend (once) without making it the current one: `t.to(name)` and `device: name` then work. */
export async function loadBackend(name: string): Promise<Backend> {
  let b = loaded.get(name);
  if (!b) {
    const factory = registry.get(name);
    if (!factory) throw new Error(`unknown backend '${name}', registered: ${listBackends().join(', ')}`);
    let p = loading.get(name);
    if (!p) {
      p = Promise.resolve(factory());
      loading.set(name, p);
      p.then(
        () => loading.delete(name),
        () => loading.delete(name),
      );
    }
    b = await p;
    loaded.set(name, b);
  }
  await b.ready?.();
  return b;
}

/** Choose the backend for new tensors. Async because heavy backends load lazily. */
export async function setBackend(name: string): Promise<Backend> {
  const b = await loadBackend(name);
  current = b;
  return b;
}

/** Backends tried, in order, for the default: the first that loads synchronously wins. */
const DEFAULT_ORDER = ['wasm', 'js'];
/** Why a preferred backend was passed over for the default (shown by `nabla info`). */
export const defaultSkipped: Record<string, string> = {};

/**
 * The backend new tensors are created on. On first use without setBackend(), the fastest that
 * loads here: `wasm`, else `js` (the reason is kept in defaultSkipped).
 */
export function getBackend(): Backend {
  if (!current) {
    for (const name of DEFAULT_ORDER) {
      const factory = registry.get(name);
      if (!factory) {
        defaultSkipped[name] = 'not registered';
        continue;
      }
      try {
        const b = loaded.get(name) ?? factory();
        if (b instanceof Promise) {
          defaultSkipped[name] = 'loads only asynchronously (await setBackend)';
          continue;
        }
        loaded.set(name, b);
        current = b;
        break;
      } catch (e) {
        defaultSkipped[name] = (e as Error).message;
      }
    }
    if (!current) throw new Error(`getBackend: no backend could load: ${JSON.stringify(defaultSkipped)}`);
  }
  return current;
}

export function getBackendByName(name: string): Backend | undefined {
  return loaded.get(name);
}

/** A backend by name, loading it now if its factory is synchronous (tensor({ device }), t.to(name)). */
export function requireBackend(name: string): Backend {
  const have = loaded.get(name);
  if (have) return have;
  const factory = registry.get(name);
  if (!factory) throw new Error(`unknown backend '${name}', registered: ${listBackends().join(', ')}`);
  const b = factory();
  if (b instanceof Promise) {
    // Keep the load going for a later loadBackend() rather than starting a second one.
    loading.set(name, b);
    b.then(
      () => loading.delete(name),
      () => loading.delete(name),
    );
    throw new Error(`backend '${name}' loads asynchronously; await loadBackend('${name}') or setBackend('${name}') first`);
  }
  loaded.set(name, b);
  return b;
}
