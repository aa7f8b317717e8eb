// Parallel tasks: each thread (the host as 0, workers 1..n-1) runs its share of the job whose
// arguments sit at `ctrl` (layout in threads.ts). No atomics here, so the single-threaded
// variants run the same code with one thread. The task codes (Task) are generated; the build checks
// that runTask has a case for each.

import { gemm, MR, NR } from './matmul';
import { adam_f32 } from './optim';
import { gemvN, gemvT } from './gemv';
import { attentionForward, attentionBackward } from './attention';
import { gelu_f32, gelu_backward_f32 } from './fused';
import { binary_f32 } from './op-loops';
import { Task } from './codes';

const NTHREADS = 8, TASK = 12, ARGS = 16, NEXT = 236;
/** Units of work per thread a job is cut into (more balances better, fewer packs less). */
const UNITS_PER_THREAD = 2;

// @ts-ignore: decorator
@inline function arg(ctrl: usize, i: i32): i32 { return load<i32>(ctrl + ARGS + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function farg(ctrl: usize, i: i32): f32 { return load<f32>(ctrl + ARGS + (<usize>i << 2)); }

/** Take the next unit of work: a shared counter (slot 59), reset by the host for each job. */
// @ts-ignore: decorator
@inline function claim(ctrl: usize): i32 {
  // @ts-ignore: THREADS is a build-time constant from `asc --use THREADS=0|1`
  if (THREADS) return atomic.add<i32>(ctrl + NEXT, 1);
  const u = load<i32>(ctrl + NEXT);
  store<i32>(ctrl + NEXT, u + 1);
  return u;
}

/**
 * Batched GEMM arguments: [-, aRs, aCs, -, bRs, bCs, c, M, N, K, batch, aOffs, bOffs, scratch,
 * scratchStride] (slots 0 and 3 unused). aOffs/bOffs hold each batch matrix's byte address (so
 * broadcast batch dims cost nothing); C's batches are contiguous.
 * The work is cut into units (whole batch matrices when there are enough, else blocks of columns
 * when N >= M, or of rows) that threads take from a shared counter, so a thread that starts
 * late (a worker waking up) does less and nobody waits for it.
 */
function gemmTask(ctrl: usize, tid: i32, nt: i32): void {
  const aRs = arg(ctrl, 1), aCs = arg(ctrl, 2), bRs = arg(ctrl, 4), bCs = arg(ctrl, 5);
  const c = <usize><u32>arg(ctrl, 6), M = arg(ctrl, 7), N = arg(ctrl, 8), K = arg(ctrl, 9), batch = arg(ctrl, 10);
  const aOffs = <usize><u32>arg(ctrl, 11), bOffs = <usize><u32>arg(ctrl, 12);
  const scratch = <usize><u32>arg(ctrl, 13) + <usize>tid * <usize><u32>arg(ctrl, 14);
  const cSize = <usize>M * <usize>N << 2;
  // Pieces per batch matrix, each `span` columns (byCols) or rows wide.
  let pieces = 1, span = 0, byCols = true;
  if (nt > 1 && batch < nt * UNITS_PER_THREAD) {
    const want = (nt * UNITS_PER_THREAD + batch - 1) / batch;
    // Each piece packs the whole of the operand it does not split: all of A (M x K) for a block of
    // columns, all of B (K x N) for a block of rows. Split the one that keeps the smaller repacked.
    if (N >= M ? N >= NR * want : M < MR * want) {
      const panels = (N + NR - 1) / NR;
      span = NR * max(1, (panels + want - 1) / want);
      pieces = (N + span - 1) / span;
    } else {
      const tiles = (M + MR - 1) / MR;
      span = MR * max(1, (tiles + want - 1) / want);
      pieces = (M + span - 1) / span;
      byCols = false;
    }
  }
  const units = batch * pieces;
  for (let u = claim(ctrl); u < units; u = claim(ctrl)) {
    const bi = u / pieces, piece = u % pieces;
    const a = <usize>load<u32>(aOffs + (<usize>bi << 2)), b = <usize>load<u32>(bOffs + (<usize>bi << 2));
    const cb = c + <usize>bi * cSize;
    if (pieces == 1) gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, 0, M, 0, N, scratch);
    else if (byCols) gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, 0, M, piece * span, min(N, (piece + 1) * span), scratch);
    else gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, piece * span, min(M, (piece + 1) * span), 0, N, scratch);
  }
}

/** Where thread tid's block of n elements starts when they are cut into nt blocks of a multiple of 4 (vectors stay whole). */
// @ts-ignore: decorator
@inline function blockStart(n: i32, nt: i32, tid: i32): i32 {
  return min(n, tid * (((n + nt - 1) / nt + 3) & ~3));
}

/**
 * Fused Adam over n elements split into contiguous chunks (multiples of 4) per thread. Arguments:
 * [p, g, m, v, pOut, mOut, vOut, n, mode, beta1, beta2, stepSize, bc2Sqrt, eps, wd, decoupledScale]
 * with the last seven float32 values stored as their bits.
 */
