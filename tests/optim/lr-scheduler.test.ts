// Learning-rate schedules: the sequences torch.optim.lr_scheduler produces, worked out by hand.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { optim } from '../../src/index.js';
import { expectAllClose } from './helpers.js';

const sgd = (...lrs: number[]) => new optim.SGD(lrs.map((lr) => ({ params: [nb.zeros([1]).requiresGrad_()], lr })));
/** The first rate of each epoch 0..n−1: read, then step. */
const sequence = (s: { step(): void; getLastLr(): number[] }, n: number, group = 0) =>
  Array.from({ length: n }, () => {
    const lr = s.getLastLr()[group];
    s.step();
    return lr;
  });
const c = Math.SQRT1_2; // cos(π/4)

describe('LR schedulers', () => {
  it('StepLR: ×γ every stepSize epochs', () => {
    const opt = sgd(1, 0.4);
    const s = new optim.StepLR(opt, 2, 0.5);
    expectAllClose(sequence(s, 7), [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]);
    expectAllClose(s.getLastLr(), [0.125, 0.05]);
    expectAllClose(
      opt.paramGroups.map((g) => g.lr),
      [0.125, 0.05],
    ); // the rates live in the groups
    expect(() => new optim.StepLR(sgd(1), 0)).toThrow('StepLR: stepSize must be a positive integer, got 0');
  });

  it('ExponentialLR: ×γ every epoch', () => {
    expectAllClose(sequence(new optim.ExponentialLR(sgd(2), 0.5), 4), [2, 1, 0.5, 0.25]);
  });

  it('CosineAnnealingLR: ηmin + (base − ηmin)(1 + cos(πe/T))/2, rising again past T', () => {
    const s = new optim.CosineAnnealingLR(sgd(1), 4, 0.1);
    const expected = [1, 0.1 + (0.9 * (1 + c)) / 2, 0.55, 0.1 + (0.9 * (1 - c)) / 2, 0.1, 0.1 + (0.9 * (1 - c)) / 2, 0.55, 0.1 + (0.9 * (1 + c)) / 2, 1];
    expectAllClose(sequence(s, 9), expected);
    expect(() => new optim.CosineAnnealingLR(sgd(1), 0)).toThrow('CosineAnnealingLR: tMax must be a positive number of steps, got 0');
  });

  it('cosineWithWarmup: linear from 0, then cosine to minLr, then flat', () => {
    const s = optim.cosineWithWarmup(sgd(1), { warmupSteps: 2, totalSteps: 6, minLr: 0.1 });
    // steps 0, 1: 0, 1/2; then progress (s−2)/4 = 0, ¼, ½, ¾, 1, 1
    const expected = [0, 0.5, 1, 0.1 + (0.9 * (1 + c)) / 2, 0.55, 0.1 + (0.9 * (1 - c)) / 2, 0.1, 0.1];
    expectAllClose(sequence(s, 8), expected);
    const two = optim.cosineWithWarmup(sgd(1, 0.01), { warmupSteps: 4, totalSteps: 8 }); // minLr 0
    expectAllClose(sequence(two, 9, 1), [0, 0.0025, 0.005, 0.0075, 0.01, (0.01 * (1 + c)) / 2, 0.005, (0.01 * (1 - c)) / 2, 0]);
    expect(() => optim.cosineWithWarmup(sgd(1), { warmupSteps: 10, totalSteps: 5 })).toThrow(
      'cosineWithWarmup: need integers 0 <= warmupSteps <= totalSteps and totalSteps > 0, got warmupSteps 10, totalSteps 5',
    );
  });

  it('LambdaLR: base·fn(epoch), one function per group', () => {
    const s = new optim.LambdaLR(sgd(1, 0.2), [(e) => 0.5 ** e, (e) => 1 / (e + 1)]);
    expectAllClose(sequence(s, 4, 0), [1, 0.5, 0.25, 0.125]);
    expectAllClose(s.getLastLr(), [0.0625, 0.2 / 5]);
    expect(() => new optim.LambdaLR(sgd(1, 2), [(e) => e])).toThrow('LambdaLR: expected 2 lr lambdas (one per param group), got 1');
  });

  it('schedulers chain: the second starts from initialLr and both multiply the current rate', () => {
    const opt = sgd(1);
    const a = new optim.StepLR(opt, 1, 0.5);
    a.step();
    const b = new optim.ExponentialLR(opt, 0.5);
    expect(opt.paramGroups[0].initialLr).toBe(1);
    expect(b.baseLrs).toEqual([1]);
    expectAllClose(b.getLastLr(), [0.5]); // epoch 0 keeps the current rate
    a.step();
    b.step();
    expectAllClose([opt.paramGroups[0].lr], [0.125]);
  });

  it('stateDict round trip through JSON resumes the same sequence', () => {
    const a = new optim.StepLR(sgd(1), 3, 0.1);
    for (let i = 0; i < 4; i++) a.step();
    const saved = JSON.parse(JSON.stringify(a.stateDict()));
    expect(saved).toMatchObject({ lastEpoch: 4, stepCount: 5, baseLrs: [1], stepSize: 3, gamma: 0.1 });
    const opt = sgd(1);
    const b = new optim.StepLR(opt, 99, 0.9);
    b.loadStateDict(saved);
    expect(b.stepSize).toBe(3);
    expectAllClose([opt.paramGroups[0].lr], [0.1]);
    expectAllClose(sequence(b, 4), sequence(a, 4));
    expect(() => b.loadStateDict({ ...saved, baseLrs: [1, 2], lastLr: [1, 2] })).toThrow('StepLR.loadStateDict: the state is for 2 param groups, the optimizer has 1');
  });
});

