// The Trainer: gradient accumulation, step budgets, batched loss reads (logEvery), the schedule per
// optimizer step, evaluation every N steps, the resumable checkpoint, and no synchronous read.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { Trainer } from '../../src/train/trainer.js';
import { LambdaCallback, TrainingCheckpoint } from '../../src/train/callbacks.js';
import { loadCheckpoint, loadTrainingState } from '../../src/io/checkpoint.js';
import { tempDir } from '../helpers/tmp.js';

const F = nb.nn.functional;
type Batch = [nb.Tensor, nb.Tensor];

/** A 3 → 2 linear model with fixed weights (or these), and SGD with momentum (so the optimizer has state). */
function setup(lr = 0.1, state?: nb.nn.StateDict) {
  nb.manualSeed(4);
  const model = new nb.nn.Linear(3, 2);
  if (state) model.loadStateDict(state);
  const optimizer = new nb.optim.SGD(model.parameters(), { lr, momentum: 0.9 });
  return { model, module: model, optimizer, trainStep: ([x, y]: Batch) => F.mseLoss(model.forward(x), y) };
}

/** Endless random batches of `n` rows from `gen`; counts how many were pulled. */
function randomBatches(gen: nb.Generator, n: number, pulled = { count: 0 }): Iterable<Batch> {
  return {
    *[Symbol.iterator]() {
      for (;;) {
        pulled.count++;
        yield [nb.randn([n, 3], { generator: gen }), nb.randn([n, 2], { generator: gen })];
      }
    },
  };
}

const weights = (m: nb.nn.Module) => Object.values(m.stateDict()).map((t) => Array.from(t.dataSync()));

