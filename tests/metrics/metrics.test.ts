// Metrics: scikit-learn's functions (against the numbers its docstrings quote and plain-loop
// references), Keras metric objects (against Keras' docstring examples, and accumulated over
// batches against the host functions on the whole epoch), and the classification report.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import {
  precisionRecallF1,
  precisionScore,
  recallScore,
  f1Score,
  accuracyScore,
  confusionMatrix,
  rocAucScore,
  r2Score,
  meanSquaredError,
  meanAbsoluteError,
  topKAccuracy,
  topKAccuracyScore,
  classificationReport,
  Precision,
  Recall,
  F1Score,
  AUC,
  R2Score,
  TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
  MeanSquaredError,
  Mean,
  getMetric,
  type PRF,
} from '../../src/metrics/index.js';

const { keras } = nb;
const i32 = (v: number[]) => nb.tensor(v, { dtype: 'int32' });

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) expect(actual[i], `element ${i}`).toBeNaN();
    else expect(actual[i], `element ${i}`).toBeCloseTo(expected[i], digits);
  }
}

/** A seeded stream of numbers in [0, 1) for test data. */
function uniform(n: number, seed: number): number[] {
  return Array.from(new nb.Generator(seed).uniformArray(n));
}

// sklearn's precision_recall_fscore_support / f1_score / precision_score docstring data
// (cat=0, dog=1, pig=2 for the first).
const T = [0, 1, 2, 0, 1, 2],
  P = [0, 2, 1, 0, 0, 1];