describe('ReduceLROnPlateau', () => {
  it("mode 'min': cuts after more than `patience` bad epochs, then waits `cooldown`", () => {
    const opt = sgd(1);
    const s = new optim.ReduceLROnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 1 });
    // best 10 → 9; three epochs without a 1e-4 relative gain → ×0.5; one cooldown epoch is not
    // counted; 8 improves; three more bad epochs → ×0.5
    const metrics = [10, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8];
    const lrs = metrics.map((m) => {
      s.step(m);
      return opt.paramGroups[0].lr;
    });
    expect(lrs).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]);
    expect(s.getLastLr()).toEqual([0.25]);
  });

  it("mode 'max' with an absolute threshold, a floor, and a tensor metric", () => {
    const opt = sgd(1);
    const s = new optim.ReduceLROnPlateau(opt, { mode: 'max', thresholdMode: 'abs', threshold: 0.1, patience: 0, factor: 0.5, minLr: 0.3 });
    // 0.55 is not > 0.5 + 0.1 → ×0.5; 0.7 improves; then 0.5 → max(0.25, 0.3) = 0.3, and no lower
    const lrs = [0.5, 0.55, 0.7, 0.7, 0.7, 0.7].map((m) => {
      s.step(nb.scalar(m, 'float64'));
      return opt.paramGroups[0].lr;
    });
    expect(lrs).toEqual([1, 0.5, 0.5, 0.3, 0.3, 0.3]);
  });

  it('relative threshold: a gain smaller than best·threshold is not an improvement', () => {
    const opt = sgd(1);
    const s = new optim.ReduceLROnPlateau(opt, { patience: 0, threshold: 0.1 });
    s.step(1);
    s.step(0.95); // needs < 0.9
    expectAllClose([opt.paramGroups[0].lr], [0.1]);
    s.step(0.8);
    expectAllClose([opt.paramGroups[0].lr], [0.1]);
  });

  it('stateDict survives JSON (the initial best is infinite) and resumes identically', () => {
    const fresh = new optim.ReduceLROnPlateau(sgd(1));
    expect(JSON.parse(JSON.stringify(fresh.stateDict())).best).toBeNull();
    const optA = sgd(1);
    const a = new optim.ReduceLROnPlateau(optA, { patience: 1 });
    [5, 4, 4].forEach((m) => a.step(m));
    const optB = sgd(1);
    const b = new optim.ReduceLROnPlateau(optB, { patience: 1 });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    for (const m of [4, 3, 3, 3]) {
      a.step(m);
      b.step(m);
    }
    expect(optB.paramGroups[0].lr).toBe(optA.paramGroups[0].lr);
    expect(b.numBadEpochs).toBe(a.numBadEpochs);
  });

  it('rejects bad options', () => {
    expect(() => new optim.ReduceLROnPlateau(sgd(1), { factor: 1 })).toThrow('ReduceLROnPlateau: factor must be < 1, got 1');
    expect(() => new optim.ReduceLROnPlateau(sgd(1), { mode: 'avg' as never })).toThrow("ReduceLROnPlateau: mode must be 'min' or 'max', got 'avg'");
    expect(() => new optim.ReduceLROnPlateau(sgd(1), { thresholdMode: 'x' as never })).toThrow(/thresholdMode must be 'rel' or 'abs'/);
    expect(() => new optim.ReduceLROnPlateau(sgd(1, 2), { minLr: [0] })).toThrow('ReduceLROnPlateau: expected 2 minLr values (one per param group), got 1');
  });
});
