// Normalization layers against hand-computed values and PyTorch's formulas, names and defaults.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { BatchNorm1d, BatchNorm2d, LayerNorm, RMSNorm, GroupNorm, batchNorm, layerNorm, rmsNorm, groupNorm } from '../../src/nn/layers/norm.js';

const f64 = { dtype: 'float64' as const };

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i], `element ${i}`).toBeCloseTo(expected[i], digits);
}

const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());

/** x = 0..15 as [2, 2, 2, 2]: channel 0 holds 0-3 and 8-11 (mean 5.5), channel 1 holds 4-7 and 12-15 (mean 9.5). */
const x16 = () => nb.reshape(nb.arange(0, 16), [2, 2, 2, 2]);
/** Σ(x − mean)² per channel = 2·(5.5² + 4.5² + 3.5² + 2.5²) = 138 over n = 8 values. */
const BIASED = 138 / 8,
  UNBIASED = 138 / 7;

/** Per-channel normalization of NCHW data in plain JS. */
function bnRef(x: ArrayLike<number>, shape: number[], mean: number[], v: number[], w = [1, 1], b = [0, 0], eps = 1e-5): number[] {
  const [, C, H, W] = shape;
  return Array.from(x, (xv, i) => {
    const c = Math.floor(i / (H * W)) % C;
    return ((xv - mean[c]) / Math.sqrt(v[c] + eps)) * w[c] + b[c];
  });
}

