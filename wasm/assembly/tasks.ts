// Parallel tasks: each thread (the host as 0, workers 1..n-1) takes units of the job whose arguments
// sit at `ctrl` (layout in threads.ts) from a shared counter until none is left, so a thread that
// starts late (a worker the OS has not scheduled yet, on a busy machine) does less and nobody waits
// for it: the host waits only for units that were taken. Every element is computed by one unit, the
// same way whoever runs it, so results do not depend on the thread count. The single-threaded
// variants run the same code with plain loads and stores. The task codes (Task) are generated; the
// build checks that runTask has a case for each.

import { gemm, MR, NR } from './matmul';
import { adam_f32 } from './optim';
import { gemvN, gemvT } from './gemv';
import { attentionForward, attentionBackward } from './attention';
import { gelu_f32, gelu_backward_f32 } from './fused';
import { binary_f32 } from './op-loops';
import { Task } from './codes';

const DONE = 4, NTHREADS = 8, TASK = 12, ARGS = 16, NEXT = 248;
/** Units of work per thread a job is cut into (more balances better, fewer packs less). */
const UNITS_PER_THREAD = 2;

// @ts-ignore: decorator
@inline function arg(ctrl: usize, i: i32): i32 { return load<i32>(ctrl + ARGS + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function farg(ctrl: usize, i: i32): f32 { return load<f32>(ctrl + ARGS + (<usize>i << 2)); }

/**
 * Take the next of `units` units of job `job`, or -1 when none is left. The counter (an i64 at
 * slot 62: the job's number above, the next unit below) is set by the host for each job and closed
 * (its unit set past any job's) when the job is over, before the next job's arguments are written;
 * taking a unit compares the job number too. So a claim that succeeds proves that the job was
 * still open, hence that every argument this thread read after the job's number was that job's: a
 * worker the OS paused takes nothing from a later job whose arguments it may have read half-written.
 */
// @ts-ignore: decorator
@inline function claim(ctrl: usize, job: i64, units: i32): i32 {
  // @ts-ignore: THREADS is a build-time constant from `asc --use THREADS=0|1`
  if (THREADS) {
    while (true) {
      const v = atomic.load<i64>(ctrl + NEXT);
      const u = <i32>(v & 0xffffffff);
      if ((v >>> 32) != job || u >= units) return -1;
      if (atomic.cmpxchg<i64>(ctrl + NEXT, v, v + 1) == v) return u;
    }
  }
  const v = load<i64>(ctrl + NEXT);
  const u = <i32>(v & 0xffffffff);
  if (u >= units) return -1;
  store<i64>(ctrl + NEXT, v + 1);
  return u;
}

/** Count a unit of work done (the host waits until every unit taken is). */
// @ts-ignore: decorator
@inline function finish(ctrl: usize): void {
  // @ts-ignore: THREADS as above
  if (THREADS) atomic.add<i32>(ctrl + DONE, 1);
  else store<i32>(ctrl + DONE, load<i32>(ctrl + DONE) + 1);
}

/**
 * Batched GEMM arguments: [-, aRs, aCs, -, bRs, bCs, c, M, N, K, batch, aOffs, bOffs, scratch,
 * scratchStride] (slots 0 and 3 unused). aOffs/bOffs hold each batch matrix's byte address (so
 * broadcast batch dims cost nothing); C's batches are contiguous.
 * The work is cut into units (whole batch matrices when there are enough, else blocks of columns
 * when N >= M, or of rows) that threads take from a shared counter, so a thread that starts
 * late (a worker waking up) does less and nobody waits for it.
 */
function gemmTask(ctrl: usize, tid: i32, nt: i32, job: i64): i32 {
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
  for (let u = claim(ctrl, job, units); u >= 0; u = claim(ctrl, job, units)) {
    const bi = u / pieces, piece = u % pieces;
    const a = <usize>load<u32>(aOffs + (<usize>bi << 2)), b = <usize>load<u32>(bOffs + (<usize>bi << 2));
    const cb = c + <usize>bi * cSize;
    if (pieces == 1) gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, 0, M, 0, N, scratch);
    else if (byCols) gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, 0, M, piece * span, min(N, (piece + 1) * span), scratch);
    else gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, piece * span, min(M, (piece + 1) * span), 0, N, scratch);
    finish(ctrl);
  }
  return units;
}

/** Where block u of n elements starts when they are cut into `blocks` blocks of a multiple of 4 (vectors stay whole). */
// @ts-ignore: decorator
@inline function blockStart(n: i32, blocks: i32, u: i32): i32 {
  return min(n, u * (((n + blocks - 1) / blocks + 3) & ~3));
}

/**
 * Fused Adam over n elements cut into contiguous chunks (multiples of 4), UNITS_PER_THREAD per
 * thread. Arguments: [p, g, m, v, pOut, mOut, vOut, n, mode, beta1, beta2, stepSize, bc2Sqrt, eps,
 * wd, decoupledScale] with the last seven float32 values stored as their bits.
 */
