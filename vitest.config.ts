import { defineConfig } from 'vitest/config';

// The library suite runs once per CPU backend (the conformance requirement of DESIGN.md): `wasm`
// on the default backend as a library user on Node 20 gets it (SIMD + threads), `wasm-relaxed`
// with relaxed SIMD on (Node 22+, browsers, and the CLI), `js` on the reference backend. The CLI,
// example and browser tests spawn programs of their own, so they run once.
const shared = { testTimeout: 120_000, hookTimeout: 120_000, pool: 'forks' as const };
const once = ['tests/cli/**', 'tests/examples/**', 'tests/browser/**'];

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'wasm', include: ['tests/**/*.test.ts'], setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'wasm' } } },
      { test: { ...shared, name: 'wasm-relaxed', include: ['tests/**/*.test.ts'], exclude: once, setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'wasm', NABLA_TEST_RELAXED: '1' } } },
      { test: { ...shared, name: 'js', include: ['tests/**/*.test.ts'], exclude: once, setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'js' } } },
    ],
  },
});
