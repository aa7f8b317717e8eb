// Checkpoints never lose a user's data (issue 14): only a checkpoint directory is ever replaced, a
// resumed run writes where the user says, every loader finds the newest complete copy after a save
// was cut short, leftovers are cleaned, and a second writer is refused.
import { describe, it, expect, beforeAll } from 'vitest';
import { cp, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { saveCheckpoint, loadCheckpoint, loadTrainingState, checkSaveTarget, CHECKPOINT_MARKER } from '../../src/io/checkpoint.js';
import { fromPretrained } from '../../src/models/pretrained.js';
import { GPT } from '../../src/models/gpt.js';
import { trainGpt, type GptTrainOptions } from '../../src/recipes/gpt.js';
import { trainMnist } from '../../src/recipes/mnist.js';
import { DivergedLossError } from '../../src/train/loss-guard.js';
import { tempDir } from '../helpers/tmp.js';

const sentence = 'To be, or not to be, that is the question: whether tis nobler in the mind to suffer. ';

function smallModel() {
  nb.manualSeed(0);
  return new nb.nn.Sequential(new nb.nn.Linear(3, 4), new nb.nn.ReLU(), new nb.nn.Linear(4, 2));
}

const save = (dir: string, step: number, model = smallModel()) => saveCheckpoint(dir, { model, config: { type: 'seq' }, trainerState: { step } });

async function stepOf(dir: string): Promise<unknown> {
  return (await loadTrainingState(dir)).trainerState?.step;
}

describe('saving never deletes what is not a checkpoint', () => {
  let root = '';
  beforeAll(async () => {
    root = await tempDir('nabla-safe-save-');
  });

  it("refuses a directory of the user's and leaves every file in it", async () => {
    const d = join(root, 'd');
    await mkdir(join(d, 'sub'), { recursive: true });
    await writeFile(join(d, 'thesis.txt'), 'draft');
    await expect(save(d, 1)).rejects.toThrow(/already exists and is not a nabla checkpoint.*name a new or empty directory/);
    expect((await readdir(d)).sort()).toEqual(['sub', 'thesis.txt']);
    expect(await readFile(join(d, 'thesis.txt'), 'utf8')).toBe('draft');
    expect((await readdir(root)).sort()).toEqual(['d']); // no temporary copy or lock left behind
  });

  it('refuses a file, the current directory and the directories above it', async () => {
    const f = join(root, 'file.txt');
    await writeFile(f, 'keep me');
    await expect(checkSaveTarget(f)).rejects.toThrow(/is a file, not a directory/);
    await expect(checkSaveTarget('.')).rejects.toThrow(/is the current directory or one above it/);
    await expect(checkSaveTarget('..')).rejects.toThrow(/is the current directory or one above it/);
    await expect(checkSaveTarget(process.cwd())).rejects.toThrow(/current directory/);
  });

  it('writes into a new or empty directory, then replaces its own checkpoint', async () => {
    const d = join(root, 'empty');
    await mkdir(d);
    await save(d, 1);
    await save(d, 2);
    expect(await stepOf(d)).toBe(2);
    expect((await readdir(d)).sort()).toEqual([CHECKPOINT_MARKER, 'config.json', 'model.safetensors', 'trainer_state.json'].sort());
    expect((await readdir(root)).filter((n) => n.startsWith('.empty'))).toEqual([]);
  });

  it("trainGpt refuses a --save directory of the user's before training", async () => {
    const d = join(root, 'thesis');
    await mkdir(join(d, 'sub'), { recursive: true });
    await writeFile(join(d, 'thesis.txt'), 'draft');
    const text = join(root, 'small.txt');
    await writeFile(text, sentence.repeat(40));
    let steps = 0;
    await expect(
      trainGpt({
        text,
        layers: 1,
        heads: 2,
        dim: 16,
        context: 8,
        batchSize: 2,
        steps: 2,
        save: d,
        onStep: () => {
          steps++;
        },
      }),
    ).rejects.toThrow(/train gpt --save: .*thesis already exists and is not a nabla checkpoint/);
    expect(steps).toBe(0);
    expect((await readdir(d)).sort()).toEqual(['sub', 'thesis.txt']);
  });

  it("trainMnist refuses a --save directory of the user's before training", async () => {
    const d = join(root, 'mnist-user');
    await mkdir(d);
    await writeFile(join(d, 'notes.md'), '# notes');
    await expect(trainMnist({ limit: 100, testLimit: 10, epochs: 1, save: d })).rejects.toThrow(/train mnist --save: .* is not a nabla checkpoint/);
    expect(await readdir(d)).toEqual(['notes.md']);
  });
});

describe('a resumed run saves where the user says', () => {
  const opts = (text: string): GptTrainOptions => ({ text, layers: 1, heads: 2, dim: 16, context: 8, batchSize: 2, steps: 4, evalEvery: 2, evalIters: 1, sampleTokens: 0, warmup: 1 });

  it('resuming a copy writes the copy, never the original nor a path read from trainer_state.json', async () => {
    const root = await tempDir('nabla-resume-copy-');
    const text = join(root, 'small.txt');
    await writeFile(text, sentence.repeat(40));
    const a = join(root, 'a'),
      b = join(root, 'b'),
      victim = join(root, 'victim');
    await expect(
      trainGpt({
        ...opts(text),
        save: a,
        onStep: (s) => {
          if (s.step === 3) throw new Error('cut');
        },
      }),
    ).rejects.toThrow('cut');
    expect(await stepOf(a)).toBe(2);
    await cp(a, b, { recursive: true });
    // A checkpoint from someone else, its stored save path pointed at a directory of the user's.
    await mkdir(victim);
    await writeFile(join(victim, 'keep.txt'), 'mine');
    const tsPath = join(b, 'trainer_state.json');
    const ts = JSON.parse(await readFile(tsPath, 'utf8'));
    ts.options.save = victim;
    await writeFile(tsPath, JSON.stringify(ts));
    const r = await trainGpt({ text, resume: b });
    expect(r.step).toBe(4);
    expect(r.saved).toBe(b);
    expect(await stepOf(b)).toBe(4);
    expect(await stepOf(a)).toBe(2);
    expect(await readdir(victim)).toEqual(['keep.txt']);
    expect(JSON.parse(await readFile(tsPath, 'utf8')).options.save).toBeUndefined(); // no path to write is stored
  });

  it('resuming with --save writes there and leaves the resumed directory as it was', async () => {
    const root = await tempDir('nabla-resume-save-');
    const text = join(root, 'small.txt');
    await writeFile(text, sentence.repeat(40));
    const a = join(root, 'a'),
      c = join(root, 'c');
    await expect(
      trainGpt({
        ...opts(text),
        save: a,
        onStep: (s) => {
          if (s.step === 3) throw new Error('cut');
        },
      }),
    ).rejects.toThrow('cut');
    const r = await trainGpt({ text, resume: a, save: c });
    expect(r.saved).toBe(c);
    expect(await stepOf(c)).toBe(4);
    expect(await stepOf(a)).toBe(2);
  });
});

describe('a save cut short', () => {
  /** A directory `.NAME.KIND-TAG` beside `dir` holding a complete checkpoint at `step`, as an interrupted save leaves it. */
  async function copyAs(dir: string, kind: 'tmp' | 'old', tag: string, step: number): Promise<string> {
    const src = join(dir, '..', `src-${tag}`);
    await save(src, step);
    const marker = JSON.parse(await readFile(join(src, CHECKPOINT_MARKER), 'utf8'));
    await writeFile(join(src, CHECKPOINT_MARKER), JSON.stringify({ ...marker, seq: step }));
    const to = join(dir, '..', `.${dir.split('/').pop()}.${kind}-${tag}`);
    await rename(src, to);
    return to;
  }

  it('between its two renames: every loader opens the newest complete copy; the next save cleans up', async () => {
    const root = await tempDir('nabla-cut-');
    const d = join(root, 'run');
    await copyAs(d, 'old', '111-aaaa', 1);
    await copyAs(d, 'old', '222-bbbb', 3);
    const tmp = await copyAs(d, 'tmp', '333-cccc', 4);
    await copyAs(d, 'old', '444-dddd', 2);
    await mkdir(join(root, '.run.tmp-555-eeee')); // a half-written copy: no marker
    expect(await stepOf(d)).toBe(4);
    expect((await loadTrainingState(d)).dir).toBe(tmp);
    expect((await loadCheckpoint(d)).trainerState?.step).toBe(4);
    await save(d, 5);
    expect(await stepOf(d)).toBe(5);
    expect((await readdir(root)).sort()).toEqual(['run']); // leftovers and the lock are gone
    expect(JSON.parse(await readFile(join(d, CHECKPOINT_MARKER), 'utf8')).seq).toBe(5); // continues the promoted copy's sequence
  });

  it('a GPT checkpoint cut between its renames still loads with fromPretrained and GPT.fromPretrained', async () => {
    const root = await tempDir('nabla-cut-gpt-');
    const d = join(root, 'gpt');
    nb.manualSeed(1);
    const model = new GPT({ vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2, dropout: 0 });
    await saveCheckpoint(d, { model, config: {}, writeModel: (dir) => model.savePretrained(dir) });
    await rename(d, join(root, '.gpt.old-1-abcd'));
    const { model: back } = await fromPretrained(d);
    const again = await GPT.fromPretrained(d);
    const w = model.stateDict()['transformer.wte.weight'].dataSync();
    expect(Array.from(back.stateDict()['transformer.wte.weight'].dataSync())).toEqual(Array.from(w));
    expect(Array.from(again.stateDict()['transformer.wte.weight'].dataSync())).toEqual(Array.from(w));
  });
});

describe('one writer at a time', () => {
  it("a second process saving to the same directory is refused with a clear message; a dead holder's lock is taken over", async () => {
    const root = await tempDir('nabla-lock-');
    const d = join(root, 'run');
    await save(d, 1);
    const lock = join(root, '.run.lock');
    // Another live process holds the lock (as a training run does for its whole length).
    const holder = spawn(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(lock)}, JSON.stringify({ pid: process.pid, host: require('os').hostname() })); setTimeout(() => {}, 60000)`,
    ]);
    try {
      for (let i = 0; i < 100 && !(await readdir(root)).includes('.run.lock'); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 100));
      await expect(save(d, 2)).rejects.toThrow(new RegExp(`run is being written by process ${holder.pid} on .*lock file .*\\.run\\.lock.*wait for that run to end or save elsewhere`));
      expect(await stepOf(d)).toBe(1);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // Its holder was killed: the lock is stale and the next save takes it.
    await save(d, 3);
    expect(await stepOf(d)).toBe(3);
    expect((await readdir(root)).sort()).toEqual(['run']);
  });

  it('saves of one process to one directory run one after another', async () => {
    const root = await tempDir('nabla-lock-same-');
    const d = join(root, 'run');
    await Promise.all([save(d, 1), save(d, 2), save(d, 3)]);
    expect(await stepOf(d)).toBe(3);
    expect((await readdir(root)).sort()).toEqual(['run']);
  });
});

describe('runs that cannot go on stop with a message', () => {
  it('MNIST with --lr 1e6 stops as diverged instead of finishing with loss 1e16', async () => {
    const p = trainMnist({ limit: 1000, testLimit: 100, epochs: 1, lr: 1e6 });
    await expect(p).rejects.toBeInstanceOf(DivergedLossError);
    await expect(p).rejects.toThrow(/the loss reached .* at epoch 1, step \d+, over 1000 times its first value .*: the run diverged; lower the learning rate/);
  });

  it('a --text that is not UTF-8 is refused before training', async () => {
    const root = await tempDir('nabla-binary-text-');
    const bin = join(root, 'model.bin');
    await writeFile(
      bin,
      Uint8Array.from({ length: 4096 }, (_, i) => (i * 151) % 256),
    );
    await expect(trainGpt({ text: bin, steps: 1 })).rejects.toThrow(/model\.bin is not UTF-8 text/);
    const nul = join(root, 'zeros.txt');
    await writeFile(nul, new Uint8Array(1000));
    await expect(trainGpt({ text: nul, steps: 1 })).rejects.toThrow(/zeros\.txt is not UTF-8 text \(it has NUL bytes/);
  });
});