function adamTask(ctrl: usize, tid: i32, nt: i32): void {
  const n = arg(ctrl, 7);
  const i0 = blockStart(n, nt, tid), i1 = blockStart(n, nt, tid + 1);
  if (i1 <= i0) return;
  const off = <usize>i0 << 2;
  adam_f32(<usize><u32>arg(ctrl, 0) + off, <usize><u32>arg(ctrl, 1) + off, <usize><u32>arg(ctrl, 2) + off, <usize><u32>arg(ctrl, 3) + off,
    <usize><u32>arg(ctrl, 4) + off, <usize><u32>arg(ctrl, 5) + off, <usize><u32>arg(ctrl, 6) + off, i1 - i0,
    farg(ctrl, 9), farg(ctrl, 10), farg(ctrl, 11), farg(ctrl, 12), farg(ctrl, 13), farg(ctrl, 14), farg(ctrl, 15), arg(ctrl, 8));
}

/**
 * GELU over n contiguous elements, a contiguous chunk (a multiple of 4) per thread. Arguments:
 * [x, out, n, approx, backward, g]: out = GELU(x), or with backward 1, out = g·GELU'(x).
 */
function geluTask(ctrl: usize, tid: i32, nt: i32): void {
  const n = arg(ctrl, 2);
  const i0 = blockStart(n, nt, tid), i1 = blockStart(n, nt, tid + 1);
  if (i1 <= i0) return;
  const off = <usize>i0 << 2;
  const x = <usize><u32>arg(ctrl, 0) + off, out = <usize><u32>arg(ctrl, 1) + off;
  if (arg(ctrl, 4)) gelu_backward_f32(<usize><u32>arg(ctrl, 5) + off, x, out, i1 - i0, arg(ctrl, 3));
  else gelu_f32(x, out, i1 - i0, arg(ctrl, 3));
}

/**
 * An elementwise binary op over two-level operands (elementwise.ts), arguments as binary_f32's:
 * [op, a, aO, aI, b, bO, bI, out, outer, inner]. Each thread takes a block of rows, or with one
 * row a block of columns (a multiple of 4, so the same elements take the vector path as on one
 * thread): every element is computed the same way whatever the thread count.
 */
function binaryTask(ctrl: usize, tid: i32, nt: i32): void {
  const op = arg(ctrl, 0), a = <usize><u32>arg(ctrl, 1), aO = arg(ctrl, 2), aI = arg(ctrl, 3);
  const b = <usize><u32>arg(ctrl, 4), bO = arg(ctrl, 5), bI = arg(ctrl, 6), out = <usize><u32>arg(ctrl, 7);
  const outer = arg(ctrl, 8), inner = arg(ctrl, 9);
  if (outer == 1) {
    const i0 = blockStart(inner, nt, tid), i1 = blockStart(inner, nt, tid + 1);
    if (i1 > i0) binary_f32(op, a + (<usize>(i0 * aI) << 2), aO, aI, b + (<usize>(i0 * bI) << 2), bO, bI, out + (<usize>i0 << 2), 1, i1 - i0);
    return;
  }
  const rows = (outer + nt - 1) / nt;
  const o0 = min(outer, tid * rows), o1 = min(outer, o0 + rows);
  if (o1 > o0) {
    binary_f32(op, a + (<usize>o0 * <usize>aO << 2), aO, aI, b + (<usize>o0 * <usize>bO << 2), bO, bI, out + (<usize>o0 * <usize>inner << 2), o1 - o0, inner);
  }
}

/**
 * Few-row products (gemv.ts), arguments as gemmTask's with slot 0 the layout (0: B row-major,
 * gemvN with row stride bRs; 1: B = Wᵀ, gemvT with W's row stride bCs) and no scratch. Units are
 * batch matrices, or blocks of columns (multiples of 16) when there are few.
 */
function gemvTask(ctrl: usize, tid: i32, nt: i32): void {
  const layout = arg(ctrl, 0), aRs = arg(ctrl, 1), aCs = arg(ctrl, 2), bRs = arg(ctrl, 4), bCs = arg(ctrl, 5);
  const c = <usize><u32>arg(ctrl, 6), M = arg(ctrl, 7), N = arg(ctrl, 8), K = arg(ctrl, 9), batch = arg(ctrl, 10);
  const aOffs = <usize><u32>arg(ctrl, 11), bOffs = <usize><u32>arg(ctrl, 12);
  const cSize = <usize>M * <usize>N << 2;
  let pieces = 1, span = N;
  if (batch < nt * UNITS_PER_THREAD) {
    const want = (nt * UNITS_PER_THREAD + batch - 1) / batch;
    const blocks = (N + 15) / 16;
    span = 16 * max(1, (blocks + want - 1) / want);
    pieces = (N + span - 1) / span;
  }
  const units = batch * pieces;
  for (let u = claim(ctrl); u < units; u = claim(ctrl)) {
    const bi = u / pieces, piece = u % pieces;
    const a = <usize>load<u32>(aOffs + (<usize>bi << 2)), b = <usize>load<u32>(bOffs + (<usize>bi << 2));
    const cb = c + <usize>bi * cSize;
    const n0 = piece * span, n1 = min(N, n0 + span);
    if (layout == 0) gemvN(a, aRs, aCs, b, bRs, cb, M, N, K, n0, n1);
    else gemvT(a, aRs, b, bCs, cb, M, N, K, n0, n1);
  }
}