describe('scikit-learn classification scores', () => {
  it('precision_recall_fscore_support: macro (0.222, 0.333, 0.267), micro 0.33, weighted (0.222, 0.333, 0.267)', () => {
    const macro = precisionRecallF1(T, P, { average: 'macro' }) as PRF;
    close([macro.precision, macro.recall, macro.f1], [2 / 9, 1 / 3, 0.8 / 3]);
    const micro = precisionRecallF1(T, P, { average: 'micro' }) as PRF;
    close([micro.precision, micro.recall, micro.f1], [1 / 3, 1 / 3, 1 / 3]);
    const weighted = precisionRecallF1(T, P, { average: 'weighted' }) as PRF;
    close([weighted.precision, weighted.recall, weighted.f1], [2 / 9, 1 / 3, 0.8 / 3]);
    expect(precisionRecallF1(T, P, { average: 'none' })).toEqual([
      { precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
      { precision: 0, recall: 0, f1: 0, support: 2 },
      { precision: 0, recall: 0, f1: 0, support: 2 },
    ]);
  });

  it('f1_score: macro 0.26.., micro 0.33.., weighted 0.26.., per class [0.8, 0, 0]; empty binary with zero_division', () => {
    expect(f1Score(T, P, { average: 'macro' })).toBeCloseTo(0.26666667, 7);
    expect(f1Score(T, P, { average: 'micro' })).toBeCloseTo(1 / 3, 7);
    expect(f1Score(T, P, { average: 'weighted' })).toBeCloseTo(0.26666667, 7);
    close(f1Score(T, P, { average: null }), [0.8, 0, 0]);
    const empty = [0, 0, 0, 0, 0, 0];
    expect(f1Score(empty, empty)).toBe(0);
    expect(f1Score(empty, empty, { zeroDivision: 1 })).toBe(1);
    expect(f1Score(empty, empty, { zeroDivision: NaN })).toBeNaN();
  });

  it('precision_score / recall_score docstrings, zero_division 0, 1 and NaN', () => {
    expect(precisionScore(T, P, { average: 'macro' })).toBeCloseTo(0.2222222, 6);
    expect(precisionScore(T, P, { average: 'micro' })).toBeCloseTo(0.3333333, 6);
    expect(precisionScore(T, P, { average: 'weighted' })).toBeCloseTo(0.2222222, 6);
    close(precisionScore(T, P, { average: null }), [2 / 3, 0, 0]);
    const zeros = [0, 0, 0, 0, 0, 0];
    close(precisionScore(T, zeros, { average: null }), [1 / 3, 0, 0]);
    close(precisionScore(T, zeros, { average: null, zeroDivision: 1 }), [1 / 3, 1, 1]);
    close(precisionScore(T, zeros, { average: null, zeroDivision: NaN }), [1 / 3, NaN, NaN]);
    // NaN entries are left out of the average (scikit-learn's _nanaverage).
    expect(precisionScore(T, zeros, { average: 'macro', zeroDivision: NaN })).toBeCloseTo(1 / 3, 7);
    expect(recallScore(T, P, { average: 'macro' })).toBeCloseTo(1 / 3, 7);
    expect(recallScore(T, P, { average: 'micro' })).toBeCloseTo(1 / 3, 7);
    expect(recallScore(T, P, { average: 'weighted' })).toBeCloseTo(1 / 3, 7);
    close(recallScore(T, P, { average: null }), [1, 0, 0]);
    close(recallScore(zeros, P, { average: null }), [0.5, 0, 0]);
    close(recallScore(zeros, P, { average: null, zeroDivision: 1 }), [0.5, 1, 1]);
  });

  it('binary average scores posLabel, rejects multiclass labels, and weighted/macro only use labels present', () => {
    const t = [0, 1, 1, 0, 1],
      p = [1, 1, 0, 0, 1]; // tp 2, fp 1, fn 1
    expect(precisionScore(t, p)).toBeCloseTo(2 / 3, 10);
    expect(recallScore(t, p)).toBeCloseTo(2 / 3, 10);
    expect(precisionScore(t, p, { posLabel: 0 })).toBeCloseTo(1 / 2, 10); // class 0: tp 1, predicted 2
    expect(() => f1Score(T, P)).toThrow(/multiclass .* average is 'binary'/);
    expect(() => f1Score([2, 3], [3, 2])).toThrow(/posLabel 1 is not a valid label/);
    // Labels 0 and 2 only: class 1 never appears, so macro averages over two labels (as sklearn).
    expect(f1Score([0, 2, 2], [0, 2, 2], { average: 'macro' })).toBe(1);
    expect(f1Score([0, 2, 2], [0, 2, 2], { average: 'macro', numClasses: 3 })).toBeCloseTo(2 / 3, 10);
    expect(accuracyScore(T, P)).toBeCloseTo(1 / 3, 10);
    expect(accuracyScore(T, P, { normalize: false })).toBe(2);
    // Tensors are accepted (read on the host).
    expect(f1Score(i32(T), i32(P), { average: 'micro' })).toBeCloseTo(1 / 3, 7);
  });

  it('confusion_matrix: the docstring example, label order, numClasses layout, bad labels', () => {
    expect(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])).toEqual([
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
    // sklearn's labels=[...] example with ant=0, bird=1, cat=2, reordered as [cat, ant]
    expect(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2], { labels: [2, 0] })).toEqual([
      [2, 1],
      [0, 2],
    ]);
    expect(confusionMatrix([0, 2], [0, 2])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(confusionMatrix([0, 2], [0, 2], 3)).toEqual([
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, 1],
    ]);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/yTrue\[1\] = 3 is not a class in 0..2/);
    expect(() => confusionMatrix([0, 1], [0])).toThrow(/2 labels but 1 predictions/);
  });
});

/** AUC by counting positive-negative pairs (ties ½): the definition, O(n²). */
function pairAuc(y: number[], s: number[]): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < y.length; i++)
    for (let j = 0; j < y.length; j++) {
      if (y[i] === 1 && y[j] === 0) {
        den++;
        num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
    }
  return num / den;
}

