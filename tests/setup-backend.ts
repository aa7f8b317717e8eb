// Runs before every test file: selects the backend of this vitest project (see vitest.config.ts)
// and, since the CPU projects run their files one after another in the same process (isolate:
// false), puts back the process-wide settings a file may have changed (the fused-op mode and the
// wasm thread count) and collects what earlier files left unreferenced: a tensor collected later
// gives its buffer back (FinalizationRegistry) in the middle of this file's tests, and their
// leak checks count live buffers.
import { setBackend, getBackend, registerBackend, createWasmBackend, setFusedMode, setThreads, getThreads } from '../src/index.js';

const name = process.env.NABLA_TEST_BACKEND;
const relaxed = !!process.env.NABLA_TEST_RELAXED;
// The `wasm` project pins the plain SIMD builds (what runtimes without relaxed SIMD get); the
// `wasm-relaxed` project runs the default, which takes relaxed SIMD wherever the runtime has it.
if (name === 'wasm' && !relaxed) registerBackend('wasm', () => createWasmBackend({ variants: ['simdThreads', 'simd'] }));
if (name) await setBackend(name);
const variant = (getBackend().info?.() as { variant?: string } | undefined)?.variant;
if (variant && relaxed !== variant.startsWith('relaxed')) {
  throw new Error(`the ${relaxed ? 'wasm-relaxed' : 'wasm'} project expected ${relaxed ? 'a' : 'no'} relaxed-SIMD variant, got ${variant}`);
}

const { gc } = globalThis as { gc?: () => void };
if (gc) {
  gc();
  // The registry's callbacks run in tasks after the collection.
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}
setFusedMode(process.env.NABLA_COMPOSED === '1' ? 'composed' : 'fused');
if (getBackend().name === 'wasm') {
  // The thread count the backend started with, as the first file of this process found it.
  const state = globalThis as { nablaTestThreads?: number };
  state.nablaTestThreads ??= getThreads();
  if (getThreads() !== state.nablaTestThreads) setThreads(state.nablaTestThreads);
}
