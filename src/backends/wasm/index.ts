// The `wasm` backend: tensors live in one WebAssembly memory; float32 work runs in SIMD kernels
// compiled from wasm/assembly (matmul on a thread pool), and every other case (float64, int32
// gathers, unusual strides) runs the js backend's kernels over views of the same memory, so each
// primitive has a kernel and results match `js` within float32 rounding.
//
// Variants, best first: relaxed SIMD + threads, SIMD + threads, relaxed SIMD, SIMD. The first
// that validates and instantiates here is used (on Node 20-21 after turning on relaxed SIMD's V8
// flag); `info()` says which and why others were skipped. Threads: every core, at most 16.

import type { Backend, FusedKernels, BinaryPrim, Kernel, KernelTable, Prim, Storage, UnaryPrim, View } from '../backend.js';
import { BINARY_PRIMS, isComparison, kernelsFor, registerBackend, requireBackend, UNARY_PRIMS } from '../backend.js';
import { createJsBackend } from '../js/index.js';
import { stridedOffsets } from '../js/strided.js';
import { copyIntoKernel } from '../js/inplace.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { shapesEqual, sizeOf } from '../../tensor/shape.js';
import { canShareMemory, hardwareThreads } from '../../platform/workers.js';
import { enableRelaxedSimd } from '../../platform/relaxed-simd.js';
import { Heap, type HeapBuffer } from './heap.js';
import { CTRL_BYTES, DEFAULT_MAX_THREADS, ThreadPool } from './pool.js';
import { BINARY_CODE, DTYPE_CODE, REDUCE_CODE, TASK_ADAM, TASK_ATTENTION, TASK_ATTENTION_BACKWARD, TASK_BINARY, TASK_GELU, TASK_GEMM, TASK_GEMV, UNARY_CODE } from './codes.js';
import * as binaries from './binaries.js';

type Variant = 'relaxedThreads' | 'simdThreads' | 'relaxed' | 'simd';
const VARIANTS: Variant[] = ['relaxedThreads', 'simdThreads', 'relaxed', 'simd'];

interface Kernels {
  heapBase(): number;
  matmulScratchBytes(): number;
  unary_f32(op: number, x: number, out: number, n: number): void;
  binary_f32(op: number, a: number, aO: number, aI: number, b: number, bO: number, bI: number, out: number, outer: number, inner: number): void;
  where_f32(c: number, cO: number, cI: number, a: number, aO: number, aI: number, b: number, bO: number, bI: number, out: number, outer: number, inner: number): void;
  cast(from: number, to: number, x: number, out: number, n: number): void;
  copy4(x: number, out: number, d0: number, d1: number, d2: number, d3: number, s0: number, s1: number, s2: number, s3: number): void;
  copy4to(x: number, out: number, d0: number, d1: number, d2: number, d3: number, s0: number, s1: number, s2: number, s3: number, t0: number, t1: number, t2: number, t3: number): void;
  fill4(out: number, n: number, bits: number): void;
  reduce_f32(op: number, x: number, out: number, outer: number, r: number, inner: number): void;
  philox_uniform_f32(k0: number, k1: number, counter: number, out: number, n: number): void;
  unfold_f32(x: number, out: number, geo: number, value: number): void;
  fold_f32(g: number, out: number, geo: number): void;
  softmax_rows_f32(x: number, out: number, rows: number, n: number, log: number): void;
  adam_f32(
    p: number,
    g: number,
    m: number,
    v: number,
    pOut: number,
    mOut: number,
    vOut: number,
    n: number,
    beta1: number,
    beta2: number,
    stepSize: number,
    bc2Sqrt: number,
    eps: number,
    wd: number,
    decoupledScale: number,
    mode: number,
  ): void;
  layer_norm_f32(x: number, xRs: number, w: number, b: number, out: number, mean: number, rstd: number, R: number, n: number, eps: number): void;
  layer_norm_backward_f32(g: number, gRs: number, x: number, xRs: number, w: number, mean: number, rstd: number, dx: number, dw: number, db: number, R: number, n: number): void;
  cross_entropy_f32(x: number, xRs: number, t: number, tS: number, loss: number, lse: number, N: number, C: number, ignore: number): void;
  cross_entropy_backward_f32(x: number, xRs: number, t: number, tS: number, lse: number, g: number, gS: number, dx: number, N: number, C: number, ignore: number): void;
  attentionScratchBytes(L: number, S: number, E: number, EV: number): number;
  slot_attention_f32(qkv: number, qRs: number, cache: number, rows: number, starts: number, B: number, H: number, D: number, scale: number, out: number, scratch: number): void;
  gelu_f32(x: number, out: number, n: number, approx: number): void;
  gelu_backward_f32(g: number, x: number, dx: number, n: number, approx: number): void;
  runTask?(ctrl: number, tid: number): number;
}

const ELEM_BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** The name tensors report as their device (default 'wasm'); register the backend under it. */
  name?: string;
  /** Threads to use, the calling one included (default: the machine's cores, at most 16). */
  threads?: number;
  /** Restrict the variants tried (tests, benchmarks): e.g. ['simd'] for one thread without relaxed SIMD. */
  variants?: Variant[];
}

