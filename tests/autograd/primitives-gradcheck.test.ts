// Every primitive's gradient (and every composite with its own rule) against central finite
// differences in float64, plus a guard that fails when a new primitive has no check.
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import * as nb from '../../src/index.js';
import { BINARY_PRIMS, UNARY_PRIMS, type BinaryPrim, type Prim, type UnaryPrim } from '../../src/backends/backend.js';
import { cases as conformance } from '../backends/cases.js';
import { primitiveNames } from '../../tools/prims.mjs';
import { RULES } from '../../src/ops/rules.js';

const f64 = { dtype: 'float64' as const };
const g = new nb.Generator(11);
const rn = (shape: number[]) => nb.randn(shape, { ...f64, generator: g });
/** Values in [lo, hi): away from kinks and poles. */
const ru = (shape: number[], lo: number, hi: number) => nb.uniform(shape, lo, hi, { ...f64, generator: g });

type Case = [name: string, f: (...xs: nb.Tensor[]) => nb.Tensor, inputs: () => nb.Tensor[], opts?: nb.GradcheckOptions];

const idx = (vals: number[][]) => nb.tensor(vals, { dtype: 'int32' });

/** The primitives without a gradient (comparisons, argmax, random draws). */
const NO_GRADIENT = ['less', 'equal', 'argmax', 'random'] as const;

type NoGradient = (typeof NO_GRADIENT)[number];
type Elementwise = Exclude<UnaryPrim | BinaryPrim, NoGradient>;

/**
 * An elementwise primitive is checked on its conformance cases (tests/backends/cases.ts), cast to
 * float64, so adding one needs no entry here; `own` below replaces them where the inputs must keep
 * away from a kink.
 */
const fromConformance = Object.fromEntries(
  [...UNARY_PRIMS, ...BINARY_PRIMS]
    .filter((p) => !(NO_GRADIENT as readonly string[]).includes(p))
    .map((p) => [p, conformance[p].map(([name, f, makes]): Case => [name, f, () => makes.map((m) => nb.cast(m(), 'float64').to(nb.getBackend().name))])]),
) as Record<Elementwise, Case[]>;

/**
 * Which primitive each case exercises: typed over every other primitive with a gradient, so tsc
 * refuses a missing one (and the guard below checks the same at run time).
 */
const own: { [P in Exclude<Prim, Elementwise | NoGradient>]: Case[] } & { [P in Elementwise]?: Case[] } = {
  floor: [['floor', (x) => nb.floor(x), () => [ru([6], 0.1, 0.9)]]],
  abs: [['abs', (x) => nb.abs(x), () => [ru([6], 0.2, 1).mul(nb.tensor([1, -1, 1, -1, 1, -1], f64))]]],
  // float32 resolves ~1e-7 relative, so the difference step must be much larger than that
  cast: [['cast to float32 and back', (x) => nb.cast(nb.cast(x, 'float32'), 'float64'), () => [rn([4])], { eps: 1e-3, atol: 1e-3 }]],
  where: [['where', (a, b) => nb.where(nb.tensor([true, false, true, false]), a, b), () => [rn([4]), rn([4])]]],
  sum: [
    ['sum all', (x) => nb.sum(x), () => [rn([3, 4])]],
    ['sum axes keepdim', (x) => nb.sum(x, [0, 2], true), () => [rn([2, 3, 4])]],
  ],
  max: [['max over dim', (x) => nb.max(x, 1), () => [rn([3, 5])]]],
  copy: [['copy of a transposed view', (x) => nb.clone(nb.transpose(x)), () => [rn([3, 4])]]],
  concat: [['concat', (a, b) => nb.concat([a, b], 1), () => [rn([2, 3]), rn([2, 2])]]],
  pad: [['pad', (x) => nb.pad(x, [1, 2, 0, 1], 0.5), () => [rn([2, 3])]]],
  matmul: [
    ['matmul 2-D', (a, b) => nb.matmul(a, b), () => [rn([3, 4]), rn([4, 5])]],
    ['matmul batched with broadcast batch', (a, b) => nb.matmul(a, b), () => [rn([2, 3, 4]), rn([4, 2])]],
    ['matmul vector @ matrix', (a, b) => nb.matmul(a, b), () => [rn([4]), rn([4, 3])]],
    ['matmul transposed operands', (a, b) => nb.matmul(nb.transpose(a), nb.transpose(b)), () => [rn([4, 3]), rn([5, 4])]],
  ],
  gather: [
    [
      'gather',
      (x) =>
        nb.gather(
          x,
          1,
          idx([
            [0, 2],
            [1, 1],
            [2, 0],
          ]),
        ),
      () => [rn([3, 3])],
    ],
  ],
  scatterAdd: [
    [
      'scatterAdd',
      (s) =>
        nb.scatterAdd(
          idx([
            [0, 2],
            [1, 1],
          ]),
          s,
          1,
          [2, 4],
        ),
      () => [rn([2, 2])],
    ],
  ],
  unfold: [
    ['unfold with stride, dilation and padding', (x) => nb.unfold(x, { kernel: [2, 3], stride: [2, 1], dilation: [1, 2], pads: [1, 0, 2, 1], value: 0.5 }), () => [rn([2, 2, 5, 6])]],
  ],
  fold: [
    [
      'fold (col2im) with overlapping windows',
      (g) => nb.fold(g, [1, 2, 4, 5], { kernel: [3, 2], stride: [1, 2], dilation: [1, 1], pads: [1, 1, 0, 1] }),
      () => [rn([1, 4, 3, 2, 3, 2])],
    ],
  ],
};