/** The byte address stored at slot `i` of an address table. */
// @ts-ignore: decorator
@inline function addrAt(table: usize, i: i32): usize { return <usize>load<u32>(table + (<usize>i << 2)); }

/**
 * Fused attention (attention.ts), a unit per batch matrix taken from the shared counter. Arguments:
 * [qOffs, kOffs, vOffs, outOffs, qRs, qCs, kRs, kCs, vRs, vCs, outRs, lse, L, S, E, EV, B,
 * scale (bits), causal, scratch, scratchStride]; the Offs tables hold each batch matrix's byte
 * address, out's columns are contiguous and lse is contiguous.
 */
function attentionTask(ctrl: usize, tid: i32): void {
  const qOffs = <usize><u32>arg(ctrl, 0), kOffs = <usize><u32>arg(ctrl, 1), vOffs = <usize><u32>arg(ctrl, 2), oOffs = <usize><u32>arg(ctrl, 3);
  const lse = <usize><u32>arg(ctrl, 11);
  const L = arg(ctrl, 12), S = arg(ctrl, 13), E = arg(ctrl, 14), EV = arg(ctrl, 15), B = arg(ctrl, 16);
  const scratch = <usize><u32>arg(ctrl, 19) + <usize>tid * <usize><u32>arg(ctrl, 20);
  for (let z = claim(ctrl); z < B; z = claim(ctrl)) {
    attentionForward(addrAt(qOffs, z), arg(ctrl, 4), arg(ctrl, 5), addrAt(kOffs, z), arg(ctrl, 6), arg(ctrl, 7), addrAt(vOffs, z), arg(ctrl, 8), arg(ctrl, 9),
      addrAt(oOffs, z), arg(ctrl, 10), lse + (<usize>z * <usize>L << 2), L, S, E, EV, farg(ctrl, 17), arg(ctrl, 18) != 0, scratch);
  }
}

/**
 * Its backward. Arguments: [qOffs, kOffs, vOffs, gOffs, dqOffs, dkOffs, dvOffs, qRs, qCs, kRs, kCs,
 * vRs, vCs, gRs, gCs, dqRs, dkRs, dvRs, lse, L, S, E, EV, B, scale (bits), causal, scratch,
 * scratchStride]; dq, dk and dv have contiguous columns.
 */
function attentionBackwardTask(ctrl: usize, tid: i32): void {
  const qOffs = <usize><u32>arg(ctrl, 0), kOffs = <usize><u32>arg(ctrl, 1), vOffs = <usize><u32>arg(ctrl, 2), gOffs = <usize><u32>arg(ctrl, 3);
  const dqOffs = <usize><u32>arg(ctrl, 4), dkOffs = <usize><u32>arg(ctrl, 5), dvOffs = <usize><u32>arg(ctrl, 6);
  const lse = <usize><u32>arg(ctrl, 18);
  const L = arg(ctrl, 19), S = arg(ctrl, 20), E = arg(ctrl, 21), EV = arg(ctrl, 22), B = arg(ctrl, 23);
  const scratch = <usize><u32>arg(ctrl, 26) + <usize>tid * <usize><u32>arg(ctrl, 27);
  for (let z = claim(ctrl); z < B; z = claim(ctrl)) {
    attentionBackward(addrAt(qOffs, z), arg(ctrl, 7), arg(ctrl, 8), addrAt(kOffs, z), arg(ctrl, 9), arg(ctrl, 10), addrAt(vOffs, z), arg(ctrl, 11), arg(ctrl, 12),
      addrAt(gOffs, z), arg(ctrl, 13), arg(ctrl, 14), lse + (<usize>z * <usize>L << 2),
      addrAt(dqOffs, z), arg(ctrl, 15), addrAt(dkOffs, z), arg(ctrl, 16), addrAt(dvOffs, z), arg(ctrl, 17),
      L, S, E, EV, farg(ctrl, 24), arg(ctrl, 25) != 0, scratch);
  }
}

/** Run this thread's share of the job at ctrl (the host calls it as thread 0). */
export function runTask(ctrl: usize, tid: i32): void {
  const nt = load<i32>(ctrl + NTHREADS);
  switch (load<i32>(ctrl + TASK)) {
    case Task.GEMM: gemmTask(ctrl, tid, nt); break;
    case Task.ADAM: adamTask(ctrl, tid, nt); break;
    case Task.GEMV: gemvTask(ctrl, tid, nt); break;
    case Task.ATTENTION: attentionTask(ctrl, tid); break;
    case Task.ATTENTION_BACKWARD: attentionBackwardTask(ctrl, tid); break;
    case Task.GELU: geluTask(ctrl, tid, nt); break;
    case Task.BINARY: binaryTask(ctrl, tid, nt); break;
    default: unreachable();
  }
}