describe('Trainer', () => {
  it('accumulates gradients: two half batches make the step of one whole batch', async () => {
    const X = nb.randn([4, 3], { generator: new nb.Generator(1) }),
      Y = nb.randn([4, 2], { generator: new nb.Generator(2) });
    const whole = setup(),
      halves = setup();
    await new Trainer({
      ...whole,
      steps: 3,
      data: () => ({
        *[Symbol.iterator]() {
          for (;;) yield [X.clone(), Y.clone()] as Batch;
        },
      }),
    }).fit();
    const half = (i: number): Batch => [nb.narrow(X, 0, 2 * i, 2).clone(), nb.narrow(Y, 0, 2 * i, 2).clone()];
    const t = new Trainer({
      ...halves,
      steps: 3,
      gradAccum: 2,
      data: () => ({
        *[Symbol.iterator]() {
          for (;;) {
            yield half(0);
            yield half(1);
          }
        },
      }),
    });
    await t.fit();
    expect(t.step).toBe(3);
    const [a, b] = [weights(whole.model), weights(halves.model)];
    a.forEach((w, i) => w.forEach((v, j) => expect(b[i][j]).toBeCloseTo(v, 6)));
  });

  it('pulls only the batches its steps need, and steps the schedule once per optimizer step', async () => {
    const s = setup(1);
    const sched = new nb.optim.StepLR(s.optimizer, 1, 0.5);
    const pulled = { count: 0 };
    const t = new Trainer({ ...s, steps: 5, gradAccum: 2, scheduler: sched, data: () => randomBatches(new nb.Generator(3), 4, pulled) });
    const h = await t.fit();
    expect(pulled.count).toBe(10);
    expect(t.step).toBe(5);
    expect(s.optimizer.paramGroups[0].lr).toBeCloseTo(0.5 ** 5, 12);
    expect(h.epoch).toEqual([0]); // a run counted in steps is one endless epoch
  });

  it('reads losses every logEvery steps in one read: the same logs, every step reported in order, the guard names the step', async () => {
    const run = async (logEvery: number) => {
      const s = setup();
      const seen: [number, number, number][] = [];
      const t = new Trainer({
        ...s,
        steps: 10,
        logEvery,
        data: () => randomBatches(new nb.Generator(5), 4),
        callbacks: [
          new LambdaCallback({
            onBatchEnd: (batch, logs) => {
              seen.push([batch, logs.loss, t.stepLoss]);
            },
          }),
        ],
      });
      const h = await t.fit();
      return { seen, loss: h.history.loss, w: weights(s.model) };
    };
    const one = await run(1),
      four = await run(4);
    expect(four.seen.map(([b]) => b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(four).toEqual(one);

    const s = setup();
    const bad = (function* (): Generator<Batch> {
      for (let i = 0; ; i++) yield [i === 5 ? nb.full([4, 3], NaN) : nb.ones([4, 3]), nb.zeros([4, 2])];
    })();
    await expect(new Trainer({ ...s, steps: 20, logEvery: 4, data: () => bad }).fit()).rejects.toThrow('the loss became NaN at epoch 1, step 6');
  });

  it('keeps memory flat over steps with reads batched', async () => {
    const s = setup();
    const live: number[] = [];
    await new Trainer({
      ...s,
      steps: 40,
      logEvery: 3,
      gradAccum: 2,
      clipNorm: 1,
      data: () => randomBatches(new nb.Generator(6), 8),
      callbacks: [
        new LambdaCallback({
          onBatchEnd: (batch) => {
            if (batch >= 10 && batch % 3 === 2) live.push(nb.getBackend().liveBuffers());
          },
        }),
      ],
    }).fit();
    expect(Math.max(...live)).toBe(Math.min(...live));
  });

  it('evaluates every N steps and at the last; a run cut short resumes from its TrainingCheckpoint bit for bit', async () => {
    const X = nb.randn([16, 3], { generator: new nb.Generator(7) }),
      Y = nb.randn([16, 2], { generator: new nb.Generator(8) });
    const make = (dir?: string, resume?: Awaited<ReturnType<typeof loadTrainingState>>, crashAt?: number, state?: nb.nn.StateDict) => {
      const s = setup(0.1, state);
      const sched = new nb.optim.StepLR(s.optimizer, 2, 0.7);
      const gen = new nb.Generator(9);
      const evals: number[] = [];
      const t = new Trainer({
        ...s,
        steps: 7,
        evalEvery: 3,
        scheduler: sched,
        data: () => randomBatches(gen, 4),
        evaluate: async () => ({ val_loss: await nb.noGrad(() => F.mseLoss(s.model.forward(X), Y)).item() }),
        callbacks: [
          new LambdaCallback({
            onEvaluate: (step) => {
              evals.push(step);
            },
            onBatchEnd: () => {
              if (t.step === crashAt) throw new Error('simulated crash');
            },
          }),
          ...(dir ? [new TrainingCheckpoint({ dir, scheduler: sched, generators: { rng: gen }, resume, state: () => ({ evals }) })] : []),
        ],
      });
      return { t, model: s.model, evals };
    };
    const whole = make();
    await whole.t.fit();
    expect(whole.evals).toEqual([3, 6, 7]);

    const dir = join(await tempDir('nabla-trainer-'), 'ckpt');
    const cut = make(dir, undefined, 5);
    await expect(cut.t.fit()).rejects.toThrow('simulated crash');
    const state = await loadTrainingState(dir);
    expect(state.trainerState).toMatchObject({ step: 3, evals: [3] });
    const resumed = make(dir, state, undefined, (await loadCheckpoint(dir)).stateDict);
    await resumed.t.fit();
    expect(resumed.t.step).toBe(7);
    expect(resumed.evals).toEqual([6, 7]);
    expect(weights(resumed.model)).toEqual(weights(whole.model));
  });

  it('never reads synchronously: it trains with clipping where the backend has no readSync (as on webgpu)', async () => {
    const s = setup();
    const backend = nb.getBackend() as { readSync?: unknown };
    const readSync = backend.readSync;
    backend.readSync = undefined;
    try {
      const h = await new Trainer({ ...s, epochs: 2, clipNorm: 0.5, gradAccum: 2, data: () => [...Array(4)].map((_, i) => [nb.full([2, 3], i), nb.ones([2, 2])] as Batch) }).fit();
      expect(h.history.loss.every(Number.isFinite)).toBe(true);
    } finally {
      backend.readSync = readSync;
    }
  });
});
