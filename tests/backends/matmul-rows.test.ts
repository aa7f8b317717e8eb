// Row independence of matmul: row i of A @ B has the same bits whatever the number of rows of A,
// for x·W and x·Wᵀ operands, inner dimensions across GEMM's K block (256), widths off the SIMD and
// tile sizes, one thread or several. The generation engine relies on it: a sequence decoded alone
// or with others in one batched step gets the same tokens (serve/engine.ts).
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';

const backend = nb.getBackend();
const setThreads = (backend as { setThreads?: (n: number) => void }).setThreads;

describe(`matmul rows do not depend on the row count (${backend.name})`, () => {
  const gen = new nb.Generator(11);
  for (const [K, N] of [
    [38, 114],
    [301, 38],
    [768, 101],
    [257, 7],
    [3, 9],
  ]) {
    for (const layout of ['x·W', 'x·Wᵀ'] as const) {
      it(`K ${K}, N ${N}, ${layout}`, () => {
        const a = nb.randn([9, K], { generator: gen });
        const w = layout === 'x·W' ? nb.randn([K, N], { generator: gen }) : nb.randn([N, K], { generator: gen });
        const b = layout === 'x·W' ? w : w.t();
        const rows = (M: number) => nb.scope(() => nb.matmul(a.slice(0, 0, M), b).dataSync() as Float32Array);
        const single = Array.from({ length: 9 }, (_, i) => nb.scope(() => nb.matmul(a.slice(0, i, i + 1), b).dataSync() as Float32Array));
        const threadCounts = setThreads ? [1, 2] : [0];
        const before = (backend as { threads?: number }).threads ?? 1;
        try {
          for (const t of threadCounts) {
            if (t) setThreads!.call(backend, t);
            for (let M = 1; M <= 9; M++) {
              const out = rows(M);
              for (let i = 0; i < M; i++) expect(out.subarray(i * N, (i + 1) * N), `row ${i} of ${M}, ${t} thread(s)`).toEqual(single[i]);
            }
          }
        } finally {
          if (setThreads) setThreads.call(backend, before);
        }
        nb.dispose([a, w]);
      });
    }
  }
});
