// The `nabla` command as a user runs it: the built bin, flags, JSON lines, checkpoints, errors.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const bin = join(process.cwd(), 'dist/cli/nabla.js');

async function nabla(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('nabla CLI', () => {
  beforeAll(() => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
  });

  it('trains MNIST briefly with --json, beats 90%, saves a checkpoint that eval reloads', async () => {
    const dir = await tempDir('nabla-cli-');
    const ckpt = join(dir, 'mnist');
    const r = await nabla('train', 'mnist', '--epochs', '1', '--limit', '20000', '--json', '--save', ckpt, '--seed', '1');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['epoch', 'end']);
    expect(Object.keys(lines[0]).sort()).toEqual(['acc', 'epoch', 'event', 'loss', 'seconds', 'val_acc', 'val_loss']);
    expect(lines[1].test_acc).toBeGreaterThan(0.9);
    expect((await readdir(ckpt)).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    const e = await nabla('eval', 'mnist', '--load', ckpt, '--json');
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout.trim());
    expect(ev.test_acc).toBeCloseTo(lines[1].test_acc, 6);
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
    expect(info.backends.wasm.threads).toBe(info.cores);
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
