// Runs before every test file: selects the backend of this vitest project (see vitest.config.ts).
import { setBackend, getBackend } from '../src/index.js';
import { enableRelaxedSimd } from '../src/platform/relaxed-simd.js';

if (process.env.NABLA_TEST_RELAXED) enableRelaxedSimd();
const name = process.env.NABLA_TEST_BACKEND;
if (name) await setBackend(name);
const variant = (getBackend().info?.() as { variant?: string } | undefined)?.variant;
if (process.env.NABLA_TEST_RELAXED && variant && !variant.startsWith('relaxed')) {
  throw new Error(`the wasm-relaxed project expected a relaxed-SIMD variant, got ${variant}`);
}
