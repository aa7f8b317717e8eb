// webgpu batched matmul: a register-blocked tiled GEMM (shared-memory tiles, double buffered), and a
// GEMV-like kernel for few rows (token-by-token generation) or few columns. Operands are read through
// their strides, so transposed views (x @ Wᵀ, Aᵀ @ G in backward) and broadcast batches cost no copy.
//
// Shared-memory layout (GEMM): both operand tiles are stored k-major, S[k][mn] as vec4s of 4 adjacent
// rows (A) or columns (B), so the inner loop reads whole vec4s (128-bit loads) and every value loaded
// from shared memory feeds 4 or 8 multiply-adds. The vec4 column inside a k-row is XOR-swizzled with
// k (p ^ (k & 7)): tiles loaded along k (A row-major, B transposed) then store without bank
// conflicts, and the compute loop's reads stay conflict-free (the XOR permutes within aligned groups
// of 8 vec4s = 32 banks).

import type { Kernel, View } from '../backend.js';
import { buf, collapse, u32, wgslType } from './layout.js';
import type { GpuBuf, GpuRuntime } from './runtime.js';

/**
 * Tuning knobs (exported so tests can force a variant on small problems).
 * - bigTileMin: use the 128×128 tile (8×8 per thread) when it still gives at least this many
 *   workgroups; otherwise the 64×64 tile (4×4 per thread) keeps the GPU's cores busy on mid sizes.
 * - gemvMaxRows: M (or N) at or below which the GEMV kernel runs instead of the tiled GEMM.
 */
export const matmulTuning = { bigTileMin: 192, gemvMaxRows: 4 };

type T = 'f32' | 'i32' | 'u32';

/** Meta words shared by both kernels; the batch shape and per-operand batch strides follow. */
const W = { M: 0, N: 1, K: 2, aOff: 3, sAm: 4, sAk: 5, bOff: 6, sBk: 7, sBn: 8, sCm: 9, sCn: 10, xBase: 11, yBase: 12, zBase: 13, rank: 14 } as const;
const BATCH = 15;

const HEADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> prm: array<u32>;
fn mi(k: u32) -> i32 { return bitcast<i32>(prm[k]); }
// Element offsets of batch z's matrices in A and B: the collapsed batch dims, innermost first.
fn batchOffsets(z: u32) -> vec2<i32> {
  let r = prm[${W.rank}u];
  var rem = z;
  var o = vec2<i32>(mi(${W.aOff}u), mi(${W.bOff}u));
  for (var d = i32(r) - 1; d >= 0; d--) {
    let n = prm[${BATCH}u + u32(d)];
    let q = i32(rem % n);
    rem = rem / n;
    o += q * vec2<i32>(mi(${BATCH}u + r + u32(d)), mi(${BATCH}u + 2u * r + u32(d)));
  }
  return o;
}
`;

/**
 * The tiled GEMM. A workgroup of 16×16 threads computes a TM×TM tile of C; each thread a RM×RM block
 * (RM/4 × RM/4 vec4 quadrants spaced 64 rows/cols apart, so the 16 threads of a row of the
 * workgroup read 16 consecutive vec4s). K advances BK at a time (BK·TM = 1024: every thread loads
 * exactly one vec4 of each operand per step) through two shared-memory stages: the next step's
 * global loads are issued before the current step's math and stored after it, one barrier per step.
 * `aK`/`bK` say whether an operand is loaded along k (k is its contiguous dim: A row-major, B
 * transposed) or along m/n, so consecutive threads read consecutive addresses either way.
 */
function gemmWgsl(t: T, TM: number, RM: number, aK: boolean, bK: boolean): string {
  const BK = 1024 / TM,
    V = TM / 4,
    H = RM / 4,
    STAGE = BK * V;
  const v4 = `vec4<${t}>`;
  // Thread → (k, vec4 column p) of the one vec4 it loads per operand per step.
  const map = (kMajor: boolean) => (kMajor ? `t % ${BK}u, t / ${BK}u` : `t / ${V}u, t % ${V}u`);
  const load = (X: string, sRow: string, sK: string, R: string) => `fn load${X}(o: i32, r: u32, k: u32) -> ${v4} {
  var v = ${v4}();
  if (k < prm[${W.K}u]) {
    let base = o + i32(k) * mi(${sK}u);
    let s = mi(${sRow}u);
    let R = prm[${R}u];
    ${[0, 1, 2, 3].map((c) => `if (r + ${c}u < R) { v[${c}] = ${X}[base + i32(r + ${c}u) * s]; }`).join('\n    ')}
  }
  return v;
}`;
  const acc: string[] = [];
  for (let i = 0; i < RM; i++) for (let h = 0; h < H; h++) acc.push(`var c${i}_${h} = ${v4}();`);
  // One k of the inner product: H vec4s of A (rows) and of B (columns), RM·H vec4 multiply-adds.
  const step = (kk: number) => {
    const lines = [`{ let r = cur + ${kk * V}u;`];
    for (let h = 0; h < H; h++) lines.push(`  let a${h} = As[r + ((${h * 16}u + ty) ^ ${kk & 7}u)]; let b${h} = Bs[r + ((${h * 16}u + tx) ^ ${kk & 7}u)];`);
    for (let h = 0; h < H; h++)
      for (let c = 0; c < 4; c++) {
        lines.push('  ' + Array.from({ length: H }, (_, hb) => `c${h * 4 + c}_${hb} += a${h}[${c}] * b${hb};`).join(' '));
      }
    lines.push('}');
    return lines.join('\n      ');
  };
  const stores: string[] = [];
  for (let h = 0; h < H; h++)
    for (let c = 0; c < 4; c++) {
      const i = h * 4 + c;
      stores.push(`{ let m = tm0 + ${h * 64}u + ty * 4u + ${c}u;
    if (m < M) {
      let row = cbase + m * N;
      ${Array.from({ length: H }, (_, hb) => [0, 1, 2, 3].map((j) => `if (n${hb} + ${j}u < N) { C[row + n${hb} + ${j}u] = c${i}_${hb}[${j}]; }`).join(' ')).join('\n      ')}
    } }`);
    }
  return `${HEADER}
@group(0) @binding(1) var<storage, read> A: array<${t}>;
@group(0) @binding(2) var<storage, read> B: array<${t}>;
@group(0) @binding(3) var<storage, read_write> C: array<${t}>;
var<workgroup> As: array<${v4}, ${2 * STAGE}>;
var<workgroup> Bs: array<${v4}, ${2 * STAGE}>;
${load('A', `${W.sAm}`, `${W.sAk}`, `${W.M}`)}
${load('B', `${W.sBn}`, `${W.sBk}`, `${W.N}`)}
// Shared-memory index of vec4 column p of k-row k in a stage (swizzled, see the top of matmul.ts).
fn sidx(k: u32, p: u32) -> u32 { return k * ${V}u + (p ^ (k & 7u)); }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let M = prm[${W.M}u]; let N = prm[${W.N}u]; let K = prm[${W.K}u];
  let z = wid.z + prm[${W.zBase}u];
  let off = batchOffsets(z);
  let tm0 = (wid.y + prm[${W.yBase}u]) * ${TM}u;
  let tn0 = (wid.x + prm[${W.xBase}u]) * ${TM}u;
  let tx = t % 16u; let ty = t / 16u;
  let ak = vec2<u32>(${map(aK)}); // (k, p) of this thread's A load
  let bk = vec2<u32>(${map(bK)});
  let ar = tm0 + ak.y * 4u; let br = tn0 + bk.y * 4u;
  let as_ = sidx(ak.x, ak.y); let bs_ = sidx(bk.x, bk.y);
  ${acc.join(' ')}
  var ra = loadA(off.x, ar, ak.x);
  var rb = loadB(off.y, br, bk.x);
  As[as_] = ra; Bs[bs_] = rb;
  workgroupBarrier();
  let steps = (K + ${BK - 1}u) / ${BK}u;
  for (var s = 0u; s < steps; s++) {
    let cur = (s & 1u) * ${STAGE}u;
    let more = s + 1u < steps;
    if (more) {
      let k = (s + 1u) * ${BK}u;
      ra = loadA(off.x, ar, k + ak.x);
      rb = loadB(off.y, br, k + bk.x);
    }
    ${Array.from({ length: BK }, (_, kk) => step(kk)).join('\n    ')}
    if (more) { let nxt = ${STAGE}u - cur; As[nxt + as_] = ra; Bs[nxt + bs_] = rb; }
    workgroupBarrier();
  }
  let cbase = z * M * N;
  ${Array.from({ length: H }, (_, hb) => `let n${hb} = tn0 + ${hb * 64}u + tx * 4u;`).join(' ')}
  ${stores.join('\n  ')}
}`;
}

/**
 * Few rows: out[r, n] = Σ_k A[r, k] B[k, n] for R ≤ 4 rows, each workgroup reducing over K for a
 * block of columns, so that the weight matrix (the whole cost: R·K·N flops over K·N reads) is read
 * once, coalesced. Its 256 threads are 8 groups of 32 lanes: with B contiguous along k (x·Wᵀ) each
 * group takes a column and its lanes split k; with B contiguous along n (x·W) the lanes take 32
 * adjacent columns and the groups split k. Partial sums meet in shared memory (a tree over slices).
 * Output strides come from meta, so the same kernel computes few-column products transposed.
 */
function gemvWgsl(t: T, R: number, kMajor: boolean): string {
  const COLS = kMajor ? 8 : 32,
    SLICES = 256 / COLS,
    sliceStride = kMajor ? 1 : 32;
  const rows = Array.from({ length: R }, (_, r) => r);
  const fma = (w: string, k: string) => rows.map((r) => `s${r} += A[a${r} + i32(${k}) * sAk] * ${w};`).join(' ');
  return `${HEADER}
