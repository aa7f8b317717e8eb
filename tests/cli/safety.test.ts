// The command line refuses what would lose a user's data or waste their time (issue 14), before any
// training, with a message that says what to do.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { bin, nabla } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const tiny = ['--layers', '1', '--heads', '2', '--dim', '16', '--context', '8', '--batch-size', '2', '--eval-iters', '1', '--sample-tokens', '0'];

describe('nabla train gpt --save / --resume / --threads / --preset', () => {
  let root = '',
    text = '';
  beforeAll(async () => {
    root = await tempDir('nabla-cli-safety-');
    text = join(root, 'small.txt');
    await writeFile(text, 'To be, or not to be, that is the question. '.repeat(60));
  });

  it("--save onto a directory of the user's is refused before training and deletes nothing", async () => {
    const d = join(root, 'd');
    await mkdir(join(d, 'sub'), { recursive: true });
    await writeFile(join(d, 'thesis.txt'), 'draft');
    const r = await nabla('train', 'gpt', '--text', text, ...tiny, '--steps', '2', '--save', d);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists and is not a nabla checkpoint .*name a new or empty directory/);
    expect(r.stdout).not.toMatch(/step \d/);
    expect((await readdir(d)).sort()).toEqual(['sub', 'thesis.txt']);
    expect(await readFile(join(d, 'thesis.txt'), 'utf8')).toBe('draft');
  });

  it('--save . is refused before training (it was EBUSY after training)', async () => {
    const cwd = join(root, 'here');
    await mkdir(cwd);
    try {
      await promisify(execFile)(process.execPath, [bin, 'train', 'gpt', '--text', text, ...tiny, '--steps', '2', '--save', '.'], { cwd });
      expect.unreachable();
    } catch (e) {
      const err = e as { code: number; stderr: string; stdout: string };
      expect(err.code).toBe(1);
      expect(err.stderr).toMatch(/cannot save a checkpoint to \.: it is the current directory/);
    }
    expect(await readdir(cwd)).toEqual([]);
  });

  it('--resume saves to the resumed directory and says so', async () => {
    const a = join(root, 'a');
    const first = await nabla('train', 'gpt', '--text', text, ...tiny, '--steps', '2', '--eval-every', '2', '--save', a);
    expect(first.code, first.stderr).toBe(0);
    const again = await nabla('train', 'gpt', '--resume', a, '--text', text);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`checkpoints go to ${a}`);
  });

  it('--threads beyond the cores is capped with a warning', async () => {
    const r = await nabla('train', 'gpt', '--text', text, ...tiny, '--steps', '1', '--threads', '64');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--threads 64 is more than the \d+ cores here; using \d+/);
  });

  it('--preset names of Object.prototype are unknown presets', async () => {
    for (const p of ['__proto__', 'constructor', 'toString']) {
      const r = await nabla('train', 'gpt', '--text', text, '--preset', p, '--steps', '1');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`--preset must be one of`);
    }
  });

  it('a binary --text is refused', async () => {
    const binary = join(root, 'weights.bin');
    await writeFile(
      binary,
      Uint8Array.from({ length: 2048 }, (_, i) => (i * 97 + 13) % 256),
    );
    const r = await nabla('train', 'gpt', '--text', binary, ...tiny, '--steps', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/weights\.bin is not UTF-8 text/);
  });
});
