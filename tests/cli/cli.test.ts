// The `nabla` command as a user runs it: the built bin, flags, JSON lines, checkpoints, errors.
import { describe, it, expect, beforeAll } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { nabla, bin } from '../helpers/cli.js';
import { DEFAULT_MAX_THREADS } from '../../src/backends/wasm/pool.js';

describe('nabla CLI', () => {
  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
  });

  it('trains MNIST briefly with --json, beats 90%, saves a checkpoint that eval reloads', async () => {
    const dir = await tempDir('nabla-cli-');
    const ckpt = join(dir, 'mnist');
    const r = await nabla('train', 'mnist', '--epochs', '1', '--limit', '20000', '--json', '--save', ckpt, '--seed', '1');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['epoch', 'end']);
    expect(Object.keys(lines[0]).sort()).toEqual(['acc', 'epoch', 'event', 'loss', 'seconds', 'val_acc', 'val_loss']);
    expect(lines[1].test_acc).toBeGreaterThan(0.9);
    expect((await readdir(ckpt)).sort()).toEqual(['config.json', 'model.safetensors', 'nabla-checkpoint.json', 'optimizer.safetensors', 'trainer_state.json']);
    const e = await nabla('eval', 'mnist', '--load', ckpt, '--json');
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout.trim());
    expect(ev.test_acc).toBeCloseTo(lines[1].test_acc, 6);
    // A language-model command on it says what it holds and what to use.
    const g = await nabla('generate', ckpt);
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/config\.json is a nabla 'mlp' checkpoint for mnist \(evaluate it with `nabla eval mnist --load DIR`\), not a Hugging Face model; supported: gpt2/);
  });

  it('trains the CNN (short form) with a history chart; eval prints a per-class report and draws pictures', async () => {
    const dir = await tempDir('nabla-cli-cnn-');
    const ckpt = join(dir, 'cnn');
    const r = await nabla('train', 'mnist', '--model', 'cnn', '--epochs', '2', '--limit', '2000', '--test-limit', '1000', '--json', '--save', ckpt, '--plot', join(dir, 'history'));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['epoch', 'epoch', 'end', 'plot']);
    expect(lines[2].test_acc).toBeGreaterThan(0.6);
    expect(lines[3].files).toEqual([join(dir, 'history.svg'), join(dir, 'history.png')]);
    const svg = await readFile(join(dir, 'history.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('val_accuracy'.replace('val_', '')); // an accuracy panel
    expect(svg).toContain('validation');
    expect([...(await readFile(join(dir, 'history.png'))).subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(JSON.parse(await readFile(join(ckpt, 'config.json'), 'utf8')).type).toBe('cnn');

    const e = await nabla('eval', 'mnist', '--load', ckpt, '--limit', '1000', '--confusion', join(dir, 'cm.png'), '--samples', join(dir, 'samples.svg'));
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(new RegExp(`accuracy ${(100 * lines[2].test_acc).toFixed(2)}%`));
    expect(e.stdout).toMatch(/precision\s+recall\s+f1-score\s+support/);
    for (let d = 0; d < 10; d++) expect(e.stdout).toMatch(new RegExp(`\\n\\s+${d}\\s+[01]\\.\\d{4}\\s+[01]\\.\\d{4}\\s+[01]\\.\\d{4}\\s+\\d+`));
    expect(e.stdout).toMatch(/macro avg/);
    expect(e.stdout).toMatch(/weighted avg\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+1000/);
    expect((await readFile(join(dir, 'cm.png'))).length).toBeGreaterThan(1000);
    expect(await readFile(join(dir, 'samples.svg'), 'utf8')).toMatch(/pred \d \/ true \d/);

    const bad = await nabla('train', 'mnist', '--model', 'resnet');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--model must be mlp or cnn, got 'resnet'/);
    const badPlot = await nabla('train', 'mnist', '--plot', join(dir, 'h.gif'));
    expect(badPlot.code).not.toBe(0);
    expect(badPlot.stderr).toMatch(/--plot must name a .png or .svg file/);
  });

  it('rejects wrong flags with a usage message and a non-zero exit', async () => {
    const a = await nabla('train', 'mnist', '--epochs', 'many');
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/--epochs must be an integer/);
    expect(a.stderr).toMatch(/Usage: nabla train mnist/);
    const b = await nabla('train', 'mnist', '--bogus');
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/unknown option '--bogus'/);
    const c = await nabla('train', 'mnist', '--optimizer', 'lbfgs');
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/--optimizer must be adam, adamw, sgd or rmsprop/);
    const d = await nabla('eval', 'mnist', '--load', '/nonexistent/ckpt');
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/no checkpoint at \/nonexistent\/ckpt/);
  });

  it('info lists the backends, the one in use, its features and threads', async () => {
    const r = await nabla('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(Object.keys(info.backends)).toEqual(expect.arrayContaining(['js', 'wasm']));
    expect(info.backend).toBe('wasm');
    expect(info.backends.wasm.simd).toBe(true);
    expect(info.backends.wasm.threads).toBe(Math.min(info.cores, DEFAULT_MAX_THREADS));
    const human = await nabla('info');
    expect(human.stdout).toMatch(/backend in use: wasm/);
    expect(human.stdout).toMatch(/wasm: variant=\w+/);
  });

  it('--threads sets the wasm thread count and rejects nonsense', async () => {
    const bad = await nabla('train', 'mnist', '--threads', '0');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--threads must be an integer >= 1/);
  });
});