describe('roc_auc_score', () => {
  it('0.75 on the docstring example; ties count ½; the greater label is positive', () => {
    expect(rocAucScore([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(rocAucScore([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(rocAucScore([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(rocAucScore([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9])).toBeCloseTo(pairAuc([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9]), 12); // 0.875
    expect(
      rocAucScore(
        [0, 0, 1, 1],
        [
          [0.9, 0.1],
          [0.6, 0.4],
          [0.65, 0.35],
          [0.2, 0.8],
        ],
      ),
    ).toBeCloseTo(0.75, 12);
    expect(() => rocAucScore([1, 1, 1], [0.1, 0.2, 0.3])).toThrow(/only one class present/);
  });

  it('matches pair counting on random data with many ties, and one-vs-rest macro / weighted for 3 classes', () => {
    const u = uniform(400, 7);
    const y = u.slice(0, 200).map((v) => (v < 0.4 ? 1 : 0));
    const s = u.slice(200).map((v) => Math.round(v * 10) / 10); // 11 distinct scores: many ties
    expect(rocAucScore(y, s)).toBeCloseTo(pairAuc(y, s), 12);

    const v = uniform(600, 8);
    const labels = v.slice(0, 150).map((a) => Math.floor(a * 3));
    const scores = labels.map((_, i) => {
      const r = [v[150 + 3 * i] + (labels[i] === 0 ? 0.3 : 0), v[151 + 3 * i] + (labels[i] === 1 ? 0.3 : 0), v[152 + 3 * i]];
      const t = r[0] + r[1] + r[2];
      return r.map((x) => x / t);
    });
    const per = [0, 1, 2].map((c) =>
      pairAuc(
        labels.map((l) => (l === c ? 1 : 0)),
        scores.map((r) => r[c]),
      ),
    );
    const support = [0, 1, 2].map((c) => labels.filter((l) => l === c).length);
    expect(rocAucScore(labels, scores)).toBeCloseTo((per[0] + per[1] + per[2]) / 3, 12);
    expect(rocAucScore(labels, scores, { average: 'weighted' })).toBeCloseTo(per.reduce((a, p, c) => a + p * support[c], 0) / 150, 12);
  });
});

describe('scikit-learn regression scores', () => {
  const yt = [3, -0.5, 2, 7],
    yp = [2.5, 0.0, 2, 8];
  const Yt = [
      [0.5, 1],
      [-1, 1],
      [7, -6],
    ],
    Yp = [
      [0, 2],
      [-1, 2],
      [8, -5],
    ];

  it('r2_score docstring: 0.948.., variance_weighted 0.938.., 1, 0, -3, constant targets', () => {
    expect(r2Score(yt, yp)).toBeCloseTo(0.9486081, 6);
    expect(r2Score(Yt, Yp, { multioutput: 'variance_weighted' })).toBeCloseTo(0.9382567, 6);
    // per output by hand: residuals 1.25 and 3, totals 217/6 and 98/3
    close(r2Score(Yt, Yp, { multioutput: 'raw_values' }), [1 - 1.25 / (217 / 6), 1 - 3 / (98 / 3)], 10);
    expect(r2Score(Yt, Yp)).toBeCloseTo(0.9368005, 6);
    expect(r2Score([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(r2Score([1, 2, 3], [2, 2, 2])).toBe(0);
    expect(r2Score([1, 2, 3], [3, 2, 1])).toBe(-3);
    expect(r2Score([-2, -2, -2], [-2, -2, -2])).toBe(1);
    expect(r2Score([-2, -2, -2], [-2, -2, -2], { forceFinite: false })).toBeNaN();
    expect(r2Score([-2, -2, -2], [-2, -2, -2 + 1e-8])).toBe(0);
    expect(r2Score([-2, -2, -2], [-2, -2, -2 + 1e-8], { forceFinite: false })).toBe(-Infinity);
  });

  it('mean_squared_error / mean_absolute_error docstrings, and the Tensor forms still return tensors', () => {
    expect(meanSquaredError(yt, yp)).toBeCloseTo(0.375, 12);
    expect(meanSquaredError(Yt, Yp)).toBeCloseTo(0.7083333, 6);
    close(meanSquaredError(Yt, Yp, { multioutput: 'raw_values' }), [0.41666667, 1]);
    expect(meanSquaredError(Yt, Yp, { multioutput: [0.3, 0.7] })).toBeCloseTo(0.825, 6);
    expect(meanAbsoluteError(yt, yp)).toBeCloseTo(0.5, 12);
    expect(meanAbsoluteError(Yt, Yp)).toBeCloseTo(0.75, 12);
    close(meanAbsoluteError(Yt, Yp, { multioutput: 'raw_values' }), [0.5, 1]);
    expect(meanAbsoluteError(Yt, Yp, { multioutput: [0.3, 0.7] })).toBeCloseTo(0.85, 6);
    const t = meanSquaredError(nb.tensor(Yt), nb.tensor(Yp));
    expect(t).toBeInstanceOf(nb.Tensor);
    expect(t.itemSync()).toBeCloseTo(0.7083333, 5);
    expect(meanAbsoluteError(nb.tensor(yt), nb.tensor(yp)).itemSync()).toBeCloseTo(0.5, 6);
    expect(() => r2Score([1, 2], [1, 2, 3])).toThrow(/same \[samples\]/);
  });

  it('top_k_accuracy_score docstring: 0.75 and 3 with normalize=false; sklearn breaks ties toward the higher column', () => {
    const yTrue = [0, 1, 2, 2];
    const yScore = [
      [0.5, 0.2, 0.2],
      [0.3, 0.4, 0.2],
      [0.2, 0.4, 0.3],
      [0.7, 0.2, 0.1],
    ];
    expect(topKAccuracyScore(yTrue, yScore, { k: 2 })).toBe(0.75);
    expect(topKAccuracyScore(yTrue, yScore, { k: 2, normalize: false })).toBe(3);
    // Row 0: columns 1 and 2 tie; sklearn ranks column 2 above column 1, so label 1 is not in the top 2.
    expect(topKAccuracyScore([1], [[0.5, 0.2, 0.2]], { k: 2 })).toBe(0);
    expect(topKAccuracyScore([2], [[0.5, 0.2, 0.2]], { k: 2 })).toBe(1);
    // topKAccuracy (Keras' in_top_k) counts both tied labels in; arrays give a number, tensors a tensor.
    expect(
      topKAccuracy(
        [1, 2],
        [
          [0.5, 0.2, 0.2],
          [0.5, 0.2, 0.2],
        ],
        2,
      ),
    ).toBe(1);
    expect(
      topKAccuracy(
        [2, 1],
        [
          [0.1, 0.9, 0.8],
          [0.05, 0.95, 0],
        ],
        1,
      ),
    ).toBe(0.5);
    expect(
      topKAccuracy(
        i32([2, 1]),
        nb.tensor([
          [0.1, 0.9, 0.8],
          [0.05, 0.95, 0],
        ]),
        1,
      ).itemSync(),
    ).toBe(0.5);
  });
});

describe('classificationReport', () => {
  it('prints exactly like scikit-learn (docstring example with target names)', () => {
    const report = classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], { targetNames: ['class 0', 'class 1', 'class 2'] });
    expect(report).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '     class 0       0.50      1.00      0.67         1',
        '     class 1       0.00      0.00      0.00         1',
        '     class 2       1.00      0.67      0.80         3',
        '',
        '    accuracy                           0.60         5',
        '   macro avg       0.50      0.56      0.49         5',
        'weighted avg       0.70      0.60      0.61         5',
        '',
      ].join('\n'),
    );
  });

  it('prints micro avg instead of accuracy when labels leave some out (docstring example), and digits', () => {
    expect(classificationReport([1, 1, 1], [1, 1, 0], { labels: [1, 2, 3] })).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '           1       1.00      0.67      0.80         3',
        '           2       0.00      0.00      0.00         0',
        '           3       0.00      0.00      0.00         0',
        '',
        '   micro avg       1.00      0.67      0.80         3',
        '   macro avg       0.33      0.22      0.27         3',
        'weighted avg       1.00      0.67      0.80         3',
        '',
      ].join('\n'),
    );
    const r4 = classificationReport(T, P, { digits: 4 }).split('\n');
    expect(r4[2]).toBe('           0     0.6667    1.0000    0.8000         2');
    expect(r4[6]).toBe('    accuracy                         0.3333         6');
    // Python rounds exact ties to even: 0.125 → 0.12, 0.375 → 0.38 (JS toFixed gives 0.13).
    const r = classificationReport([0, 0, 0, 0, 0, 0, 0, 0, 1], [0, 1, 1, 1, 1, 1, 1, 1, 1], { digits: 2 }).split('\n');
    expect(r[3]).toBe('           1       0.12      1.00      0.22         1'); // precision 1/8
  });
});

describe('Keras metric objects', () => {
  it('Precision and Recall: the Keras docstring examples, with sample weights, and reset', () => {
    const p = new Precision(),
      r = new Recall();
    p.updateState(nb.tensor([0, 1, 1, 1]), nb.tensor([1, 0, 1, 1]));
    r.updateState(nb.tensor([0, 1, 1, 1]), nb.tensor([1, 0, 1, 1]));
    expect(p.resultSync()).toBeCloseTo(2 / 3, 6);
    expect(r.resultSync()).toBeCloseTo(2 / 3, 6);
    p.resetState();
    r.resetState();
    expect(p.resultSync()).toBe(0);
    p.updateState(nb.tensor([0, 1, 1, 1]), nb.tensor([1, 0, 1, 1]), nb.tensor([0, 0, 1, 0]));
    r.updateState(nb.tensor([0, 1, 1, 1]), nb.tensor([1, 0, 1, 1]), nb.tensor([0, 0, 1, 0]));
    expect(p.resultSync()).toBe(1);
    expect(r.resultSync()).toBe(1);
    p.resetState();
    r.resetState();
  });

  it('accumulate over the epoch (not a mean of batch values) and match the host scores, incl. classId', async () => {
    const u = uniform(200, 3);
    const y = u.slice(0, 100).map((v) => (v < 0.3 ? 1 : 0)),
      s = u.slice(100);
    const p = new Precision(),
      r = new Recall();
    const p3 = new Precision({ classId: 2 }),
      r3 = new Recall({ classId: 2 });
    const cls = y.map((v, i) => (v + Math.floor(s[i] * 2)) % 3),
      probs = s.map((v, i) => [v / 2, (1 - v) / 2, i % 3 === 0 ? 0.7 : 0.2]);
    for (const [a, b] of [
      [0, 7],
      [7, 60],
      [60, 100],
    ]) {
      p.updateState(nb.tensor(y.slice(a, b)), nb.tensor(s.slice(a, b)));
      r.updateState(nb.tensor(y.slice(a, b)), nb.tensor(s.slice(a, b)));
      p3.updateState(i32(cls.slice(a, b)), nb.tensor(probs.slice(a, b)));
      r3.updateState(i32(cls.slice(a, b)), nb.tensor(probs.slice(a, b)));
    }
    const pred = s.map((v) => (v > 0.5 ? 1 : 0));
    expect(await p.result()).toBeCloseTo(precisionScore(y, pred), 6);
    expect(await r.result()).toBeCloseTo(recallScore(y, pred), 6);
    const pred3 = probs.map((row) => (row[2] > 0.5 ? 2 : 0));
    expect(p3.resultSync()).toBeCloseTo(
      precisionScore(
        cls.map((c) => +(c === 2)),
        pred3.map((c) => +(c === 2)),
      ),
      6,
    );
    expect(r3.resultSync()).toBeCloseTo(
      recallScore(
        cls.map((c) => +(c === 2)),
        pred3.map((c) => +(c === 2)),
      ),
      6,
    );
    for (const m of [p, r, p3, r3]) m.resetState();
  });

  it('F1Score: the Keras docstring example (threshold 0.5) and argmax averages matching f1Score over batches', async () => {
    const m = new F1Score({ threshold: 0.5 });
    m.updateState(
      nb.tensor([
        [1, 1, 1],
        [1, 0, 0],
        [1, 1, 0],
      ]),
      nb.tensor([
        [0.2, 0.6, 0.7],
        [0.2, 0.6, 0.6],
        [0.6, 0.8, 0.0],
      ]),
    );
    close(m.resultPerClassSync(), [0.5, 0.8, 2 / 3], 6);
    expect(await m.resultLogs()).toEqual({ f1_score_0: expect.any(Number), f1_score_1: expect.any(Number), f1_score_2: expect.any(Number) });
    expect(() => m.resultSync()).toThrow(/one score per class/);
    m.resetState();

    const u = uniform(500, 11);
    const labels = u.slice(0, 100).map((v) => Math.floor(v * 4));
    const scores = labels.map((l, i) => [0, 1, 2, 3].map((c) => u[100 + 4 * i + c] + (c === l ? 0.4 : 0)));
    const argmaxes = scores.map((row) => row.indexOf(Math.max(...row)));
    for (const average of ['micro', 'macro', 'weighted'] as const) {
      const f = new F1Score({ average, numClasses: 4 });
      for (const [a, b] of [
        [0, 30],
        [30, 31],
        [31, 100],
      ])
        f.updateState(i32(labels.slice(a, b)), nb.tensor(scores.slice(a, b)));
      expect(f.resultSync(), average).toBeCloseTo(f1Score(labels, argmaxes, { average }), 6);
      f.resetState();
    }
    expect(() => new F1Score({ numClasses: 3 }).updateState(i32([0]), nb.tensor([[1, 0, 0, 0]]))).toThrow(/expected numClasses 3/);
  });

  it('AUC: the Keras docstring example (3 thresholds: 0.75, weighted 1.0) and 200 thresholds over batches', async () => {
    const a3 = new AUC({ numThresholds: 3 });
    a3.updateState(nb.tensor([0, 0, 1, 1]), nb.tensor([0, 0.5, 0.3, 0.9]));
    expect(a3.resultSync()).toBeCloseTo(0.75, 6);
    a3.resetState();
    a3.updateState(nb.tensor([0, 0, 1, 1]), nb.tensor([0, 0.5, 0.3, 0.9]), nb.tensor([1, 0, 0, 1]));
    expect(a3.resultSync()).toBeCloseTo(1, 6);
    a3.resetState();

    const u = uniform(600, 5);
    const y = u.slice(0, 300).map((v) => (v < 0.5 ? 1 : 0));
    const s = y.map((l, i) => Math.min(0.999, Math.max(0, 0.35 * l + 0.65 * u[300 + i])));
    const auc = new AUC();
    for (const [a, b] of [
      [0, 100],
      [100, 128],
      [128, 300],
    ])
      auc.updateState(nb.tensor(y.slice(a, b)), nb.tensor(s.slice(a, b)));
    // Reference: Keras' thresholded trapezoids, in plain loops.
    const n = 200,
      thr = Array.from({ length: n }, (_, i) => (i === 0 ? -1e-7 : i === n - 1 ? 1 + 1e-7 : i / (n - 1)));
    const P = y.filter((v) => v === 1).length,
      N = y.length - P;
    const tpr = thr.map((t) => y.filter((v, i) => v === 1 && Math.fround(s[i]) > Math.fround(t)).length / P);
    const fpr = thr.map((t) => y.filter((v, i) => v === 0 && Math.fround(s[i]) > Math.fround(t)).length / N);
    let ref = 0;
    for (let i = 0; i < n - 1; i++) ref += ((fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1])) / 2;
    expect(await auc.result()).toBeCloseTo(ref, 6);
    expect(Math.abs(ref - rocAucScore(y, s))).toBeLessThan(0.01);
    auc.resetState();
  });

  it('R2Score: the Keras docstring example (0.5714) and multi-output sums over batches vs r2Score', () => {
    const m = new R2Score();
    m.updateState(nb.tensor([[1], [4], [3]]), nb.tensor([[2], [4], [4]]));
    expect(m.resultSync()).toBeCloseTo(0.57142854, 6);
    m.resetState();
    const u = uniform(240, 9);
    const yt = Array.from({ length: 60 }, (_, i) => [u[i] * 4, u[60 + i] - 2]);
    const yp = yt.map((r, i) => [r[0] + u[120 + i] - 0.5, r[1] * 0.5 + u[180 + i] * 0.2]);
    for (const agg of ['uniform_average', 'variance_weighted'] as const) {
      const r2 = new R2Score({ classAggregation: agg });
      for (const [a, b] of [
        [0, 13],
        [13, 60],
      ])
        r2.updateState(nb.tensor(yt.slice(a, b)), nb.tensor(yp.slice(a, b)));
      expect(r2.resultSync(), agg).toBeCloseTo(r2Score(yt, yp, { multioutput: agg }), 5);
      r2.resetState();
    }
    // Adjusted R²: 1 − (1 − R²)(n − 1)/(n − p − 1)
    const adj = new R2Score({ numRegressors: 2 });
    adj.updateState(nb.tensor(yt.map((r) => r[0])), nb.tensor(yp.map((r) => r[0])));
    const plain = r2Score(
      yt.map((r) => r[0]),
      yp.map((r) => r[0]),
    );
    expect(adj.resultSync()).toBeCloseTo(1 - ((1 - plain) * 59) / 57, 5);
    adj.resetState();
  });

  it('TopK / SparseTopK: the Keras docstring examples; Mean and MSE weigh by sample weights', () => {
    const t = new TopKCategoricalAccuracy(1),
      s = new SparseTopKCategoricalAccuracy(1);
    t.updateState(
      nb.tensor([
        [0, 0, 1],
        [0, 1, 0],
      ]),
      nb.tensor([
        [0.1, 0.9, 0.8],
        [0.05, 0.95, 0],
      ]),
    );
    s.updateState(
      nb.tensor([2, 1]),
      nb.tensor([
        [0.1, 0.9, 0.8],
        [0.05, 0.95, 0],
      ]),
    ); // float labels are classes
    expect(t.resultSync()).toBe(0.5);
    expect(s.resultSync()).toBe(0.5);
    const mean = new Mean();
    mean.updateState(nb.tensor([1, 3, 5, 7]), nb.tensor([1, 1, 0, 1]));
    mean.updateState(nb.tensor([10]));
    expect(mean.resultSync()).toBeCloseTo((1 + 3 + 7 + 10) / 4, 6);
    const mse = new MeanSquaredError();
    mse.updateState(nb.tensor([[0], [0]]), nb.tensor([[1], [3]]));
    mse.updateState(nb.tensor([[0]]), nb.tensor([[2]]));
    expect(mse.resultSync()).toBeCloseTo((1 + 9 + 4) / 3, 6);
    for (const m of [t, s, mean, mse]) m.resetState();
  });

  it('string names resolve in getMetric and work in compile/fit/evaluate for the whole epoch', async () => {
    expect(getMetric('precision')).toBeInstanceOf(Precision);
    expect(getMetric('recall')).toBeInstanceOf(Recall);
    expect(getMetric('auc')).toBeInstanceOf(AUC);
    expect(getMetric('f1_score')).toBeInstanceOf(F1Score);
    expect(getMetric('r2_score')).toBeInstanceOf(R2Score);
    expect(getMetric('sparse_top_k_categorical_accuracy')).toBeInstanceOf(SparseTopKCategoricalAccuracy);
    expect(getMetric('precision').name).toBe('precision');

    nb.manualSeed(0);
    const g = new nb.Generator(4);
    const x = nb.randn([90, 2], { generator: g });
    const y = nb.cast(nb.greater(nb.add(nb.select(x, 1, 0), nb.mul(nb.randn([90], { generator: g }), 0.7)), 0), 'float32').reshape([90, 1]);
    const model = new keras.Sequential([new keras.Dense(1, { inputShape: [2], activation: 'sigmoid' })]);
    model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['precision', 'recall', 'auc', new F1Score({ threshold: 0.5, average: 'macro' })] });
    const h = await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, validationSplit: 0.2 });
    expect(Object.keys(h.history)).toEqual(['loss', 'precision', 'recall', 'auc', 'f1_score', 'val_loss', 'val_precision', 'val_recall', 'val_auc', 'val_f1_score']);
    const r = await model.evaluate(x, y, { batchSize: 7 });
    const probs = Array.from(model.predict(x).dataSync()),
      labels = Array.from(y.dataSync());
    const pred = probs.map((p) => (p > 0.5 ? 1 : 0));
    expect(r.precision).toBeCloseTo(precisionScore(labels, pred), 5);
    expect(r.recall).toBeCloseTo(recallScore(labels, pred), 5);
    // One output column: Keras' F1Score scores the positive class only, i.e. sklearn's binary F1.
    expect(r.f1_score).toBeCloseTo(f1Score(labels, pred), 5);
    expect(Math.abs(r.auc - rocAucScore(labels, probs))).toBeLessThan(0.02);
  });

  it('frees its state: live buffers stay flat over many updates', () => {
    const m = new AUC();
    const yt = nb.tensor([0, 1, 1, 0]),
      yp = nb.tensor([0.2, 0.7, 0.4, 0.1]);
    m.updateState(yt, yp);
    const before = nb.getBackend().liveBuffers();
    for (let i = 0; i < 20; i++) m.updateState(yt, yp);
    expect(nb.getBackend().liveBuffers()).toBe(before);
    m.resetState();
    expect(nb.getBackend().liveBuffers()).toBe(before - 4);
  });
});