function adamTask(ctrl: usize, nt: i32, job: i64): i32 {
  const n = arg(ctrl, 7), units = nt * UNITS_PER_THREAD;
  for (let u = claim(ctrl, job, units); u >= 0; u = claim(ctrl, job, units)) {
    const i0 = blockStart(n, units, u), i1 = blockStart(n, units, u + 1);
    if (i1 > i0) {
      const off = <usize>i0 << 2;
      adam_f32(<usize><u32>arg(ctrl, 0) + off, <usize><u32>arg(ctrl, 1) + off, <usize><u32>arg(ctrl, 2) + off, <usize><u32>arg(ctrl, 3) + off,
        <usize><u32>arg(ctrl, 4) + off, <usize><u32>arg(ctrl, 5) + off, <usize><u32>arg(ctrl, 6) + off, i1 - i0,
        farg(ctrl, 9), farg(ctrl, 10), farg(ctrl, 11), farg(ctrl, 12), farg(ctrl, 13), farg(ctrl, 14), farg(ctrl, 15), arg(ctrl, 8));
    }
    finish(ctrl);
  }
  return units;
}

/**
 * GELU over n contiguous elements in contiguous chunks (multiples of 4), UNITS_PER_THREAD per
 * thread. Arguments: [x, out, n, approx, backward, g]: out = GELU(x), or with backward 1,
 * out = g·GELU'(x).
 */
function geluTask(ctrl: usize, nt: i32, job: i64): i32 {
  const n = arg(ctrl, 2), units = nt * UNITS_PER_THREAD;
  for (let u = claim(ctrl, job, units); u >= 0; u = claim(ctrl, job, units)) {
    const i0 = blockStart(n, units, u), i1 = blockStart(n, units, u + 1);
    if (i1 > i0) {
      const off = <usize>i0 << 2;
      const x = <usize><u32>arg(ctrl, 0) + off, out = <usize><u32>arg(ctrl, 1) + off;
      if (arg(ctrl, 4)) gelu_backward_f32(<usize><u32>arg(ctrl, 5) + off, x, out, i1 - i0, arg(ctrl, 3));
      else gelu_f32(x, out, i1 - i0, arg(ctrl, 3));
    }
    finish(ctrl);
  }
  return units;
}

/**
 * An elementwise binary op over two-level operands (elementwise.ts), arguments as binary_f32's:
 * [op, a, aO, aI, b, bO, bI, out, outer, inner]. A unit is a block of rows, or with one row a block
 * of columns (a multiple of 4, so the same elements take the vector path as on one thread): every
 * element is computed the same way whatever the thread count.
 */
function binaryTask(ctrl: usize, nt: i32, job: i64): i32 {
  const op = arg(ctrl, 0), a = <usize><u32>arg(ctrl, 1), aO = arg(ctrl, 2), aI = arg(ctrl, 3);
  const b = <usize><u32>arg(ctrl, 4), bO = arg(ctrl, 5), bI = arg(ctrl, 6), out = <usize><u32>arg(ctrl, 7);
  const outer = arg(ctrl, 8), inner = arg(ctrl, 9);
  const units = outer == 1 ? nt * UNITS_PER_THREAD : min(outer, nt * UNITS_PER_THREAD);
  const rows = (outer + units - 1) / units;
  for (let u = claim(ctrl, job, units); u >= 0; u = claim(ctrl, job, units)) {
    if (outer == 1) {
      const i0 = blockStart(inner, units, u), i1 = blockStart(inner, units, u + 1);
      if (i1 > i0) binary_f32(op, a + (<usize>(i0 * aI) << 2), aO, aI, b + (<usize>(i0 * bI) << 2), bO, bI, out + (<usize>i0 << 2), 1, i1 - i0);
    } else {
      const o0 = min(outer, u * rows), o1 = min(outer, o0 + rows);
      if (o1 > o0) {
        binary_f32(op, a + (<usize>o0 * <usize>aO << 2), aO, aI, b + (<usize>o0 * <usize>bO << 2), bO, bI, out + (<usize>o0 * <usize>inner << 2), o1 - o0, inner);
      }
    }
    finish(ctrl);
  }
  return units;
}

/**
 * Few-row products (gemv.ts), arguments as gemmTask's with slot 0 the layout (0: B row-major,
 * gemvN with row stride bRs; 1: B = Wᵀ, gemvT with W's row stride bCs) and slot 3 gemvN's scratch
 * (shaped as C, for K > KC; else 0) instead of GEMM's. Units are
 * batch matrices, or blocks of columns (multiples of 16) when there are few.
 */