describe('BatchNorm2d', () => {
  it('trains on batch statistics, tracks running ones with the unbiased variance, and evaluates with them', () => {
    const bn = new BatchNorm2d(2);
    const x = x16();
    const y = bn.forward(x);
    expect(y.shape).toEqual([2, 2, 2, 2]);
    expectClose(vals(y), bnRef(x.dataSync(), [2, 2, 2, 2], [5.5, 9.5], [BIASED, BIASED]));
    expect(y.dataSync()[0]).toBeCloseTo(-1.3242440001, 5); // (0 − 5.5) / √(17.25 + 1e-5)
    // one step, momentum 0.1: 0.9·0 + 0.1·mean, 0.9·1 + 0.1·(138/7)
    expectClose(vals(bn.running_mean!), [0.55, 0.95]);
    expectClose(vals(bn.running_var!), [2.8714285714, 2.8714285714]);
    expect(bn.num_batches_tracked!.dtype).toBe('int32');
    expect(bn.num_batches_tracked!.shape).toEqual([]);
    expect(bn.num_batches_tracked!.itemSync()).toBe(1);
    bn.forward(x);
    expectClose(vals(bn.running_mean!), [1.045, 1.805]);
    expectClose(vals(bn.running_var!), [4.5557142857, 4.5557142857]);
    expect(bn.num_batches_tracked!.itemSync()).toBe(2);

    // eval: running statistics and the affine parameters; nothing is updated
    bn.loadStateDict({ weight: nb.tensor([2, -1]), bias: nb.tensor([0.5, 1]) }, { strict: false });
    bn.eval();
    const z = bn.forward(x);
    expectClose(vals(z), bnRef(x.dataSync(), [2, 2, 2, 2], [1.045, 1.805], [4.5557142857, 4.5557142857], [2, -1], [0.5, 1]), 4);
    expectClose(vals(bn.running_mean!), [1.045, 1.805]);
    expect(bn.num_batches_tracked!.itemSync()).toBe(2);
    // and training again normalizes with the batch's statistics, then the affine map
    bn.train();
    expectClose(vals(bn.forward(x)), bnRef(x.dataSync(), [2, 2, 2, 2], [5.5, 9.5], [BIASED, BIASED], [2, -1], [0.5, 1]));
    expect(bn.num_batches_tracked!.itemSync()).toBe(3);
  });

  it('momentum null keeps a cumulative average', () => {
    const bn = new BatchNorm2d(2, { momentum: null });
    bn.forward(x16());
    expectClose(vals(bn.running_mean!), [5.5, 9.5]);
    expectClose(vals(bn.running_var!), [UNBIASED, UNBIASED]);
    bn.forward(nb.mul(x16(), 2)); // means [11, 19], unbiased variance 4·138/7
    expectClose(vals(bn.running_mean!), [8.25, 14.25]);
    expectClose(vals(bn.running_var!), [(UNBIASED + 4 * UNBIASED) / 2, (UNBIASED + 4 * UNBIASED) / 2], 4);
    expect(bn.num_batches_tracked!.itemSync()).toBe(2);
  });

  it('has PyTorch state dict names, and its buffers stay the same objects and survive scope()', () => {
    const bn = new BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect([...bn.namedParameters()].map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(vals(bn.weight!)).toEqual([1, 1, 1]);
    expect(vals(bn.bias!)).toEqual([0, 0, 0]);
    expect(vals(bn.running_mean!)).toEqual([0, 0, 0]);
    expect(vals(bn.running_var!)).toEqual([1, 1, 1]);
    expect(bn.num_batches_tracked!.itemSync()).toBe(0);
    const [rm, rv, nbt] = [bn.running_mean, bn.running_var, bn.num_batches_tracked];
    const x = nb.randn([4, 3, 2, 2], { generator: new nb.Generator(1) });
    nb.scope(() => {
      bn.forward(x);
    });
    expect(bn.running_mean).toBe(rm);
    expect(bn.running_var).toBe(rv);
    expect(bn.num_batches_tracked).toBe(nbt);
    expect(rm!.disposed || rv!.disposed || nbt!.disposed).toBe(false);
    expect(vals(rm!).some((v) => v !== 0)).toBe(true);
    expect(nbt!.itemSync()).toBe(1);
    // a state dict round trip copies the running statistics
    const other = new BatchNorm2d(3);
    other.loadStateDict(bn.stateDict());
    expect(vals(other.running_var!)).toEqual(vals(rv!));
    expect(other.num_batches_tracked!.itemSync()).toBe(1);
    expect(bn.toString()).toBe('BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)');
  });

  it('affine false and trackRunningStats false drop the parameters and buffers', () => {
    const bn = new BatchNorm2d(2, { affine: false, trackRunningStats: false });
    expect(Object.keys(bn.stateDict())).toEqual([]);
    const x = x16();
    const want = bnRef(x.dataSync(), [2, 2, 2, 2], [5.5, 9.5], [BIASED, BIASED]);
    expectClose(vals(bn.forward(x)), want);
    bn.eval(); // no running statistics: batch statistics in eval too, as PyTorch
    expectClose(vals(bn.forward(x)), want);
    expect(bn.toString()).toBe('BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)');
  });

  it('double() converts the float buffers and keeps num_batches_tracked int32', () => {
    const bn = new BatchNorm2d(2).double();
    expect(bn.weight!.dtype).toBe('float64');
    expect(bn.running_mean!.dtype).toBe('float64');
    expect(bn.running_var!.dtype).toBe('float64');
    expect(bn.num_batches_tracked!.dtype).toBe('int32');
    const y = bn.forward(nb.cast(x16(), 'float64'));
    expect(y.dtype).toBe('float64');
    expect(bn.running_var!.dtype).toBe('float64');
    expectClose(vals(bn.running_var!), [0.9 + 0.1 * UNBIASED, 0.9 + 0.1 * UNBIASED], 10);
  });

  it('gives gradients to input, weight and bias (gradcheck in float64)', () => {
    const g = new nb.Generator(5);
    const rn = (s: number[]) => nb.randn(s, { ...f64, generator: g });
    const bn = new BatchNorm2d(3).double();
    expect(nb.gradcheck((x) => bn.forward(x), [rn([2, 3, 2, 2])]).ok).toBe(true);
    const train = nb.gradcheck((x, w, b) => batchNorm(x, null, null, { weight: w, bias: b, training: true }), [rn([3, 2, 2]), rn([2]), rn([2])]);
    expect(train.message).toBe('');
    expect(train.ok).toBe(true);
    bn.eval();
    expect(nb.gradcheck((x) => bn.forward(x), [rn([2, 3, 2, 2])]).ok).toBe(true);
    const rm = rn([2]),
      rv = nb.add(nb.abs(rn([2])), 0.5);
    expect(nb.gradcheck((x, w, b) => batchNorm(x, rm, rv, { weight: w, bias: b }), [rn([3, 2, 2]), rn([2]), rn([2])]).ok).toBe(true);
    // through the module: d Σy / d bias = number of values per channel
    const m = new BatchNorm2d(2);
    nb.sum(nb.mul(m.forward(x16()), nb.reshape(nb.tensor([1, 3]), [1, 2, 1, 1]))).backward();
    expectClose(vals(m.bias!.grad!), [8, 24]);
  });

  it('names the layer and both shapes in shape errors', () => {
    const bn = new BatchNorm2d(4);
    expect(() => bn.forward(nb.zeros([2, 3, 5, 5]))).toThrow('BatchNorm2d: expected input of shape [N,4,H,W] (numFeatures 4), got [2,3,5,5]');
    expect(() => bn.forward(nb.zeros([2, 4, 5]))).toThrow('BatchNorm2d: expected 4D input of shape [N,4,H,W], got 3D input [2,4,5]');
    expect(() => new BatchNorm1d(4).forward(nb.zeros([1, 4]))).toThrow(/more than 1 value per channel when training, got input \[1,4\]/);
    expect(() => batchNorm(nb.zeros([2, 3]), nb.zeros([4]), nb.ones([4]))).toThrow('batchNorm: runningMean [4] does not match the 3 channels of input [2,3]');
  });
});

describe('BatchNorm1d', () => {
  it('normalizes [N, C] and [N, C, L] per feature', () => {
    const x2 = nb.tensor([
      [1, 10],
      [3, 20],
      [8, 60],
    ]); // feature 0: mean 4, Σd² = 26; feature 1: mean 30, Σd² = 1400
    const bn = new BatchNorm1d(2);
    const y = vals(bn.forward(x2));
    const ref = [[1, 3, 8].map((v) => (v - 4) / Math.sqrt(26 / 3 + 1e-5)), [10, 20, 60].map((v) => (v - 30) / Math.sqrt(1400 / 3 + 1e-5))];
    expectClose(y, [ref[0][0], ref[1][0], ref[0][1], ref[1][1], ref[0][2], ref[1][2]]);
    expectClose(vals(bn.running_mean!), [0.4, 3]);
    expectClose(vals(bn.running_var!), [0.9 + 0.1 * 13, 0.9 + 0.1 * 700], 4);
    const x3 = nb.reshape(nb.arange(0, 16), [2, 2, 4]); // channel 0: 0-3, 8-11; channel 1: 4-7, 12-15
    const bn3 = new BatchNorm1d(2);
    expectClose(vals(bn3.forward(x3)), bnRef(x3.dataSync(), [2, 2, 1, 4], [5.5, 9.5], [BIASED, BIASED]));
    expectClose(vals(bn3.running_var!), [0.9 + 0.1 * UNBIASED, 0.9 + 0.1 * UNBIASED]);
    expect(() => bn3.forward(nb.zeros([2, 2, 2, 2]))).toThrow('BatchNorm1d: expected 2D or 3D input of shape [N,2] or [N,2,L], got 4D input [2,2,2,2]');
  });
});

/** Normalize each contiguous group of `n` values in plain JS: (v − mean) / √(var + eps) (biased var), or v / √(mean v² + eps) for RMS. */
function groupsRef(x: ArrayLike<number>, n: number, eps: number, rms = false): number[] {
  const out: number[] = [];
  for (let s = 0; s < x.length; s += n) {
    const g = Array.from(x).slice(s, s + n);
    const m = rms ? 0 : g.reduce((a, b) => a + b, 0) / n;
    const v = g.reduce((a, b) => a + (b - m) ** 2, 0) / n;
    for (const e of g) out.push((e - m) / Math.sqrt(v + eps));
  }
  return out;
}

describe('LayerNorm', () => {
  it('normalizes over the trailing dims, then weight and bias', () => {
    const x = nb.randn([2, 2, 3], { generator: new nb.Generator(3) });
    const ln = new LayerNorm([2, 3]);
    expect(Object.keys(ln.stateDict())).toEqual(['weight', 'bias']);
    expect(vals(ln.weight!)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(vals(ln.bias!)).toEqual([0, 0, 0, 0, 0, 0]);
    expectClose(vals(ln.forward(x)), groupsRef(x.dataSync(), 6, 1e-5));
    const w = [1, 2, 3, -1, 0.5, 0],
      b = [0, 1, -1, 2, 0, 3];
    ln.loadStateDict({ weight: nb.tensor([w.slice(0, 3), w.slice(3)]), bias: nb.tensor([b.slice(0, 3), b.slice(3)]) });
    const ref = groupsRef(x.dataSync(), 6, 1e-5).map((v, i) => v * w[i % 6] + b[i % 6]);
    expectClose(vals(ln.forward(x)), ref);
    // one trailing dim, a larger eps
    const ln1 = new LayerNorm(3, { eps: 0.1 });
    expectClose(vals(ln1.forward(x)), groupsRef(x.dataSync(), 3, 0.1));
    expect(ln1.toString()).toBe('LayerNorm((3,), eps=0.1, elementwise_affine=True)');
    expect(new LayerNorm([2, 3]).toString()).toBe('LayerNorm((2, 3), eps=1e-05, elementwise_affine=True)');
  });

  it('bias false and elementwiseAffine false', () => {
    expect(Object.keys(new LayerNorm(4, { bias: false }).stateDict())).toEqual(['weight']);
    const ln = new LayerNorm(4, { elementwiseAffine: false });
    expect(ln.weight).toBe(null);
    expect(Object.keys(ln.stateDict())).toEqual([]);
    const x = nb.tensor([[1, 2, 3, 4]]);
    expectClose(vals(ln.forward(x)), groupsRef([1, 2, 3, 4], 4, 1e-5));
  });

  it('gradcheck and shape errors', () => {
    const g = new nb.Generator(6);
    const rn = (s: number[]) => nb.randn(s, { ...f64, generator: g });
    expect(nb.gradcheck((x, w, b) => layerNorm(x, [2, 3], w, b), [rn([2, 2, 3]), rn([2, 3]), rn([2, 3])]).ok).toBe(true);
    const ln = new LayerNorm(3).double();
    expect(nb.gradcheck((x) => ln.forward(x), [rn([4, 3])]).ok).toBe(true);
    expect(() => new LayerNorm([4]).forward(nb.zeros([2, 3]))).toThrow('LayerNorm: input [2,3] does not end in normalizedShape [4] (expected [*,4])');
  });
});

describe('RMSNorm', () => {
  it('divides by the root mean square; the default eps is finfo(float32).eps', () => {
    const x = nb.randn([3, 4], { generator: new nb.Generator(4) });
    const rms = new RMSNorm(4);
    expect(Object.keys(rms.stateDict())).toEqual(['weight']);
    expect(rms.eps).toBe(null);
    expectClose(vals(rms.forward(x)), groupsRef(x.dataSync(), 4, 1.1920928955078125e-7, true));
    // tiny inputs make eps visible: 1e-4 / √(1e-8 + 2⁻²³)
    const tiny = nb.full([1, 4], 1e-4);
    const want = 1e-4 / Math.sqrt(1e-8 + 2 ** -23);
    expectClose(vals(rms.forward(tiny)), [want, want, want, want], 4);
    expect(want).toBeLessThan(0.3); // without eps it would be 1
    const w = [2, -1, 0.5, 3];
    rms.loadStateDict({ weight: nb.tensor(w) });
    expectClose(
      vals(rms.forward(x)),
      groupsRef(x.dataSync(), 4, 1.1920928955078125e-7, true).map((v, i) => v * w[i % 4]),
    );
    const rms2 = new RMSNorm([3, 4], { eps: 0.5, elementwiseAffine: false });
    expect(rms2.weight).toBe(null);
    expectClose(vals(rms2.forward(x)), groupsRef(x.dataSync(), 12, 0.5, true));
    expect(rms.toString()).toBe('RMSNorm((4,), eps=None, elementwise_affine=True)');
  });

  it('gradcheck and shape errors', () => {
    const g = new nb.Generator(7);
    const rn = (s: number[]) => nb.randn(s, { ...f64, generator: g });
    expect(nb.gradcheck((x, w) => rmsNorm(x, [3], w, 1e-6), [rn([2, 3]), rn([3])]).ok).toBe(true);
    const m = new RMSNorm([2, 3]).double();
    expect(nb.gradcheck((x) => m.forward(x), [rn([2, 2, 3])]).ok).toBe(true);
    expect(() => m.forward(nb.zeros([2, 3, 2]))).toThrow('RMSNorm: input [2,3,2] does not end in normalizedShape [2,3] (expected [*,2,3])');
  });
});

describe('GroupNorm', () => {
  it('normalizes each group of channels over its channels and positions', () => {
    const x = nb.randn([2, 4, 3], { generator: new nb.Generator(8) });
    const gn = new GroupNorm(2, 4);
    expect(Object.keys(gn.stateDict())).toEqual(['weight', 'bias']);
    // NCL is contiguous, so each group of 2 channels is a run of 2·3 = 6 values
    expectClose(vals(gn.forward(x)), groupsRef(x.dataSync(), 6, 1e-5));
    const w = [1, 2, -1, 0.5],
      b = [0, 1, 2, 3];
    gn.loadStateDict({ weight: nb.tensor(w), bias: nb.tensor(b) });
    const ref = groupsRef(x.dataSync(), 6, 1e-5).map((v, i) => v * w[Math.floor(i / 3) % 4] + b[Math.floor(i / 3) % 4]);
    expectClose(vals(gn.forward(x)), ref);
    // four groups: per channel (instance norm); on a 4-D input
    const x4 = nb.randn([1, 4, 2, 2], { generator: new nb.Generator(9) });
    expectClose(vals(new GroupNorm(4, 4, { affine: false }).forward(x4)), groupsRef(x4.dataSync(), 4, 1e-5));
    expect(gn.toString()).toBe('GroupNorm(2, 4, eps=1e-05, affine=True)');
  });

  it('gradcheck, divisibility and shape errors', () => {
    const g = new nb.Generator(10);
    const rn = (s: number[]) => nb.randn(s, { ...f64, generator: g });
    expect(nb.gradcheck((x, w, b) => groupNorm(x, 2, w, b), [rn([2, 4, 2]), rn([4]), rn([4])]).ok).toBe(true);
    const gn = new GroupNorm(3, 6).double();
    expect(nb.gradcheck((x) => gn.forward(x), [rn([1, 6, 2])]).ok).toBe(true);
    expect(() => new GroupNorm(3, 4)).toThrow('GroupNorm: numChannels 4 must be divisible by numGroups 3');
    expect(() => new GroupNorm(2, 4).forward(nb.zeros([2, 6, 3]))).toThrow('GroupNorm: expected input of shape [N,4,*], got [2,6,3]');
  });
});
