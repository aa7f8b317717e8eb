// Kill at random (issue 14): `nabla train gpt --save` is killed with SIGKILL at random moments,
// over and over. After every kill, each loader opens the newest complete checkpoint (the one of the
// last evaluation, or the one before it when the kill came during its save), and a run resumed
// until it finishes ends with the same bytes as a run never interrupted.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCheckpoint, loadTrainingState } from '../../src/io/checkpoint.js';
import { fromPretrained } from '../../src/models/pretrained.js';
import { GPT } from '../../src/models/gpt.js';
import { Generator } from '../../src/ops/random.js';
import { bin } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const ROUNDS = Number(process.env.NABLA_KILL_ROUNDS ?? 4);
const STEPS = 40,
  EVERY = 2;
const train = [
  'train',
  'gpt',
  '--layers',
  '1',
  '--heads',
  '2',
  '--dim',
  '16',
  '--context',
  '16',
  '--batch-size',
  '4',
  '--steps',
  String(STEPS),
  '--eval-every',
  String(EVERY),
  '--eval-iters',
  '1',
  '--sample-tokens',
  '0',
  '--seed',
  '7',
  '--json',
];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `nabla ...args`, killed with SIGKILL after `killAfterMs` when given. */
function nabla(args: string[], killAfterMs?: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args]);
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The step of the last evaluation a run printed (its checkpoint was then being written). */
function lastEval(stdout: string): number {
  let step = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const j = JSON.parse(line);
    if (j.event === 'eval') step = j.step;
  }
  return step;
}

describe('kill at random during training, then load and resume', () => {
  let root = '',
    text = '',
    reference: Uint8Array,
    wallMs = 0;
  beforeAll(async () => {
    root = await tempDir('nabla-kill-');
    text = join(root, 'text.txt');
    const words = 'the king shall speak and all the lords of england follow him to war tomorrow night when stars are bright'.split(' ');
    const g = new Generator(3),
      u = g.uniformArray(400 * 12);
    const lines = Array.from({ length: 400 }, (_, i) => Array.from({ length: 12 }, (_, j) => words[Math.floor(u[i * 12 + j] * words.length)]).join(' '));
    await writeFile(text, lines.join('\n'));
    const t0 = performance.now();
    const whole = await nabla([...train, '--text', text, '--save', join(root, 'reference')]);
    wallMs = performance.now() - t0;
    expect(whole.code, whole.stderr).toBe(0);
    reference = new Uint8Array(await readFile(join(root, 'reference', 'model.safetensors')));
  });

  it(`${ROUNDS} runs killed at random: every loader opens the newest complete checkpoint, resume ends bit for bit`, async () => {
    const delays = new Generator(11);
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = join(root, `run-${round}`);
      let kills = 0,
        known = 0;
      let args = [...train, '--text', text, '--save', dir];
      for (;;) {
        // Kill anywhere from the end of start-up to the end of a whole run; after three kills, let it finish.
        const delay = kills < 3 ? wallMs * (0.3 + 0.7 * delays.uniformArray(1)[0]) : undefined;
        const r = await nabla(args, delay);
        if (r.signal === null) {
          expect(r.code, r.stderr).toBe(0);
          break;
        }
        kills++;
        const printed = lastEval(r.stdout) || known; // a run killed before its first evaluation leaves the last checkpoint as it was
        let step = 0;
        try {
          step = (await loadTrainingState(dir)).trainerState!.step as number;
        } catch (e) {
          // Killed before its first checkpoint was complete.
          expect((e as Error).message).toMatch(/no checkpoint at/);
          expect(printed).toBeLessThanOrEqual(EVERY);
          args = [...train, '--text', text, '--save', dir];
          continue;
        }
        // The newest complete copy: the last evaluation's, or the one before when the kill came during its save.
        expect([printed, printed - EVERY]).toContain(step);
        expect(step).toBeGreaterThanOrEqual(known);
        known = step;
        const ck = await loadCheckpoint(dir);
        expect(ck.trainerState?.step).toBe(step);
        for (const t of Object.values(ck.stateDict)) t.dispose();
        const { model, tokenizer } = await fromPretrained(dir);
        expect(tokenizer).not.toBeNull();
        for (const t of Object.values(model.stateDict())) t.dispose();
        const gpt = await GPT.fromPretrained(dir);
        for (const t of Object.values(gpt.stateDict())) t.dispose();
        outcomes.push(`round ${round}: killed after ${printed} steps printed, loaded step ${step}`);
        args = ['train', 'gpt', '--resume', dir, '--text', text, '--json'];
      }
      expect(new Uint8Array(await readFile(join(dir, 'model.safetensors')))).toEqual(reference);
      expect((await readdir(root)).filter((n) => n.startsWith(`.run-${round}.`))).toEqual([]); // no leftovers, no lock
    }
    console.log(`kill-resume: ${outcomes.length} kills over ${ROUNDS} runs\n${outcomes.join('\n')}`);
  }, 600_000);
});
