import { defineConfig } from 'vitest/config';

// The library suite runs once per CPU backend (the conformance requirement of DESIGN.md): the
// `wasm` project on the default backend, the `js` project on the reference backend. The CLI and
// example tests spawn the built program on its default backend, so they run once.
const shared = { testTimeout: 120_000, hookTimeout: 120_000, pool: 'forks' as const };
const once = ['tests/cli/**', 'tests/examples/**', 'tests/browser/**'];

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'wasm', include: ['tests/**/*.test.ts'], setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'wasm' } } },
      { test: { ...shared, name: 'js', include: ['tests/**/*.test.ts'], exclude: once, setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'js' } } },
    ],
  },
});
