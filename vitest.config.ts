import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { swiftshaderEnv } from './tools/swiftshader.mjs';

// The library suite runs once per CPU backend (the conformance requirement of DESIGN.md): `wasm`
// on the plain SIMD + threads build (what runtimes without relaxed SIMD get), `wasm-relaxed` on the
// default a library user gets (relaxed SIMD + threads), `js` on the reference backend. The CLI,
// example, browser, docs-snippet and default-backend tests spawn programs of their own, so they run once.
//
// The `webgpu` project runs the GPU backend's own suite (tests/backends/webgpu*.test.ts: the
// conformance cases against js, fused kernels, memory). Without a GPU it runs on SwiftShader, a
// software Vulkan driver from an npm dev dependency (tools/swiftshader.mjs); set
// NABLA_WEBGPU_DRIVER=system to use the machine's own Vulkan driver instead. Where neither works,
// the suite reports why and skips.
const shared = { testTimeout: 120_000, hookTimeout: 120_000, pool: 'forks' as const };
// The CPU projects run their files one after another in each worker process (isolate: false):
// importing nabla and starting the wasm backend once per worker instead of once per file saves
// about a minute of a clean run. tests/setup-backend.ts puts back the process-wide settings
// (fused mode, thread count) before each file and collects the garbage earlier files left (hence
// --expose-gc), so leak checks see only their own buffers; the webgpu project keeps a process per file.
const cpu = { ...shared, isolate: false, execArgv: ['--expose-gc'] };
// Two test files at a time (vitest's default is one fewer than the cores: 1 on a 2-core machine);
// many spend their time starting programs or waiting on a single JS thread.
const once = [
  'tests/cli/**',
  'tests/examples/**',
  'tests/browser/**',
  'tests/serve/page.test.ts',
  'tests/docs/snippets.test.ts',
  'tests/reliability/kill-resume.test.ts',
  'tests/backends/default-backend.test.ts',
];
// Suites that do not depend on the backend (file formats, tokenizers, pictures, the API docs) run
// in the wasm project only.
const backendFree = [
  'tests/architecture.test.ts',
  'tests/backends/prims.test.ts',
  'tests/text/**',
  'tests/viz/**',
  'tests/io/**',
  'tests/reliability/fuzz.test.ts',
  'tests/docs/api-docs.test.ts',
  'tests/serve/store.test.ts',
  'tests/serve/chat-routes.test.ts',
];

// The files that take longest (seconds alone, measured on a 2-core machine) start first, across
// projects, so that two workers finish together instead of one long file starting last; the rest
// follow, largest first. (Vitest orders by its cache of past durations, which a clean clone lacks.)
const SLOW: Record<string, number> = {
  'wasm:tests/docs/snippets.test.ts': 60,
  'webgpu:tests/backends/webgpu-cli.test.ts': 95,
  'wasm:tests/cli/lm.test.ts': 40,
  'webgpu:tests/backends/webgpu-fused.test.ts': 35,
  'wasm:tests/cli/cli.test.ts': 30,
  'webgpu:tests/backends/webgpu-matmul.test.ts': 28,
  'webgpu:tests/backends/webgpu.test.ts': 22,
  'wasm:tests/reliability/kill-resume.test.ts': 15,
  'wasm:tests/serve/page.test.ts': 15,
};
class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = process.cwd() + '/';
    const seconds = (f: TestSpecification) => SLOW[`${f.project.name}:${f.moduleId.replace(root, '')}`] ?? 0;
    const base = await super.sort(files);
    return base
      .map((f, i) => ({ f, i }))
      .sort((a, b) => seconds(b.f) - seconds(a.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
const gpu = ['tests/backends/webgpu*.test.ts'];

function gpuEnv(): Record<string, string> {
  if (process.env.NABLA_WEBGPU_DRIVER === 'system' || process.env.VK_ICD_FILENAMES) return {};
  const env = swiftshaderEnv();
  return 'reason' in env ? { NABLA_WEBGPU_SKIP: String(env.reason) } : env;
}

export default defineConfig({
  test: {
    maxWorkers: 2,
    sequence: { sequencer: SlowFirst },
    projects: [
      { test: { ...cpu, name: 'wasm', include: ['tests/**/*.test.ts'], exclude: gpu, setupFiles: ['tests/setup-backend.ts'], env: { NABLA_TEST_BACKEND: 'wasm' } } },
      {
        test: {
          ...cpu,
          name: 'wasm-relaxed',
          include: ['tests/**/*.test.ts'],
          exclude: [...once, ...backendFree, ...gpu],
          setupFiles: ['tests/setup-backend.ts'],
          env: { NABLA_TEST_BACKEND: 'wasm', NABLA_TEST_RELAXED: '1' },
        },
      },
      {
        test: {
          ...cpu,
          name: 'js',
          include: ['tests/**/*.test.ts'],
          exclude: [...once, ...backendFree, ...gpu],
          setupFiles: ['tests/setup-backend.ts'],
          env: { NABLA_TEST_BACKEND: 'js' },
        },
      },
      { test: { ...shared, name: 'webgpu', include: gpu, env: gpuEnv(), execArgv: ['--expose-gc'] } },
    ],
  },
});
