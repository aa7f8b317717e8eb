// The wasm thread pool hands out units of work from a job-tagged counter and closes each job before
// the next one's arguments are written (src/backends/wasm/pool.ts, wasm/assembly/tasks.ts). Jobs of
// every parallel kind and of very different unit counts, back to back, on all threads and on one,
// must give the same bits, including while another process keeps a core busy (workers then start
// late, the case the job tags are for).
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import * as nb from '../../src/index.js';

const wasm = nb.getBackend().name === 'wasm';
const threads = wasm ? nb.getThreads() : 1;
const skip = !wasm ? 'the backend under test is not wasm' : threads < 2 ? 'one thread here' : '';

/** Parallel jobs of each task kind, sized so their unit counts differ widely from one to the next. */
function jobs(g: nb.Generator): (() => nb.Tensor)[] {
  const r = (shape: number[]) => nb.randn(shape, { generator: g });
  const [a, b] = [r([96, 200]), r([200, 130])];
  const [ba, bb] = [r([24, 3, 80]), r([24, 80, 40])];
  const [x1, w1] = [r([1, 700]), r([700, 900])];
  const big = r([300, 257]),
    row = r([257]);
  const [q, k, v] = [r([6, 2, 17, 16]), r([6, 2, 17, 16]), r([6, 2, 17, 16])];
  const flat = r([70001]);
  return [
    () => nb.matmul(a, b), // GEMM, blocks of columns
    () => nb.matmul(ba, bb), // GEMM, one unit per batch matrix
    () => nb.matmul(x1, w1), // few-row product
    () => nb.add(big, row), // binary, blocks of rows
    () => nb.gelu(flat), // elementwise blocks
    () => nb.nn.functional.scaledDotProductAttention(q, k, v, { isCausal: true }), // batch·head units
  ];
}

describe.skipIf(skip)(`wasm thread pool${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const run = (fs: (() => nb.Tensor)[], order: number[]) => order.map((i) => nb.scope(() => Array.from(fs[i]().dataSync())));
  const order = Array.from({ length: 60 }, (_, i) => (i * 7 + (i >> 3)) % 6);

  it('jobs of every kind and size back to back give the bits of one thread', () => {
    const fs = jobs(new nb.Generator(3));
    nb.setThreads(1);
    const one = run(fs, order);
    nb.setThreads(threads);
    expect(run(fs, order)).toEqual(one);
  });

  it('and so they do with another process spinning on a core', async () => {
    const fs = jobs(new nb.Generator(4));
    nb.setThreads(1);
    const one = run(fs, order);
    nb.setThreads(threads);
    const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(run(fs, order)).toEqual(one);
    } finally {
      busy.kill();
    }
  });
});