/**
 * The `wasm` backend: a {@link Backend} with the WebAssembly variant in use (relaxed SIMD and/or
 * threads), its thread count, heap statistics (`memoryStats`) and `close()` to stop the workers.
 */
export interface WasmBackend extends Backend {
  readonly variant: Variant;
  setThreads(n: number): void;
  /** Threads in use now (workers join as they start). */
  readonly threads: number;
  /** Resolves when the threads asked for are running. */
  ready(): Promise<number>;
  memoryStats(): { liveBuffers: number; liveBytes: number; heapBytes: number; highWater: number; freeBytes: number };
  /** Stop worker threads. */
  close(): void;
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

interface Loaded {
  variant: Variant;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  exports: Kernels;
  maxPages: number;
  skipped: Record<string, string>;
}

function instantiate(allowed: Variant[]): Loaded {
  const skipped: Record<string, string> = {};
  for (const variant of allowed) {
    const threaded = variant.endsWith('Threads');
    if (threaded && !canShareMemory()) {
      skipped[variant] = 'no shared memory or workers here';
      continue;
    }
    // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the four variants are one generated module, all of it used
    const bytes = decodeBase64(binaries[variant]);
    // Node 20-21 compile relaxed SIMD only behind a V8 flag: set it and check again.
    if (!WebAssembly.validate(bytes) && !(variant.startsWith('relaxed') && enableRelaxedSimd() && WebAssembly.validate(bytes))) {
      skipped[variant] = variant.startsWith('relaxed') ? 'relaxed SIMD not supported by this runtime' : 'SIMD not supported by this runtime';
      continue;
    }
    try {
      const module = new WebAssembly.Module(bytes);
      // A shared memory reserves its maximum up front; settle for less where that fails.
      let memory: WebAssembly.Memory | null = null;
      let maxPages = binaries.MAX_PAGES;
      for (;;) {
        try {
          memory = new WebAssembly.Memory({ initial: 32, maximum: maxPages, shared: threaded } as WebAssembly.MemoryDescriptor);
        } catch {
          /* try smaller */
        }
        if (memory || maxPages <= 4096) break;
        maxPages /= 4;
      }
      if (!memory) {
        skipped[variant] = 'could not reserve memory';
        continue;
      }
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      return { variant, module, memory, exports: instance.exports as unknown as Kernels, maxPages, skipped };
    } catch (e) {
      skipped[variant] = (e as Error).message;
    }
  }
  throw new Error(
    `wasm: no variant loads here (${Object.entries(skipped)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')})`,
  );
}

/**
 * Collapse same-shaped views (already broadcast to outShape) into [batch, outer, inner] form: per
 * view a batch stride, an outer stride and an inner stride of 0 or 1 (a [B, C, H·W] + [1, C, 1]
 * bias add is three levels). Null when that is impossible (then js kernels run).
 */
export function twoLevel(views: readonly View[], outShape: readonly number[]): { batch: number; outer: number; inner: number; bs: number[]; os: number[]; is: number[] } | null {
  const dims: number[] = [];
  const strides: number[][] = views.map(() => []);
  outShape.forEach((d, k) => {
    if (d === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && views.every((v, i) => strides[i][last] === v.strides[k] * d)) {
      dims[last] *= d;
      views.forEach((v, i) => {
        strides[i][last] = v.strides[k];
      });
    } else {
      dims.push(d);
      views.forEach((v, i) => strides[i].push(v.strides[k]));
    }
  });
  if (dims.length > 3) return null;
  while (dims.length < 3) {
    dims.unshift(1);
    strides.forEach((s) => s.unshift(0));
  }
  const is = strides.map((s) => s[2]);
  if (is.some((x) => x !== 0 && x !== 1)) return null;
  return { batch: dims[0], outer: dims[1], inner: dims[2], bs: strides.map((s) => s[0]), os: strides.map((s) => s[1]), is };
}

/** Largest L·S of a fused attention: each thread keeps two L×S blocks of scores in scratch. */
const ATTENTION_MAX_SCORES = 1 << 20;

/** GEMM's K slice (wasm/assembly/matmul.ts KC): the few-row kernels sum in slices of it too. */
const GEMM_KC = 256;
/** Products with at most this many rows per matrix skip GEMM's packing (wasm/assembly/gemv.ts). */
const GEMV_MAX_ROWS = 4;
/** Below this many multiply-adds a few-row product runs on the calling thread alone. */
const GEMV_THREADED_MACS = 1 << 15;
/** Elementwise work (Adam, GELU, large binary ops) runs on the threads from this many elements on. */
const THREADED_MIN_ELEMENTS = 1 << 15;

/**
 * Which few-row kernel reads these strides (element strides of A's row and column, B's row and
 * column): 0 gemvN (B's rows contiguous), 1 gemvT (B = Wᵀ: its columns contiguous, A's rows
 * too), -1 neither (GEMM). Strides of a dimension of size 1 do not matter.
 */
function gemvLayout(aCs: number, bRs: number, bCs: number, N: number, K: number): number {
  const t = (bRs === 1 || K === 1) && (aCs === 1 || K === 1);
  if ((bCs === 1 || N === 1) && !(N === 1 && t)) return 0;
  return t ? 1 : -1;
}

/**
 * Make a WebAssembly backend: the best variant that instantiates here (relaxed SIMD + threads,
 * SIMD + threads, relaxed SIMD, SIMD), with float32 kernels from wasm/assembly and the js kernels
 * for
 * every other case. The default backend is one of these, registered as 'wasm'; tests and benchmarks
 * register restricted ones with `registerBackend(name, () => createWasmBackend({ name, ... }))`.
 */
export function createWasmBackend(opts: WasmBackendOptions = {}): WasmBackend {
  const { variant, module, memory, exports: K, maxPages, skipped } = instantiate(opts.variants ?? VARIANTS);
  const heap = new Heap(memory, K.heapBase(), maxPages);
  const js = createJsBackend().kernels;
  const threaded = variant.endsWith('Threads');
  const ctrl = heap.alloc(CTRL_BYTES).ptr;
  new Uint8Array(memory.buffer, ctrl, CTRL_BYTES).fill(0);
  const pool = new ThreadPool(threaded ? module : null, memory, K as Required<Kernels>, ctrl);
  let nextId = 1;
  let scratch = { ptr: 0, cls: 0, threads: 0 };
  const scratchBytes = K.matmulScratchBytes();

  const buf = (s: Storage): HeapBuffer => s.handle as HeapBuffer;
  /** Byte address of a view's first element. */
  const addr = (v: View): number => buf(v.storage).ptr + v.offset * ELEM_BYTES[v.dtype];
  const isContig = (v: View): boolean => {
    let expect = 1;
    for (let k = v.shape.length - 1; k >= 0; k--) {
      if (v.shape[k] !== 1 && v.strides[k] !== expect) return false;
      expect *= v.shape[k];
    }
    return true;
  };
  const f32 = (...vs: View[]) => vs.every((v) => v.dtype === 'float32');

  function withTemp<T>(bytes: number, fn: (ptr: number) => T): T {
    const { ptr, cls } = heap.alloc(bytes);
    try {
      return fn(ptr);
    } finally {
      heap.release(ptr, cls);
    }
  }

  /** The 14 window-geometry integers in a temporary heap block. */
  function withGeometry(values: number[], fn: (geo: number) => void): void {
    withTemp(values.length * 4, (geo) => {
      new Int32Array(memory.buffer, geo, values.length).set(values);
      fn(geo);
    });
  }

  const unary =
    (op: UnaryPrim): Kernel<UnaryPrim> =>
    (inputs, p, out, shape) => {
      const [x] = inputs;
      if (f32(x) && isContig(x)) return K.unary_f32(UNARY_CODE[op], addr(x), buf(out).ptr, out.size);
      js[op](inputs, p, out, shape);
    };

  const binary =
    (op: BinaryPrim): Kernel<BinaryPrim> =>
    (inputs, p, out, shape) => {
      const [a, b] = inputs;
      const t = f32(a, b) ? twoLevel(inputs, shape) : null;
      if (!t) return js[op](inputs, p, out, shape);
      const compare = isComparison(op);
      const outBytes = compare ? 1 : 4,
        step = t.outer * t.inner * outBytes;
      const pa = addr(a),
        pb = addr(b),
        po = buf(out).ptr;
      // Large arithmetic ops (residual and bias adds of a training step) on the threads.
      const threaded = !compare && pool.threads > 1 && t.outer * t.inner >= THREADED_MIN_ELEMENTS && (t.outer === 1 || t.outer >= 2 * pool.threads);
      for (let i = 0; i < t.batch; i++) {
        const args = [BINARY_CODE[op], pa + i * t.bs[0] * 4, t.os[0], t.is[0], pb + i * t.bs[1] * 4, t.os[1], t.is[1], po + i * step, t.outer, t.inner] as const;
        if (threaded) pool.run(TASK_BINARY, args, pool.threads);
        else K.binary_f32(...args);
      }
    };

  const reduce =
    (op: 'sum' | 'max'): Kernel<'sum' | 'max'> =>
    (inputs, p, out, shape) => {
      const [x] = inputs;
      const axes = [...p.axes].sort((a, b) => a - b);
      const consecutive = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
      if (!f32(x) || axes.length === 0) return js[op](inputs, p as never, out, shape);
      if (!isContig(x) || !consecutive) {
        // Move the reduced axes last in a contiguous copy (kept axes first, in order), then reduce rows.
        const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
        const order = [...kept, ...axes];
        const pShape = order.map((d) => x.shape[d]),
          pStrides = order.map((d) => x.strides[d]);
        const t = collapse2(pShape, pStrides, contiguousStridesOf(pShape));
        const r = sizeOf(axes.map((d) => x.shape[d]));
        if (!t || r === 0) return js[op](inputs, p as never, out, shape);
        withTemp(sizeOf(x.shape) * 4, (tmp) => {
          K.copy4to(addr(x), tmp, t.d[0], t.d[1], t.d[2], t.d[3], t.s[0], t.s[1], t.s[2], t.s[3], t.t[0], t.t[1], t.t[2], t.t[3]);
          K.reduce_f32(REDUCE_CODE[op], tmp, buf(out).ptr, out.size, r, 1);
        });
        return;
      }
      const outer = sizeOf(x.shape.slice(0, axes[0])),
        r = sizeOf(x.shape.slice(axes[0], axes[axes.length - 1] + 1));
      const inner = sizeOf(x.shape.slice(axes[axes.length - 1] + 1));
      if (r === 0) return js[op](inputs, p as never, out, shape);
      K.reduce_f32(REDUCE_CODE[op], addr(x), buf(out).ptr, outer, r, inner);
    };

  const matmul: Kernel<'matmul'> = (inputs, p, out, outShape) => {
    const [a, b] = inputs;
    if (!f32(a, b)) return js.matmul(inputs, p, out, outShape);
    const nd = outShape.length;
    const M = outShape[nd - 2],
      N = outShape[nd - 1],
      K_ = a.shape[nd - 1];
    const batchShape = outShape.slice(0, nd - 2);
    const batch = sizeOf(batchShape);
    if (batch === 0 || M === 0 || N === 0) return;
    const aRs = a.strides[nd - 2],
      aCs = a.strides[nd - 1],
      bRs = b.strides[nd - 2],
      bCs = b.strides[nd - 1];
    // A few rows (token-by-token generation): read B where it lies instead of packing it.
    const layout = M <= GEMV_MAX_ROWS ? gemvLayout(aCs, bRs, bCs, N, K_) : -1;
    let threads = pool.threads;
    if (layout >= 0) {
      if (batch * M * N * K_ < GEMV_THREADED_MACS) threads = 1;
    } else if (scratch.threads < threads) {
      if (scratch.ptr) heap.release(scratch.ptr, scratch.cls);
      scratch = { ...heap.alloc(scratchBytes * threads), threads };
    }
    const aOff = stridedOffsets(batchShape, a.strides.slice(0, nd - 2), a.offset);
    const bOff = stridedOffsets(batchShape, b.strides.slice(0, nd - 2), b.offset);
    withTemp(batch * 8, (offs) => {
      const o = new Int32Array(memory.buffer, offs, batch * 2);
      const aBase = buf(a.storage).ptr,
        bBase = buf(b.storage).ptr;
      for (let i = 0; i < batch; i++) {
        o[i] = aBase + aOff[i] * 4;
        o[batch + i] = bBase + bOff[i] * 4;
      }
      if (layout >= 0) {
        // gemvN forms the sums of K slices after the first (KC = 256 deep) in scratch shaped as C.
        const run = (t: number) => pool.run(TASK_GEMV, [layout, aRs, aCs, t, bRs, bCs, buf(out).ptr, M, N, K_, batch, offs, offs + batch * 4], threads);
        if (layout === 0 && K_ > GEMM_KC) withTemp(out.size * 4, run);
        else run(0);
      } else {
        pool.run(TASK_GEMM, [0, aRs, aCs, 0, bRs, bCs, buf(out).ptr, M, N, K_, batch, offs, offs + batch * 4, scratch.ptr, scratchBytes], threads);
      }
    });
  };

  const kernels: KernelTable = {
    ...kernelsFor(UNARY_PRIMS, unary),
    ...kernelsFor(BINARY_PRIMS, binary),
    where: (inputs, p, out, shape) => {
      const [c, a, b] = inputs;
      const t = c.dtype === 'bool' && f32(a, b) ? twoLevel(inputs, shape) : null;
      if (!t) return js.where(inputs, p, out, shape);
      const pc = addr(c),
        pa = addr(a),
        pb = addr(b),
        po = buf(out).ptr,
        step = t.outer * t.inner * 4;
      for (let i = 0; i < t.batch; i++) {
        K.where_f32(pc + i * t.bs[0], t.os[0], t.is[0], pa + i * t.bs[1] * 4, t.os[1], t.is[1], pb + i * t.bs[2] * 4, t.os[2], t.is[2], po + i * step, t.outer, t.inner);
      }
    },
    sum: reduce('sum'),
    max: reduce('max'),
    argmax: js.argmax,
    cast: (inputs, p, out, shape) => {
      const [x] = inputs;
      const from = DTYPE_CODE[x.dtype],
        to = DTYPE_CODE[p.dtype];
      if (from === undefined || to === undefined || !isContig(x)) return js.cast(inputs, p, out, shape);
      K.cast(from, to, addr(x), buf(out).ptr, out.size);
    },
    copy: (inputs, p, out, shape) => {
      const [x] = inputs;
      if (ELEM_BYTES[x.dtype] !== 4) return js.copy(inputs, p, out, shape);
      const t = collapse(x.shape, x.strides);
      if (!t) return js.copy(inputs, p, out, shape);
      K.copy4(addr(x), buf(out).ptr, t.d[0], t.d[1], t.d[2], t.d[3], t.s[0], t.s[1], t.s[2], t.s[3]);
    },
    matmul,
    // Row gathers (embeddings, batches picked from a dataset) move whole runs in the js kernel,
    // which works on the wasm heap as it is.
    gather: js.gather,
    scatterAdd: js.scatterAdd,
    concat: (inputs, p, out, shape) => {
      if (ELEM_BYTES[out.dtype] !== 4) return js.concat(inputs, p, out, shape);
      const ostr = contiguousStridesOf(shape);
      const plans = inputs.map((x) => collapse2(x.shape, x.strides, ostr));
      if (plans.some((t) => !t)) return js.concat(inputs, p, out, shape);
      let pos = 0;
      inputs.forEach((x, i) => {
        const t = plans[i]!;
        K.copy4to(addr(x), buf(out).ptr + pos * ostr[p.axis] * 4, t.d[0], t.d[1], t.d[2], t.d[3], t.s[0], t.s[1], t.s[2], t.s[3], t.t[0], t.t[1], t.t[2], t.t[3]);
        pos += x.shape[p.axis];
      });
    },
    pad: (inputs, p, out, shape) => {
      const [x] = inputs;
      if (ELEM_BYTES[out.dtype] !== 4) return js.pad(inputs, p, out, shape);
      const ostr = contiguousStridesOf(shape);
      const t = collapse2(x.shape, x.strides, ostr);
      if (!t) return js.pad(inputs, p, out, shape);
      const bits = new Uint32Array((out.dtype === 'float32' ? new Float32Array([p.value]) : new Int32Array([p.value])).buffer)[0];
      K.fill4(buf(out).ptr, out.size, bits);
      const start = p.pads.reduce((s, [before], d) => s + before * ostr[d], 0);
      K.copy4to(addr(x), buf(out).ptr + start * 4, t.d[0], t.d[1], t.d[2], t.d[3], t.s[0], t.s[1], t.s[2], t.s[3], t.t[0], t.t[1], t.t[2], t.t[3]);
    },
    unfold: (inputs, p, out, shape) => {
      const [x] = inputs;
      if (!f32(x) || !isContig(x)) return js.unfold(inputs, p, out, shape);
      const [N, C, H, W] = x.shape,
        [, Ho, Wo] = shape;
      withGeometry([N, C, H, W, Ho, Wo, ...p.kernel, ...p.stride, ...p.dilation, p.pads[0], p.pads[2]], (geo) => K.unfold_f32(addr(x), buf(out).ptr, geo, p.value));
    },
    fold: (inputs, p, out, shape) => {
      const [g] = inputs;
      if (!f32(g) || !isContig(g)) return js.fold(inputs, p, out, shape);
      const [N, C, H, W] = p.shape,
        [, Ho, Wo] = g.shape;
      withGeometry([N, C, H, W, Ho, Wo, ...p.kernel, ...p.stride, ...p.dilation, p.pads[0], p.pads[2]], (geo) => K.fold_f32(addr(g), buf(out).ptr, geo));
    },
    random: (inputs, p, out, shape) => {
      if (p.dtype !== 'float32') return js.random(inputs, p, out, shape);
      K.philox_uniform_f32(p.key[0] >>> 0, p.key[1] >>> 0, p.counter, buf(out).ptr, out.size);
    },
  };

  /** A [R, n] view whose columns are contiguous (any row stride: the kernels take it). */
  const rows2 = (v: View): boolean => v.shape.length === 2 && (v.strides[1] === 1 || v.shape[1] === 1);
  /** A 1-D view of contiguous elements (or of one element). */
  const vec1 = (v: View | null): boolean => !v || (v.shape.length === 1 && (v.strides[0] === 1 || v.shape[0] <= 1));
  const int32 = (x: number): boolean => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31;

  /**
   * Attention operands: float32 q [...B, L, E], k [...B, S, E], v [...B, S, Ev] with equal batch
   * dims, and their sizes; null when the fused kernels do not take them.
   */
  function attentionDims(q: View, k: View, v: View): { L: number; S: number; E: number; EV: number; batch: number[] } | null {
    const nd = q.shape.length;
    if (nd < 2 || k.shape.length !== nd || v.shape.length !== nd || !f32(q, k, v)) return null;
    for (let d = 0; d < nd - 2; d++) if (k.shape[d] !== q.shape[d] || v.shape[d] !== q.shape[d]) return null;
    const L = q.shape[nd - 2],
      E = q.shape[nd - 1],
      S = k.shape[nd - 2],
      EV = v.shape[nd - 1];
    if (k.shape[nd - 1] !== E || v.shape[nd - 2] !== S) return null;
    if (L === 0 || S === 0 || E === 0 || EV === 0 || L * S > ATTENTION_MAX_SCORES) return null;
    return { L, S, E, EV, batch: q.shape.slice(0, nd - 2) };
  }

  /**
   * Runs an attention task: a table of each operand's batch-matrix byte addresses (operand j at
   * table + j·B·4), per-thread scratch, then `args(table, scratch, stride)`.
   */
  function runAttention(
    task: number,
    ops: View[],
    batch: number[],
    L: number,
    S: number,
    E: number,
    EV: number,
    args: (table: number, scratch: number, stride: number) => number[],
  ): void {
    const B = sizeOf(batch),
      nd = batch.length;
    const threads = Math.min(pool.threads, B);
    const stride = (K.attentionScratchBytes(L, S, E, EV) + 63) & ~63;
    withTemp(ops.length * B * 4, (table) =>
      withTemp(stride * threads, (scr) => {
        const t = new Int32Array(memory.buffer, table, ops.length * B);
        ops.forEach((x, j) => {
          const offs = stridedOffsets(batch, x.strides.slice(0, nd), x.offset),
            base = buf(x.storage).ptr;
          for (let z = 0; z < B; z++) t[j * B + z] = base + offs[z] * 4;
        });
        pool.run(task, args(table, scr, stride), threads);
      }),
    );
  }

  /**
   * An attention output the kernels write: float32 [...batch, rows, cols] with contiguous columns
   * (any row and batch strides, e.g. heads side by side in a [B, T, H·D] buffer).
   */
  function attentionOut(x: View, batch: readonly number[], rows: number, cols: number): boolean {
    const nd = batch.length + 2;
    return f32(x) && x.shape.length === nd && shapesEqual(x.shape, [...batch, rows, cols]) && (x.strides[nd - 1] === 1 || cols === 1);
  }

  const f32bits = (x: number): number => new Int32Array(new Float32Array([x]).buffer)[0];
  const rc = (x: View): [number, number] => [x.strides[x.shape.length - 2], x.strides[x.shape.length - 1]];

  const fused: FusedKernels = {
    attention(q, k, v, scale, causal, out, lse) {
      const d = attentionDims(q, k, v);
      if (!d || !attentionOut(out, d.batch, d.L, d.EV)) return false;
      const B = sizeOf(d.batch);
      if (B === 0) return true;
      runAttention(TASK_ATTENTION, [q, k, v, out], d.batch, d.L, d.S, d.E, d.EV, (t, scr, stride) => [
        t,
        t + B * 4,
        t + B * 8,
        t + B * 12,
        ...rc(q),
        ...rc(k),
        ...rc(v),
        rc(out)[0],
        buf(lse).ptr,
        d.L,
        d.S,
        d.E,
        d.EV,
        B,
        f32bits(scale),
        causal ? 1 : 0,
        scr,
        stride,
      ]);
      return true;
    },
    attentionBackward(q, k, v, _o, lse, g, scale, causal, dq, dk, dv) {
      const d = attentionDims(q, k, v);
      if (!d || !f32(g, lse) || g.shape.length !== q.shape.length || g.shape[g.shape.length - 1] !== d.EV || g.shape[g.shape.length - 2] !== d.L) return false;
      if (!attentionOut(dq, d.batch, d.L, d.E) || !attentionOut(dk, d.batch, d.S, d.E) || !attentionOut(dv, d.batch, d.S, d.EV)) return false;
      const B = sizeOf(d.batch);
      if (sizeOf(lse.shape) !== B * d.L || !isContig(lse)) return false;
      if (B === 0) return true;
      runAttention(TASK_ATTENTION_BACKWARD, [q, k, v, g, dq, dk, dv], d.batch, d.L, d.S, d.E, d.EV, (t, scr, stride) => [
        t,
        t + B * 4,
        t + B * 8,
        t + B * 12,
        t + B * 16,
        t + B * 20,
        t + B * 24,
        ...rc(q),
        ...rc(k),
        ...rc(v),
        ...rc(g),
        rc(dq)[0],
        rc(dk)[0],
        rc(dv)[0],
        addr(lse),
        d.L,
        d.S,
        d.E,
        d.EV,
        B,
        f32bits(scale),
        causal ? 1 : 0,
        scr,
        stride,
      ]);
      return true;
    },
    layerNorm(x, w, b, eps, out, mean, rstd) {
      if (!f32(x) || (w && !f32(w)) || (b && !f32(b)) || !rows2(x) || !vec1(w) || !vec1(b)) return false;
      const [R, n] = x.shape;
      if (n === 0) return false;
      K.layer_norm_f32(addr(x), x.strides[0], w ? addr(w) : 0, b ? addr(b) : 0, buf(out).ptr, buf(mean).ptr, buf(rstd).ptr, R, n, eps);
      return true;
    },
    layerNormBackward(g, x, w, mean, rstd, dx, dw, db) {
      if (!f32(g, x, mean, rstd) || (w && !f32(w)) || !rows2(g) || !rows2(x) || !vec1(w) || !vec1(mean) || !vec1(rstd)) return false;
      const [R, n] = x.shape;
      if (n === 0 || g.shape[0] !== R || g.shape[1] !== n) return false;
      K.layer_norm_backward_f32(addr(g), g.strides[0], addr(x), x.strides[0], w ? addr(w) : 0, addr(mean), addr(rstd), buf(dx).ptr, dw ? buf(dw).ptr : 0, db ? buf(db).ptr : 0, R, n);
      return true;
    },
    crossEntropy(x, t, ignoreIndex, loss, lse) {
      if (!f32(x) || t.dtype !== 'int32' || !rows2(x) || t.shape.length !== 1 || !int32(ignoreIndex)) return false;
      const [N, C] = x.shape;
      if (C === 0 || t.shape[0] !== N) return false;
      // The kernel reads x[t] unchecked: a class out of range throws here, as the js backend's gather.
      const ts = buf(t.storage).array,
        st = t.strides[0];
      for (let i = 0, o = t.offset; i < N; i++, o += st) {
        const c = ts[o];
        if (c !== ignoreIndex && (c < 0 || c >= C)) throw new Error(`gather: index ${c} is out of range for dimension 1 of size ${C}`);
      }
      K.cross_entropy_f32(addr(x), x.strides[0], addr(t), t.strides[0], buf(loss).ptr, buf(lse).ptr, N, C, ignoreIndex);
      return true;
    },
    crossEntropyBackward(x, t, lse, g, ignoreIndex, dx) {
      if (!f32(x, lse, g) || t.dtype !== 'int32' || !rows2(x) || t.shape.length !== 1 || g.shape.length !== 1 || !vec1(lse) || !int32(ignoreIndex)) return false;
      const [N, C] = x.shape;
      if (C === 0 || t.shape[0] !== N || g.shape[0] !== N || lse.shape[0] !== N) return false;
      K.cross_entropy_backward_f32(addr(x), x.strides[0], addr(t), t.strides[0], addr(lse), addr(g), g.strides[0], buf(dx).ptr, N, C, ignoreIndex);
      return true;
    },
    // About 2 ns an element: worth the threads from a few tens of thousands of elements on.
    gelu(x, out, approximate) {
      if (!f32(x) || !isContig(x)) return false;
      const n = out.size,
        approx = approximate === 'tanh' ? 1 : 0;
      if (n >= THREADED_MIN_ELEMENTS && pool.threads > 1) pool.run(TASK_GELU, [addr(x), buf(out).ptr, n, approx, 0, 0], pool.threads);
      else K.gelu_f32(addr(x), buf(out).ptr, n, approx);
      return true;
    },
    geluBackward(g, x, dx, approximate) {
      if (!f32(g, x) || !isContig(g) || !isContig(x)) return false;
      const n = dx.size,
        approx = approximate === 'tanh' ? 1 : 0;
      if (n >= THREADED_MIN_ELEMENTS && pool.threads > 1) pool.run(TASK_GELU, [addr(x), buf(dx).ptr, n, approx, 1, addr(g)], pool.threads);
      else K.gelu_backward_f32(addr(g), addr(x), buf(dx).ptr, n, approx);
      return true;
    },
    // Single-threaded: a decoding step's attention is small beside its matrix products.
    slotAttention(qkv, cache, rows, starts, nHead, scale, out) {
      if (!f32(qkv, cache) || qkv.shape.length !== 2 || cache.shape.length !== 2 || qkv.strides[1] !== 1 || !isContig(cache)) return false;
      const [B, C3] = qkv.shape,
        C = C3 / 3,
        D = C / nHead;
      if (cache.shape[1] !== 2 * C || rows.length !== B || starts.length !== B || B === 0) return false;
      let S = 1;
      for (let b = 0; b < B; b++) S = Math.max(S, rows[b] - starts[b] + 1);
      withTemp((2 * B + 2 * D + 2 * S) * 4, (tmp) => {
        const ids = new Int32Array(memory.buffer, tmp, 2 * B);
        ids.set(rows);
        ids.set(starts, B);
        K.slot_attention_f32(addr(qkv), qkv.strides[0], addr(cache), tmp, tmp + 4 * B, B, nHead, D, scale, buf(out).ptr, tmp + 8 * B);
      });
      return true;
    },
    softmax(x, out, log) {
      if (!f32(x) || !isContig(x) || x.shape.length === 0) return false;
      const n = x.shape[x.shape.length - 1];
      if (n === 0) return false;
      K.softmax_rows_f32(addr(x), buf(out).ptr, out.size / n, n, log ? 1 : 0);
      return true;
    },
    adam(p, g, m, v, pOut, mOut, vOut, h) {
      if (!f32(p, g, m, v) || ![p, g, m, v].every(isContig)) return false;
      const n = pOut.size,
        threads = n >= THREADED_MIN_ELEMENTS ? pool.threads : 1;
      if (threads > 1) {
        // Memory-bound: large parameters are split across the threads.
        const bits = new Int32Array(new Float32Array([h.beta1, h.beta2, h.stepSize, h.bc2Sqrt, h.eps, h.weightDecay, h.decoupledScale]).buffer);
        pool.run(TASK_ADAM, [addr(p), addr(g), addr(m), addr(v), buf(pOut).ptr, buf(mOut).ptr, buf(vOut).ptr, n, h.mode, ...bits], threads);
      } else {
        K.adam_f32(
          addr(p),
          addr(g),
          addr(m),
          addr(v),
          buf(pOut).ptr,
          buf(mOut).ptr,
          buf(vOut).ptr,
          n,
          h.beta1,
          h.beta2,
          h.stepSize,
          h.bc2Sqrt,
          h.eps,
          h.weightDecay,
          h.decoupledScale,
          h.mode,
        );
      }
      return true;
    },
  };

  const backend: WasmBackend = {
    name: opts.name ?? 'wasm',
    variant,
    allocate(size: number, dtype: DType): Storage {
      return { backend, dtype, size, handle: heap.buffer(dtype, size), refs: 0, id: nextId++ };
    },
    free(storage: Storage): void {
      const b = buf(storage);
      if (!b) return;
      heap.release(b.ptr, b.cls);
      storage.handle = null;
    },
    write(storage: Storage, data: TypedArray): void {
      buf(storage).array.set(data);
    },
    async read(storage: Storage): Promise<TypedArray> {
      return buf(storage).array.slice();
    },
    readSync(storage: Storage): TypedArray {
      return buf(storage).array.slice();
    },
    kernels,
    fused,
    copyInto: (src: View, dst: View): void => {
      // 4-byte elements: one strided copy between the two layouts (up to four merged dims).
      const t = ELEM_BYTES[dst.dtype] === 4 ? collapse2(dst.shape, src.strides, dst.strides) : null;
      if (!t) return copyIntoKernel(src, dst);
      K.copy4to(addr(src), addr(dst), t.d[0], t.d[1], t.d[2], t.d[3], t.s[0], t.s[1], t.s[2], t.s[3], t.t[0], t.t[1], t.t[2], t.t[3]);
    },
    liveBuffers: () => heap.stats().liveBuffers - 1 - (scratch.ptr ? 1 : 0),
    memoryStats: () => heap.stats(),
    setThreads: (n: number) => pool.setThreads(n),
    get threads() {
      return pool.threads;
    },
    ready: () => pool.ready(),
    close: () => pool.close(),
    info: () => ({
      variant,
      simd: true,
      relaxedSimd: variant.startsWith('relaxed'),
      threads: pool.threads,
      threadsRequested: pool.requested,
      sharedMemory: threaded,
      ...(pool.error ? { workerError: String(pool.error) } : {}),
      heapBytes: heap.stats().heapBytes,
      ...(Object.keys(skipped).length ? { skipped } : {}),
    }),
  };
  if (threaded) pool.setThreads(opts.threads ?? Math.min(hardwareThreads(), DEFAULT_MAX_THREADS));
  else if (opts.threads && opts.threads > 1)
    throw new Error(`wasm: ${variant} has no threads here; ${skipped[variant.replace(/^simd$/, 'simdThreads')] ?? 'shared memory is unavailable'}`);
  return backend;
}

function contiguousStridesOf(shape: readonly number[]): number[] {
  const st: number[] = [];
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    st[k] = acc;
    acc *= shape[k];
  }
  return st;
}

