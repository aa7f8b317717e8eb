// Losses against values computed by hand from PyTorch's definitions.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
const F = nb.nn.functional;

const close = (t: nb.Tensor, v: number, digits = 5) => expect(t.itemSync()).toBeCloseTo(v, digits);
const lse = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));

describe('losses', () => {
  const logits = [
    [1, 2, 3],
    [1, -1, 0.5],
  ];
  const x = () => nb.tensor(logits, { dtype: 'float64' });
  const t = nb.tensor([2, 0], { dtype: 'int32' });
  const nll = (r: number[], c: number) => lse(r) - r[c];

  it('crossEntropy with class indices (mean, sum, none)', () => {
    const l0 = nll(logits[0], 2),
      l1 = nll(logits[1], 0);
    close(F.crossEntropy(x(), t), (l0 + l1) / 2, 10);
    close(F.crossEntropy(x(), t, { reduction: 'sum' }), l0 + l1, 10);
    expect(Array.from(F.crossEntropy(x(), t, { reduction: 'none' }).dataSync())).toEqual([expect.closeTo(l0, 10), expect.closeTo(l1, 10)]);
  });

  it('crossEntropy with class weights divides by the weight sum; ignoreIndex drops targets', () => {
    const w = nb.tensor([2, 1, 0.5], { dtype: 'float64' });
    const l0 = nll(logits[0], 2),
      l1 = nll(logits[1], 0);
    close(F.crossEntropy(x(), t, { weight: w }), (0.5 * l0 + 2 * l1) / 2.5, 10);
    close(F.crossEntropy(x(), nb.tensor([2, -100], { dtype: 'int32' })), l0, 10);
  });

  it('crossEntropy with label smoothing', () => {
    const eps = 0.1,
      C = 3;
    const smooth = (r: number[]) => r.reduce((s, v) => s + (lse(r) - v), 0) / C; // -Σ log p / C
    const want = ((1 - eps) * (nll(logits[0], 2) + nll(logits[1], 0)) + eps * (smooth(logits[0]) + smooth(logits[1]))) / 2;
    close(F.crossEntropy(x(), t, { labelSmoothing: eps }), want, 10);
  });

  it('crossEntropy with probability targets', () => {
    const p = nb.tensor(
      [
        [0.2, 0.3, 0.5],
        [1, 0, 0],
      ],
      { dtype: 'float64' },
    );
    const l0 = 0.2 * nll(logits[0], 0) + 0.3 * nll(logits[0], 1) + 0.5 * nll(logits[0], 2);
    close(F.crossEntropy(x(), p), (l0 + nll(logits[1], 0)) / 2, 10);
  });

  it('crossEntropy over [N, C, d] inputs', () => {
    const x3 = nb.tensor(
      [
        [
          [1, 0],
          [2, 0],
          [3, 0],
        ],
      ],
      { dtype: 'float64' },
    ); // N=1, C=3, d=2
    const t3 = nb.tensor([[2, 1]], { dtype: 'int32' });
    close(F.crossEntropy(x3, t3), (nll([1, 2, 3], 2) + nll([0, 0, 0], 1)) / 2, 10);
  });

  it('crossEntropy gradient is softmax - onehot (over N)', () => {
    const xv = x().requiresGrad_();
    F.crossEntropy(xv, t).backward();
    const g = xv.grad!.dataSync();
    const sm = logits.map((r) => r.map((v) => Math.exp(v - lse(r))));
    const want = [sm[0][0] / 2, sm[0][1] / 2, (sm[0][2] - 1) / 2, (sm[1][0] - 1) / 2, sm[1][1] / 2, sm[1][2] / 2];
    want.forEach((w, i) => expect(g[i]).toBeCloseTo(w, 10));
  });

  it('nllLoss, mseLoss, l1Loss', () => {
    const lp = nb.tensor(
      [
        [-0.5, -1.2],
        [-2.0, -0.1],
      ],
      { dtype: 'float64' },
    );
    close(F.nllLoss(lp, nb.tensor([1, 0], { dtype: 'int32' })), (1.2 + 2.0) / 2, 10);
    const a = nb.tensor([1, 2, 3]),
      b = nb.tensor([1.5, 2, 5]);
    close(F.mseLoss(a, b), (0.25 + 0 + 4) / 3);
    close(F.l1Loss(a, b), (0.5 + 0 + 2) / 3);
    expect(() => F.mseLoss(a, nb.zeros([2]))).toThrow('mseLoss: input and target shapes differ: [3] and [2]');
  });

  it('binaryCrossEntropy clamps log at -100; with logits it is stable', () => {
    const p = nb.tensor([0.9, 0.2, 0, 1]),
      y = nb.tensor([1, 0, 1, 1]);
    close(F.binaryCrossEntropy(p, y), (-Math.log(0.9) - Math.log(0.8) + 100 + 0) / 4, 4);
    const z = nb.tensor([100, -100, 0.3], { dtype: 'float64' }),
      yz = nb.tensor([0, 0, 1], { dtype: 'float64' });
    const sp = (v: number) => Math.log1p(Math.exp(-Math.abs(v))) + Math.max(v, 0);
    close(F.binaryCrossEntropyWithLogits(z, yz), (sp(100) + sp(-100) + sp(-0.3)) / 3, 10);
    close(F.binaryCrossEntropyWithLogits(z, yz, { posWeight: 2, reduction: 'sum' }), sp(100) + sp(-100) + 2 * sp(-0.3), 10);
    const zg = nb.tensor([30, -30]).requiresGrad_();
    F.binaryCrossEntropy(nb.sigmoid(zg), nb.tensor([1, 0])).backward();
    expect(Array.from(zg.grad!.dataSync()).every(Number.isFinite)).toBe(true);
  });
});
