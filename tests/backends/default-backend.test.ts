// What a script that only imports nabla computes on, with no call: the wasm backend on every core
// (at most DEFAULT_MAX_THREADS) and the relaxed-SIMD build wherever the runtime compiles it (Node
// 20-21 behind a V8 flag the backend sets). Run in a child process through the built package, as a
// user's script runs, since the test setup selects backends in this one.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { DEFAULT_MAX_THREADS } from '../../src/backends/wasm/pool.js';
import { enableRelaxedSimd } from '../../src/platform/relaxed-simd.js';
import * as binaries from '../../src/backends/wasm/binaries.js';

const run = promisify(execFile);
const entry = join(process.cwd(), 'dist/src/index.js');

// `getBackend().info()` straight after import, then after a first op, in a fresh process.
const SCRIPT = `
import { getBackend, matmul, randn } from 'nabla';
const atOnce = getBackend().info();
matmul(randn([64, 64]), randn([64, 64])).dispose();
console.log(JSON.stringify({ name: getBackend().name, atOnce, afterOp: getBackend().info() }));
process.exit(0);
`;

describe('the default backend of a plain import', () => {
  beforeAll(() => {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build (npm test does)`);
  });

  it('is wasm with min(cores, cap) threads and relaxed SIMD where the runtime has it, as info() says', async () => {
    // Whether this runtime compiles the relaxed build at all (after the same flag the backend sets).
    enableRelaxedSimd();
    const relaxed = WebAssembly.validate(Buffer.from(binaries.relaxedThreads, 'base64'));
    const threads = Math.min(availableParallelism(), DEFAULT_MAX_THREADS);
    const r = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: process.cwd() });
    const out = JSON.parse(r.stdout.trim());
    expect(out.name).toBe('wasm');
    for (const info of [out.atOnce, out.afterOp]) {
      expect(info.variant).toBe(relaxed ? 'relaxedThreads' : 'simdThreads');
      expect(info.relaxedSimd).toBe(relaxed);
      expect(info.threads).toBe(threads);
      expect(info.threadsRequested).toBe(threads);
    }
  });
});
