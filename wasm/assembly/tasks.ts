// Parallel tasks: each thread (the host as 0, workers 1..n-1) runs its share of the job whose
// arguments sit at `ctrl` (layout in threads.ts). No atomics here, so the single-threaded
// variants run the same code with one thread.

import { gemm, MR, NR } from './matmul';

const NTHREADS = 8, TASK = 12, ARGS = 16;
const TASK_GEMM = 0;

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