/** Merge dims of a copy between two strided layouts (source s, destination t) into at most four. */
function collapse2(shape: readonly number[], s: readonly number[], t: readonly number[]): { d: number[]; s: number[]; t: number[] } | null {
  const d: number[] = [],
    ss: number[] = [],
    ts: number[] = [];
  shape.forEach((n, k) => {
    if (n === 1) return;
    const last = d.length - 1;
    if (last >= 0 && ss[last] === s[k] * n && ts[last] === t[k] * n) {
      d[last] *= n;
      ss[last] = s[k];
      ts[last] = t[k];
    } else {
      d.push(n);
      ss.push(s[k]);
      ts.push(t[k]);
    }
  });
  if (d.length > 4) return null;
  while (d.length < 4) {
    d.unshift(1);
    ss.unshift(0);
    ts.unshift(0);
  }
  return { d, s: ss, t: ts };
}

/** Merge a strided view's dims into at most four (outermost first, padded with 1s), or null. */
function collapse(shape: readonly number[], strides: readonly number[]): { d: number[]; s: number[] } | null {
  const d: number[] = [],
    s: number[] = [];
  shape.forEach((n, k) => {
    if (n === 1) return;
    const last = d.length - 1;
    if (last >= 0 && s[last] === strides[k] * n) {
      d[last] *= n;
      s[last] = strides[k];
    } else {
      d.push(n);
      s.push(strides[k]);
    }
  });
  if (d.length > 4) return null;
  while (d.length < 4) {
    d.unshift(1);
    s.unshift(0);
  }
  return { d, s };
}

registerBackend('wasm', () => createWasmBackend());

/** A wasm backend registered under `name` (tests and benchmarks register restricted variants). */
export function wasmBackendByName(name: string): WasmBackend {
  const b = requireBackend(name) as WasmBackend;
  if (typeof b.setThreads !== 'function') throw new Error(`backend '${name}' is not a wasm backend`);
  return b;
}

/** The wasm backend, loading it if needed. */
export function wasmBackend(): WasmBackend {
  return requireBackend('wasm') as WasmBackend;
}

/**
 * Use n CPU threads (the calling one included) for the wasm backend's parallel kernels; the
 * default is the number of cores, at most 16. In Node this returns once the workers run; in a
 * browser they start in the background and join as they come up (`await wasmBackend().ready()`).
 */
export function setThreads(n: number): void {
  wasmBackend().setThreads(n);
}

/** Threads the wasm backend uses now. */
export function getThreads(): number {
  return wasmBackend().threads;
}

export type { Prim };
