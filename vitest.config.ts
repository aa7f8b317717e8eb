import { defineConfig } from 'vitest/config';
import { swiftshaderEnv } from './tools/swiftshader.mjs';

// The library suite runs once per CPU backend (the conformance requirement of DESIGN.md): `wasm`
// on the default backend as a library user on Node 20 gets it (SIMD + threads), `wasm-relaxed`
// with relaxed SIMD on (Node 22+, browsers, and the CLI), `js` on the reference backend. The CLI,
// example, browser and docs-snippet tests spawn programs of their own, so they run once.
//
// The `webgpu` project runs the GPU backend's own suite (tests/backends/webgpu*.test.ts: the
// conformance cases against js, fused kernels, memory). Without a GPU it runs on SwiftShader, a
// software Vulkan driver from an npm dev dependency (tools/swiftshader.mjs); set
// NABLA_WEBGPU_DRIVER=system to use the machine's own Vulkan driver instead. Where neither works,
// the suite reports why and skips.
const shared = { testTimeout: 120_000, hookTimeout: 120_000, pool: 'forks' as const };
// Two test files at a time (vitest's default is one fewer than the cores: 1 on a 2-core machine);
// many spend their time starting programs or waiting on a single JS thread.
const once = ['tests/cli/**', 'tests/examples/**', 'tests/browser/**', 'tests/docs/snippets.test.ts', 'tests/reliability/kill-resume.test.ts'];
const gpu = ['tests/backends/webgpu*.test.ts'];

function gpuEnv(): Record<string, string> {
  if (process.env.NABLA_WEBGPU_DRIVER === 'system' || process.env.VK_ICD_FILENAMES) return {};
  const env = swiftshaderEnv();
  return 'reason' in env ? { NABLA_WEBGPU_SKIP: String(env.reason) } : env;
}

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: 'wasm', include: ['tests/**/*.test.ts'], exclude: gpu, setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'wasm' } } },
      { test: { ...shared, name: 'wasm-relaxed', include: ['tests/**/*.test.ts'], exclude: [...once, ...gpu], setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'wasm', NABLA_TEST_RELAXED: '1' } } },
      { test: { ...shared, name: 'js', include: ['tests/**/*.test.ts'], exclude: [...once, ...gpu], setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'js' } } },
      { test: { ...shared, name: 'webgpu', include: gpu, env: gpuEnv(), execArgv: ['--expose-gc'] } },
    ],
  },
});