const cases: Record<string, Case[]> = { ...fromConformance, ...own };

const composites: Case[] = [
  ['reshape/permute/expand/squeeze/unsqueeze', (x) => nb.expand(nb.unsqueeze(nb.squeeze(nb.permute(nb.reshape(x, [2, 1, 6]), [2, 1, 0])), 0), [3, 6, 2]), () => [rn([3, 4])]],
  ['slice with step 2 and select', (x) => nb.select(nb.slice(x, 1, 1, 6, 2), 0, 1), () => [rn([2, 7])]],
  ['index', (x) => nb.index(x, [0, 2], null, 1), () => [rn([3, 2, 3])]],
  ['softmax', (x) => nb.softmax(x, -1), () => [rn([3, 5])]],
  ['conv2d (im2col + matmul), stride 2, padding 1, bias', (x, w, b) => nb.nn.functional.conv2d(x, w, b, { stride: 2, padding: 1 }), () => [rn([2, 2, 5, 4]), rn([3, 2, 3, 3]), rn([3])]],
  ['conv2d same, dilation 2', (x, w) => nb.nn.functional.conv2d(x, w, null, { padding: 'same', dilation: 2 }), () => [rn([1, 2, 5, 5]), rn([2, 2, 3, 2])]],
  ['logSoftmax', (x) => nb.logSoftmax(x, 0), () => [rn([4, 3])]],
  ['logsumexp', (x) => nb.logsumexp(x, 1), () => [rn([3, 4])]],
  ['sigmoid', (x) => nb.sigmoid(x), () => [rn([7]).mul(4)]],
  ['gelu (erf)', (x) => nb.gelu(x), () => [rn([7])]],
  ['gelu (tanh)', (x) => nb.gelu(x, 'tanh'), () => [rn([7])]],
  ['softplus', (x) => nb.softplus(x), () => [rn([7]).mul(5)]],
  ['relu', (x) => nb.relu(x), () => [ru([6], 0.1, 1).mul(nb.tensor([1, -1, 1, -1, 1, -1], f64))]],
  ['mean, variance, std', (x) => nb.add(nb.add(nb.mean(x, 0), nb.variance(x, 0)), nb.std(x, 0)), () => [rn([5, 3])]],
  [
    'indexSelect (embedding lookup)',
    (w) =>
      nb.indexSelect(
        w,
        0,
        idx([
          [1, 0],
          [1, 3],
        ]),
      ),
    () => [rn([4, 3])],
  ],
  ['prod', (x) => nb.prod(x, 1), () => [ru([2, 3], 0.5, 2)]],
  ['min', (x) => nb.min(x, 0), () => [rn([4, 3])]],
  ['stack and split', (a, b) => nb.stack([...nb.split(a, 2, 1), b], 0), () => [rn([2, 4]), rn([2, 2])]],
  ['crossEntropy with label smoothing', (x) => nb.nn.functional.crossEntropy(x, nb.tensor([1, 0, 2], { dtype: 'int32' }), { labelSmoothing: 0.1 }), () => [rn([3, 4])]],
  ['binaryCrossEntropyWithLogits', (x) => nb.nn.functional.binaryCrossEntropyWithLogits(x, nb.tensor([1, 0, 1], f64)), () => [rn([3])]],
  ['linear', (x, w, b) => nb.nn.functional.linear(x, w, b), () => [rn([2, 3]), rn([4, 3]), rn([4])]],
];

describe('gradcheck: primitives', () => {
  for (const [prim, list] of Object.entries(cases)) {
    for (const [name, f, inputs, opts] of list) {
      it(`${prim}: ${name}`, () => {
        const r = nb.gradcheck(f, inputs(), opts);
        expect(r.message).toBe('');
        expect(r.ok).toBe(true);
      });
    }
  }
  it('every primitive has a gradient check or is on the no-gradient list', () => {
    const prims = primitiveNames(fileURLToPath(new URL('../..', import.meta.url)));
    expect(prims.length).toBeGreaterThan(30);
    const missing = prims.filter((p) => !(p in cases) && !(NO_GRADIENT as readonly string[]).includes(p));
    expect(missing).toEqual([]);
  });
  it('the no-gradient list is exactly the primitives whose rule says vjp: none', () => {
    const none = Object.entries(RULES)
      .filter(([, r]) => r.vjp === 'none')
      .map(([p]) => p);
    expect(none.sort()).toEqual([...NO_GRADIENT].sort());
  });
});

describe('gradcheck: composites', () => {
  for (const [name, f, inputs, opts] of composites) {
    it(name, () => {
      const r = nb.gradcheck(f, inputs(), opts);
      expect(r.message).toBe('');
      expect(r.ok).toBe(true);
    });
  }
  it('second derivative through createGraph: d²(x³)/dx² = 6x', () => {
    const x = nb.tensor([0.5, -2, 3], f64).requiresGrad_();
    const y = nb.sum(nb.pow(x, 3));
    const [dx] = nb.gradOf(y, [x], { createGraph: true });
    const [ddx] = nb.gradOf(nb.sum(dx!), [x]);
    expect(Array.from(ddx!.dataSync())).toEqual([3, -12, 18].map((v) => expect.closeTo(v, 10)));
  });
  it('gradcheck catches a wrong gradient', () => {
    // x·detach(x) has a tape gradient of x, but its true derivative is 2x: the check must fail.
    const r = nb.gradcheck((x) => nb.mul(x, nb.detach(x)), [nb.tensor([0.1234, 0.5678], f64)]);
    expect(r.ok).toBe(false);
  });
});
