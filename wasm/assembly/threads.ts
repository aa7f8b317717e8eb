// The worker side of the thread pool and the parallel tasks. Every thread (the host's main thread
// as 0, workers 1..n-1) runs the same instance code over the shared memory. A job is a block of
// i32 slots at `ctrl`:
//   [0] generation: bumped by the host for each job (the futex word workers wait on)
//   [1] done: workers that finished the current job
//   [2] threads taking part        [3] task code (0: gemm, -1: exit)
//   [4..] task arguments (i32)
//   [60] a worker that trapped (set by its host-side wrapper)
//   [64 + tid] worker tid's admission slot: 1 started, 2 host says go, 3 in the loop

import { gemm, MR, NR } from './matmul';

const GEN = 0, DONE = 4, NTHREADS = 8, TASK = 12, ARGS = 16, ADMIT = 256;
const TASK_GEMM = 0, TASK_EXIT = -1;
/** Iterations to spin before sleeping: a training step issues jobs every few hundred microseconds. */
const SPIN = 2000000;

// @ts-ignore: decorator
@inline function arg(ctrl: usize, i: i32): i32 { return load<i32>(ctrl + ARGS + (<usize>i << 2)); }

/**
 * Batched GEMM arguments: [a, aRs, aCs, b, bRs, bCs, c, M, N, K, batch, aOffs, bOffs, scratch,
 * scratchStride]. aOffs/bOffs hold each batch matrix's byte address; C's batches are contiguous.
 * Work is split over batches when there are enough, else over columns (or rows when N is small).
 */
function gemmTask(ctrl: usize, tid: i32, nt: i32): void {
  const aRs = arg(ctrl, 1), aCs = arg(ctrl, 2), bRs = arg(ctrl, 4), bCs = arg(ctrl, 5);
  const c = <usize><u32>arg(ctrl, 6), M = arg(ctrl, 7), N = arg(ctrl, 8), K = arg(ctrl, 9), batch = arg(ctrl, 10);
  const aOffs = <usize><u32>arg(ctrl, 11), bOffs = <usize><u32>arg(ctrl, 12);
  const scratch = <usize><u32>arg(ctrl, 13) + <usize>tid * <usize><u32>arg(ctrl, 14);
  const cSize = <usize>M * <usize>N << 2;
  if (batch >= nt) {
    const b0 = <i32>(<i64>batch * tid / nt), b1 = <i32>(<i64>batch * (tid + 1) / nt);
    for (let bi = b0; bi < b1; bi++) {
      const a = <usize>load<u32>(aOffs + (<usize>bi << 2)), b = <usize>load<u32>(bOffs + (<usize>bi << 2));
      gemm(a, aRs, aCs, b, bRs, bCs, c + <usize>bi * cSize, N, K, 0, M, 0, N, scratch);
    }
    return;
  }
  for (let bi = 0; bi < batch; bi++) {
    const a = <usize>load<u32>(aOffs + (<usize>bi << 2)), b = <usize>load<u32>(bOffs + (<usize>bi << 2));
    const cb = c + <usize>bi * cSize;
    if (N >= M || N >= NR * nt * 4) {
      const panels = (N + NR - 1) / NR;
      const p0 = <i32>(<i64>panels * tid / nt), p1 = <i32>(<i64>panels * (tid + 1) / nt);
      gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, 0, M, p0 * NR, min(N, p1 * NR), scratch);
    } else {
      const tiles = (M + MR - 1) / MR;
      const t0 = <i32>(<i64>tiles * tid / nt), t1 = <i32>(<i64>tiles * (tid + 1) / nt);
      gemm(a, aRs, aCs, b, bRs, bCs, cb, N, K, t0 * MR, min(M, t1 * MR), 0, N, scratch);
    }
  }
}

/** Run this thread's share of the job at ctrl (the host calls it as thread 0). */
export function runTask(ctrl: usize, tid: i32): void {
  const nt = load<i32>(ctrl + NTHREADS);
  const task = load<i32>(ctrl + TASK);
  if (task == TASK_GEMM) gemmTask(ctrl, tid, nt);
}

/**
 * A worker's life. Admission first: announce itself (1) and wait for the host's go (2), given only
 * between jobs, then take the current generation as its baseline and confirm (3); so a worker
 * never sees half of a job. Then: wait for a new generation, run its share if it takes part,
 * count itself done; until the exit task.
 */
export function workerLoop(ctrl: usize, tid: i32): void {
  const slot = ctrl + ADMIT + (<usize>tid << 2);
  atomic.store<i32>(slot, 1);
  while (atomic.load<i32>(slot) != 2) atomic.wait<i32>(slot, 1, 1000000);
  let gen = atomic.load<i32>(ctrl + GEN);
  atomic.store<i32>(slot, 3);
  while (true) {
    let spins = 0;
    while (atomic.load<i32>(ctrl + GEN) == gen) {
      if (++spins > SPIN) {
        atomic.wait<i32>(ctrl + GEN, gen, -1);
        spins = 0;
      }
    }
    gen = atomic.load<i32>(ctrl + GEN);
    const task = atomic.load<i32>(ctrl + TASK);
    if (task == TASK_EXIT) return;
    if (tid < atomic.load<i32>(ctrl + NTHREADS)) {
      runTask(ctrl, tid);
      atomic.add<i32>(ctrl + DONE, 1);
    }
  }
}