function gemvTask(ctrl: usize, nt: i32, job: i64): i32 {
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
  for (let u = claim(ctrl, job, units); u >= 0; u = claim(ctrl, job, units)) {
    const bi = u / pieces, piece = u % pieces;
    const a = <usize>load<u32>(aOffs + (<usize>bi << 2)), b = <usize>load<u32>(bOffs + (<usize>bi << 2));
    const cb = c + <usize>bi * cSize;
    const n0 = piece * span, n1 = min(N, n0 + span);
    // Slot 3: scratch laid out as C for gemvN's later K slices (0 when K fits one).
    const t = <usize><u32>arg(ctrl, 3);
    if (layout == 0) gemvN(a, aRs, aCs, b, bRs, cb, t ? t + <usize>bi * cSize : 0, M, N, K, n0, n1);
    else gemvT(a, aRs, b, bCs, cb, M, N, K, n0, n1);
    finish(ctrl);
  }
  return units;
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
function attentionTask(ctrl: usize, tid: i32, job: i64): i32 {
  const qOffs = <usize><u32>arg(ctrl, 0), kOffs = <usize><u32>arg(ctrl, 1), vOffs = <usize><u32>arg(ctrl, 2), oOffs = <usize><u32>arg(ctrl, 3);
  const lse = <usize><u32>arg(ctrl, 11);
  const L = arg(ctrl, 12), S = arg(ctrl, 13), E = arg(ctrl, 14), EV = arg(ctrl, 15), B = arg(ctrl, 16);
  const scratch = <usize><u32>arg(ctrl, 19) + <usize>tid * <usize><u32>arg(ctrl, 20);
  for (let z = claim(ctrl, job, B); z >= 0; z = claim(ctrl, job, B)) {
    attentionForward(addrAt(qOffs, z), arg(ctrl, 4), arg(ctrl, 5), addrAt(kOffs, z), arg(ctrl, 6), arg(ctrl, 7), addrAt(vOffs, z), arg(ctrl, 8), arg(ctrl, 9),
      addrAt(oOffs, z), arg(ctrl, 10), lse + (<usize>z * <usize>L << 2), L, S, E, EV, farg(ctrl, 17), arg(ctrl, 18) != 0, scratch);
    finish(ctrl);
  }
  return B;
}

/**
 * Its backward. Arguments: [qOffs, kOffs, vOffs, gOffs, dqOffs, dkOffs, dvOffs, qRs, qCs, kRs, kCs,
 * vRs, vCs, gRs, gCs, dqRs, dkRs, dvRs, lse, L, S, E, EV, B, scale (bits), causal, scratch,
 * scratchStride]; dq, dk and dv have contiguous columns.
 */
function attentionBackwardTask(ctrl: usize, tid: i32, job: i64): i32 {
  const qOffs = <usize><u32>arg(ctrl, 0), kOffs = <usize><u32>arg(ctrl, 1), vOffs = <usize><u32>arg(ctrl, 2), gOffs = <usize><u32>arg(ctrl, 3);
  const dqOffs = <usize><u32>arg(ctrl, 4), dkOffs = <usize><u32>arg(ctrl, 5), dvOffs = <usize><u32>arg(ctrl, 6);
  const lse = <usize><u32>arg(ctrl, 18);
  const L = arg(ctrl, 19), S = arg(ctrl, 20), E = arg(ctrl, 21), EV = arg(ctrl, 22), B = arg(ctrl, 23);
  const scratch = <usize><u32>arg(ctrl, 26) + <usize>tid * <usize><u32>arg(ctrl, 27);
  for (let z = claim(ctrl, job, B); z >= 0; z = claim(ctrl, job, B)) {
    attentionBackward(addrAt(qOffs, z), arg(ctrl, 7), arg(ctrl, 8), addrAt(kOffs, z), arg(ctrl, 9), arg(ctrl, 10), addrAt(vOffs, z), arg(ctrl, 11), arg(ctrl, 12),
      addrAt(gOffs, z), arg(ctrl, 13), arg(ctrl, 14), lse + (<usize>z * <usize>L << 2),
      addrAt(dqOffs, z), arg(ctrl, 15), addrAt(dkOffs, z), arg(ctrl, 16), addrAt(dvOffs, z), arg(ctrl, 17),
      L, S, E, EV, farg(ctrl, 24), arg(ctrl, 25) != 0, scratch);
    finish(ctrl);
  }
  return B;
}

/**
 * Take and run units of the job at ctrl until none is left (the host calls it as thread 0);
 * returns the job's number of units. The job's number is read first (an atomic load, after which
 * the host's writes of the task and its arguments are visible); see claim.
 */
export function runTask(ctrl: usize, tid: i32): i32 {
  // @ts-ignore: THREADS as in claim
  const job = THREADS ? atomic.load<i64>(ctrl + NEXT) >>> 32 : load<i64>(ctrl + NEXT) >>> 32;
  const nt = load<i32>(ctrl + NTHREADS);
  // A job sized for fewer threads (its per-thread scratch too) has no unit for this one. (Read
  // after the job's number: if what it says is stale, the job is over and no claim on it succeeds.)
  if (tid >= nt) return 0;
  switch (load<i32>(ctrl + TASK)) {
    case Task.GEMM: return gemmTask(ctrl, tid, nt, job);
    case Task.ADAM: return adamTask(ctrl, nt, job);
    case Task.GEMV: return gemvTask(ctrl, nt, job);
    case Task.ATTENTION: return attentionTask(ctrl, tid, job);
    case Task.ATTENTION_BACKWARD: return attentionBackwardTask(ctrl, tid, job);
    case Task.GELU: return geluTask(ctrl, nt, job);
    case Task.BINARY: return binaryTask(ctrl, nt, job);
    default: unreachable(); return 0;
  }
}