@group(0) @binding(1) var<storage, read> A: array<${t}>;
@group(0) @binding(2) var<storage, read> B: array<${t}>;
@group(0) @binding(3) var<storage, read_write> C: array<${t}>;
var<workgroup> red: array<${t}, ${256 * R}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let N = prm[${W.N}u]; let K = prm[${W.K}u];
  let z = wid.z + prm[${W.zBase}u];
  let off = batchOffsets(z);
  let col = ${kMajor ? 't / 32u' : 't % 32u'};
  let slice = ${kMajor ? 't % 32u' : 't / 32u'};
  let n = (wid.x + prm[${W.xBase}u]) * ${COLS}u + col;
  let sAk = mi(${W.sAk}u); let sBk = mi(${W.sBk}u);
  ${rows.map((r) => `var s${r} = ${t}(); let a${r} = off.x + ${r} * mi(${W.sAm}u);`).join(' ')}
  if (n < N) {
    let b = off.y + i32(n) * mi(${W.sBn}u);
    var k = slice;
    // Four independent loads in flight per thread before the first multiply.
    for (; k + ${3 * SLICES}u < K; k += ${4 * SLICES}u) {
      let w0 = B[b + i32(k) * sBk]; let w1 = B[b + i32(k + ${SLICES}u) * sBk];
      let w2 = B[b + i32(k + ${2 * SLICES}u) * sBk]; let w3 = B[b + i32(k + ${3 * SLICES}u) * sBk];
      ${fma('w0', 'k')}
      ${fma('w1', `k + ${SLICES}u`)}
      ${fma('w2', `k + ${2 * SLICES}u`)}
      ${fma('w3', `k + ${3 * SLICES}u`)}
    }
    for (; k < K; k += ${SLICES}u) { let w = B[b + i32(k) * sBk]; ${fma('w', 'k')} }
  }
  ${rows.map((r) => `red[${r * 256}u + t] = s${r};`).join(' ')}
  workgroupBarrier();
  for (var h = ${SLICES / 2}u; h > 0u; h >>= 1u) {
    if (slice < h) { ${rows.map((r) => `red[${r * 256}u + t] += red[${r * 256}u + t + h * ${sliceStride}u];`).join(' ')} }
    workgroupBarrier();
  }
  if (slice == 0u && n < N) {
    let o = i32(z * prm[${W.M}u] * N) + i32(n) * mi(${W.sCn}u);
    ${rows.map((r) => `C[o + ${r} * mi(${W.sCm}u)] = red[${r * 256}u + t];`).join(' ')}
  }
}`;
}

/** A strided matrix operand: its offset, row and column strides (0 where the size is 1). */
interface Operand {
  off: number;
  sr: number;
  sc: number;
  batch: number[];
}

export function matmulKernel(rt: GpuRuntime): Kernel<'matmul'> {
  /**
   * Dispatches nx×ny×nz workgroups in chunks of at most the device's per-dimension limit (each
   * chunk's first workgroup index goes into the xBase/yBase/zBase words of meta).
   */
  const dispatch = (pipeline: GPUComputePipeline, bufs: GpuBuf[], meta: number[], nx: number, ny: number, nz: number) => {
    const L = rt.maxWorkgroups;
    for (let z = 0; z < nz; z += L)
      for (let y = 0; y < ny; y += L)
        for (let x = 0; x < nx; x += L) {
          meta[W.xBase] = x;
          meta[W.yBase] = y;
          meta[W.zBase] = z;
          rt.dispatch(pipeline, bufs, meta, [Math.min(L, nx - x), Math.min(L, ny - y), Math.min(L, nz - z)]);
        }
  };

  return ([a, b], _p, out, outShape) => {
    const nd = outShape.length;
    const M = outShape[nd - 2],
      N = outShape[nd - 1],
      K = a.shape[nd - 1];
    const batchShape = outShape.slice(0, nd - 2);
    const batches = batchShape.reduce((x, y) => x * y, 1);
    if (M === 0 || N === 0 || batches === 0) return;
    const t = wgslType(out.dtype, 'matmul');
    if (a.dtype !== b.dtype || a.dtype !== out.dtype) throw new Error(`matmul: webgpu needs equal dtypes, got ${a.dtype} @ ${b.dtype}`);

    const operand = (v: View, rows: number, cols: number): Operand => ({
      off: v.offset,
      sr: rows === 1 ? 0 : v.strides[nd - 2],
      sc: cols === 1 ? 0 : v.strides[nd - 1],
      batch: v.strides.slice(0, nd - 2),
    });
    let A = operand(a, M, K),
      B = operand(b, K, N);
    // Batch dims of A, B (and the contiguous output, implied) merged where all three allow it.
    const outBatch = batchShape.map((_, d) => batchShape.slice(d + 1).reduce((x, y) => x * y, M * N));
    const cb = collapse(batchShape, [A.batch, B.batch, outBatch]);
    let sCm = N,
      sCn = 1,
      rows = M,
      cols = N;

    const bufs = [buf(a.storage), buf(b.storage), buf(out)];
    const gemvRows = matmulTuning.gemvMaxRows;
    if (M <= gemvRows || N <= gemvRows) {
      let batchA = cb.strides[0],
        batchB = cb.strides[1];
      if (M > gemvRows) {
        // Few columns: Cᵀ = Bᵀ Aᵀ, written through transposed output strides.
        [A, B] = [
          { off: B.off, sr: B.sc, sc: B.sr, batch: [] },
          { off: A.off, sr: A.sc, sc: A.sr, batch: [] },
        ];
        [batchA, batchB] = [batchB, batchA];
        [bufs[0], bufs[1]] = [bufs[1], bufs[0]];
        [rows, cols, sCm, sCn] = [N, M, 1, N];
      }
      // Lanes along k when B's column is contiguous in k (x·Wᵀ), along n otherwise (x·W).
      const kMajor = B.sr === 1 || (B.sc !== 1 && Math.abs(B.sr) <= Math.abs(B.sc));
      const meta = header(rows, cols, K, A, B, sCm, sCn, cb.shape, batchA, batchB);
      const pipeline = rt.pipeline(`matmul-gemv:${t}:${rows}:${kMajor ? 'k' : 'n'}`, () => gemvWgsl(t, rows, kMajor));
      dispatch(pipeline, bufs, meta, Math.ceil(cols / (kMajor ? 8 : 32)), 1, batches);
      return;
    }

    // A tile of 128 (8×8 per thread: twice the math per shared-memory read) when there are enough
    // of them to fill the GPU, else 64.
    const big = Math.ceil(M / 128) * Math.ceil(N / 128) * batches >= matmulTuning.bigTileMin;
    const TM = big ? 128 : 64,
      RM = big ? 8 : 4;
    // Load each operand along its contiguous dim (k for A row-major or B transposed).
    const aK = A.sc === 1 || (A.sr !== 1 && Math.abs(A.sc) <= Math.abs(A.sr));
    const bK = B.sr === 1 || (B.sc !== 1 && Math.abs(B.sr) <= Math.abs(B.sc));
    const meta = header(M, N, K, A, B, sCm, sCn, cb.shape, cb.strides[0], cb.strides[1]);
    const pipeline = rt.pipeline(`matmul-gemm:${t}:${TM}:${aK ? 'k' : 'm'}${bK ? 'k' : 'n'}`, () => gemmWgsl(t, TM, RM, aK, bK));
    dispatch(pipeline, bufs, meta, Math.ceil(N / TM), Math.ceil(M / TM), batches);
  };
}

/** The meta words of both kernels (see W). */
function header(M: number, N: number, K: number, A: Operand, B: Operand, sCm: number, sCn: number, bShape: number[], bA: number[], bB: number[]): number[] {
  const m = [M, N, K, A.off, u32(A.sr), u32(A.sc), B.off, u32(B.sr), u32(B.sc), u32(sCm), u32(sCn), 0, 0, 0, bShape.length];
  return [...m, ...bShape, ...bA.map(u32), ...bB.map(u32)];
}
