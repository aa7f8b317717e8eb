// The command line on the webgpu backend as a user runs it: `nabla info` shows the adapter,
// `train mnist` (MLP and CNN) and `train gpt` train on the GPU and learn. Tiny runs: where there
// is no GPU this is SwiftShader, about 0.1 GFLOP/s.
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { webgpuUnavailable } from '../helpers/webgpu.js';
import { nabla, bin } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { SHAKESPEARE_PATH } from '../helpers/corpus.js';
import { SLOW_TESTS, slowSkipReason } from '../helpers/slow.js';

const unavailable = await webgpuUnavailable();
const jsonLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

// biome-ignore lint/suspicious/noIdenticalTestTitle: the suite and its skipped stand-in (which says why) share a title
describe.skipIf(!!unavailable)('nabla on --backend webgpu', () => {
  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
  });

  it('nabla info shows the adapter, its limits and features', async () => {
    const r = await nabla('info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const gpu = JSON.parse(r.stdout).backends.webgpu;
    expect(gpu.adapter.vendor, JSON.stringify(gpu)).toBeTruthy();
    expect(gpu.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(Array.isArray(gpu.features)).toBe(true);
  });

  // SwiftShader runs the MLP at a few steps a second and the CNN far slower: the MLP shows it
  // learns, the CNN that it trains end to end (the CNN's learning is tested on the CPU backends,
  // its kernels by the conformance suite).
  it('train mnist --model mlp learns on the GPU', async () => {
    const r = await nabla('train', 'mnist', '--backend', 'webgpu', '--limit', '384', '--epochs', '1', '--batch-size', '32', '--test-limit', '100', '--json');
    expect(r.code, r.stderr).toBe(0);
    const end = jsonLines(r.stdout).find((l) => l.event === 'end');
    expect(end?.test_acc, r.stdout).toBeGreaterThan(0.3); // 10% is chance
  });

  it.skipIf(!SLOW_TESTS)(`train mnist --model cnn trains on the GPU${slowSkipReason('20-40 s on SwiftShader; the conv kernels are in the webgpu conformance suite')}`, async () => {
    const r = await nabla('train', 'mnist', '--backend', 'webgpu', '--model', 'cnn', '--limit', '40', '--epochs', '1', '--batch-size', '16', '--test-limit', '16', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(Number.isFinite(lines.find((l) => l.event === 'epoch')?.loss), r.stdout).toBe(true);
    expect(lines.find((l) => l.event === 'end')?.test_acc, r.stdout).toBeGreaterThanOrEqual(0);
  });

  it('train gpt --backend webgpu trains and samples', async () => {
    const dir = await tempDir('nabla-gpu-lm-');
    const text = join(dir, 'text.txt');
    const corpus = SHAKESPEARE_PATH;
    const body = (await readFile(corpus, 'utf8')).slice(0, 20_000);
    await writeFile(text, body);
    const r = await nabla(
      'train',
      'gpt',
      '--backend',
      'webgpu',
      '--text',
      text,
      '--layers',
      '1',
      '--heads',
      '2',
      '--dim',
      '32',
      '--context',
      '16',
      '--batch-size',
      '4',
      // Six steps: SwiftShader compiles each kernel's pipeline once (most of this test's time), and
      // six steps at 1e-2 already bring the loss below a uniform guess.
      '--steps',
      '6',
      '--eval-every',
      '6',
      '--eval-iters',
      '2',
      '--sample-tokens',
      '10',
      '--lr',
      '1e-2',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const evals = jsonLines(r.stdout).filter((l) => l.event === 'eval');
    expect(evals.length).toBe(1);
    expect(evals[0].val_loss).toBeLessThan(Math.log(40)); // below a uniform guess over the characters
    expect(typeof evals[0].sample).toBe('string');
  });

  it('finetune --task classify --backend webgpu trains a classifier (no synchronous read of the loss)', async () => {
    const dir = await tempDir('nabla-gpu-clf-');
    const text = join(dir, 'text.txt');
    await writeFile(text, (await readFile(SHAKESPEARE_PATH, 'utf8')).slice(0, 5_000));
    const base = join(dir, 'base');
    const t = await nabla(
      'train',
      'gpt',
      '--text',
      text,
      '--layers',
      '1',
      '--heads',
      '2',
      '--dim',
      '16',
      '--context',
      '16',
      '--batch-size',
      '2',
      '--steps',
      '1',
      '--eval-every',
      '1',
      '--eval-iters',
      '1',
      '--sample-tokens',
      '0',
      '--save',
      base,
      '--json',
    ); // the base model, on the CPU
    expect(t.code, t.stderr).toBe(0);
    const data = join(dir, 'data.jsonl');
    await writeFile(data, Array.from({ length: 12 }, (_, i) => JSON.stringify({ text: i % 2 ? 'the king is kind' : 'the duke is vile', label: i % 2 ? 'good' : 'bad' })).join('\n'));
    const r = await nabla('finetune', base, '--task', 'classify', '--backend', 'webgpu', '--data', data, '--epochs', '1', '--batch-size', '4', '--save', join(dir, 'clf'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(Number.isFinite(lines.find((l) => l.event === 'epoch')?.loss), r.stdout).toBe(true);
    expect(lines.find((l) => l.event === 'end')?.labels).toEqual(['bad', 'good']);
  });
});

describe('nabla without a GPU adapter', () => {
  // A Vulkan driver list naming nothing that exists: Dawn finds no adapter.
  const env = { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' };
  it('info lists webgpu as unavailable with the reason, and the CPU backends still work', async () => {
    const r = await nabla.withEnv(env)('info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.backends.webgpu.unavailable).toMatch(/^webgpu: /);
    expect(info.backends.wasm.simd).toBe(true);
  });
  it('--backend webgpu fails with a clear message', async () => {
    const r = await nabla.withEnv(env)('train', 'mnist', '--backend', 'webgpu', '--limit', '64');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/webgpu: (no GPU adapter available|the optional package 'webgpu')/);
  });
});

describe.skipIf(!unavailable)('nabla on --backend webgpu', () => {
  it(`is not available here, so these are skipped: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
