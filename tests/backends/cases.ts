// The conformance cases every backend is checked on against the js reference: each primitive (and
// the composites built on them) on plain, broadcast, transposed, sliced and batched operands,
// forward values and input gradients, float32. Used by conformance.test.ts (wasm) and
// webgpu.test.ts.
import { expect } from 'vitest';
import * as nb from '../../src/index.js';
import type { Prim } from '../../src/backends/backend.js';
import { copy_ } from '../../src/ops/inplace.js';

export const g = new nb.Generator(7);
const js = { device: 'js' };

/** An input: made on js from the generator, then moved to each backend. */
export type Make = () => nb.Tensor;
export const rn =
  (shape: number[]): Make =>
  () =>
    nb.randn(shape, { ...js, generator: g });
export const ru =
  (shape: number[], lo: number, hi: number): Make =>
  () =>
    nb.uniform(shape, lo, hi, { ...js, generator: g });
export const ints =
  (vals: number[] | number[][]): Make =>
  () =>
    nb.tensor(vals, { ...js, dtype: 'int32' });
export const bools =
  (shape: number[]): Make =>
  () =>
    nb.less(nb.rand(shape, { ...js, generator: g }), 0.5);

export type Case = [name: string, f: (...xs: nb.Tensor[]) => nb.Tensor, inputs: Make[]];

/**
 * Cases by the primitive they exercise: typed over every primitive, so tsc refuses a missing one
 * (prims.test.ts checks the same at run time).
 */
export const cases: { [P in Prim]: Case[] } = {
  neg: [['neg', (x) => nb.neg(x), [rn([33])]]],
  exp: [['exp', (x) => nb.exp(x), [rn([4, 9])]]],
  log: [['log', (x) => nb.log(x), [ru([37], 0.1, 5)]]],
  sqrt: [
    ['sqrt', (x) => nb.sqrt(x), [ru([37], 0.1, 5)]],
    ['sqrt of a transposed view', (x) => nb.sqrt(x.t()), [ru([5, 7], 0.1, 5)]],
  ],
  reciprocal: [['reciprocal', (x) => nb.reciprocal(x), [ru([19], 0.5, 3)]]],
  sin: [['sin', (x) => nb.sin(x), [rn([21])]]],
  cos: [['cos', (x) => nb.cos(x), [rn([21])]]],
  tanh: [['tanh', (x) => nb.tanh(x), [rn([3, 11])]]],
  erf: [['erf', (x) => nb.erf(x), [rn([3, 11])]]],
  floor: [['floor', (x) => nb.floor(x.mul(3)), [rn([17])]]],
  expm1: [
    ['expm1', (x) => nb.expm1(x), [rn([23])]],
    ['expm1 near 0', (x) => nb.expm1(x.mul(1e-3)), [rn([9])]],
  ],
  abs: [['abs', (x) => nb.abs(x), [rn([17])]]],
  sinh: [
    ['sinh', (x) => nb.sinh(x), [rn([13])]],
    ['sinh near 0', (x) => nb.sinh(x.mul(1e-3)), [rn([9])]],
  ],
  add: [
    ['add same shape', (a, b) => nb.add(a, b), [rn([5, 13]), rn([5, 13])]],
    ['add row bias [B,T,C] + [C]', (a, b) => nb.add(a, b), [rn([2, 3, 7]), rn([7])]],
    ['add outer [N,1] + [1,M]', (a, b) => nb.add(a, b), [rn([6, 1]), rn([1, 9])]],
    ['add column [N,M] + [N,1]', (a, b) => nb.add(a, b), [rn([6, 9]), rn([6, 1])]],
    ['add scalar', (a) => nb.add(a, 1.5), [rn([3, 5])]],
    ['add conv bias [N,C,H,W] + [1,C,1,1] (three levels)', (a, b) => nb.add(a, b), [rn([3, 4, 5, 6]), rn([1, 4, 1, 1])]],
    ['add transposed + plain', (a, b) => nb.add(a.t(), b), [rn([4, 6]), rn([6, 4])]],
  ],
  sub: [
    ['sub scalar first', (a) => nb.sub(2, a), [rn([10])]],
    ['sub broadcast 3-D', (a, b) => nb.sub(a, b), [rn([2, 1, 5]), rn([3, 1])]],
  ],
  mul: [
    ['mul', (a, b) => nb.mul(a, b), [rn([7, 3]), rn([7, 3])]],
    ['mul sliced', (a, b) => nb.mul(a.slice(1, 1, 5), b), [rn([3, 6]), rn([3, 4])]],
  ],
  div: [['div', (a, b) => nb.div(a, b), [rn([9]), ru([9], 0.5, 2)]]],
  pow: [
    ['pow', (a, b) => nb.pow(a, b), [ru([9], 0.5, 2), rn([9])]],
    ['pow scalar exponent', (a) => nb.pow(a, 3), [rn([2, 5])]],
  ],
  maximum: [
    ['maximum', (a, b) => nb.maximum(a, b), [rn([15]), rn([15])]],
    ['relu', (a) => nb.relu(a), [rn([4, 8])]],
  ],
  minimum: [['minimum', (a, b) => nb.minimum(a, b), [rn([15]), rn([1])]]],
  less: [['less', (a, b) => nb.less(a, b).float().add(a), [rn([4, 5]), rn([5])]]],
  equal: [['equal', (a) => nb.equal(nb.floor(a), nb.floor(nb.mul(a, 0.7))).float(), [ru([12], -2, 2)]]],
  where: [
    ['where', (c, a, b) => nb.where(c, a, b), [bools([4, 6]), rn([4, 6]), rn([6])]],
    ['where three levels', (c, a, b) => nb.where(c, a, b), [bools([3, 4, 5]), rn([3, 4, 5]), rn([1, 4, 1])]],
    ['where scalar branch', (c, a) => nb.where(c, a, 0), [bools([9]), rn([9])]],
  ],
  sum: [
    ['sum all', (x) => nb.sum(x), [rn([5, 7])]],
    ['sum rows', (x) => nb.sum(x, -1), [rn([5, 37])]],
    ['sum middle', (x) => nb.sum(x, 1), [rn([3, 4, 5])]],
    ['sum two axes', (x) => nb.sum(x, [0, 2]), [rn([3, 4, 5])]],
    ['sum of a transposed view', (x) => nb.sum(x.t(), 1), [rn([6, 3])]],
    ['sum over separated axes (bias gradient shape)', (x) => nb.sum(x, [0, 2, 3]), [rn([3, 4, 5, 6])]],
    ['max over separated axes of a permuted view', (x) => nb.max(x.permute(2, 0, 1), [0, 2]), [rn([3, 4, 5])]],
  ],
  max: [
    ['max rows', (x) => nb.max(x, -1), [rn([4, 21])]],
    ['max first axis', (x) => nb.max(x, 0), [rn([5, 6])]],
  ],
  argmax: [['argmax', (x) => nb.argmax(x, -1).float().add(x.sum()), [rn([5, 8])]]],
  cast: [
    ['cast to int32 and back', (x) => nb.cast(nb.cast(x.mul(4), 'int32'), 'float32').add(x), [rn([11])]],
    ['cast to float64 and back', (x) => nb.cast(nb.cast(x, 'float64').mul(2), 'float32'), [rn([11])]],
    ['bool to float', (c) => nb.cast(c, 'float32'), [bools([13])]],
  ],
  copy: [
    ['contiguous of a transpose', (x) => x.t().contiguous().mul(1), [rn([7, 5])]],
    ['contiguous of a 4-D permute', (x) => x.permute(0, 2, 3, 1).contiguous(), [rn([2, 3, 4, 5])]],
    ['contiguous of a 5-D permute', (x) => x.permute(4, 2, 0, 3, 1).contiguous(), [rn([2, 3, 2, 3, 2])]],
  ],
  matmul: [
    ['matmul tile-exact', (a, b) => nb.matmul(a, b), [rn([12, 16]), rn([16, 24])]],
    ['matmul ragged', (a, b) => nb.matmul(a, b), [rn([7, 13]), rn([13, 5])]],
    ['matmul A transposed', (a, b) => nb.matmul(a.t(), b), [rn([13, 7]), rn([13, 9])]],
    ['matmul B transposed (x Wᵀ)', (a, b) => nb.matmul(a, b.t()), [rn([9, 300]), rn([11, 300])]],
    ['matmul both transposed', (a, b) => nb.matmul(a.t(), b.t()), [rn([20, 9]), rn([11, 20])]],
    ['matmul batched', (a, b) => nb.matmul(a, b), [rn([3, 5, 6]), rn([3, 6, 4])]],
    ['matmul broadcast batch', (a, b) => nb.matmul(a, b), [rn([2, 3, 5, 6]), rn([6, 4])]],
    ['matmul vector', (a, b) => nb.matmul(a, b), [rn([6]), rn([6, 4])]],
    ['matmul deep K', (a, b) => nb.matmul(a, b), [rn([8, 600]), rn([600, 10])]],
    // Few rows (M ≤ 4: token-by-token generation) take the unpacked kernels of wasm/assembly/gemv.ts.
    ...[1, 2, 3, 4].flatMap((m): Case[] => [
      [`matmul ${m} row(s) x·W ragged`, (a, b) => nb.matmul(a, b), [rn([m, 37]), rn([37, 29])]],
      [`matmul ${m} row(s) x·Wᵀ ragged`, (a, b) => nb.matmul(a, b.t()), [rn([m, 37]), rn([29, 37])]],
      [`matmul ${m} row(s) x·W wide (threads, column blocks)`, (a, b) => nb.matmul(a, b), [rn([m, 45]), rn([45, 1103])]],
      [`matmul ${m} row(s) x·Wᵀ tall (threads)`, (a, b) => nb.matmul(a, b.t()), [rn([m, 101]), rn([517, 101])]],
    ]),
    ['matmul few rows, batched x·W', (a, b) => nb.matmul(a, b), [rn([3, 2, 19]), rn([3, 19, 13])]],
    ['matmul few rows, broadcast batch x·Wᵀ', (a, b) => nb.matmul(a, b.t()), [rn([2, 1, 1, 23]), rn([11, 23])]],
    ['matmul few rows, batch of 1', (a, b) => nb.matmul(a, b), [rn([1, 1, 3, 33]), rn([1, 1, 33, 6])]],
    ['matmul few rows, A transposed, x·W', (a, b) => nb.matmul(a.t(), b), [rn([21, 3]), rn([21, 10])]],
    ['matmul few rows, A transposed, x·Wᵀ (GEMM)', (a, b) => nb.matmul(a.t(), b.t()), [rn([21, 3]), rn([10, 21])]],
    ['matmul few rows, sliced W rows', (a, b) => nb.matmul(a, b.slice(1, 2, 17)), [rn([2, 9]), rn([9, 20])]],
    ['matmul few rows, K = 1', (a, b) => nb.matmul(a, b), [rn([3, 1]), rn([1, 7])]],
    ['matmul few rows, N = 1', (a, b) => nb.matmul(a, b), [rn([2, 37]), rn([37, 1])]],
    ['matmul vector · matrix transposed', (a, b) => nb.matmul(a, b.t()), [rn([30]), rn([6, 30])]],
  ],
  gather: [
    [
      'gather',
      (x, i) => nb.gather(x, 1, i),
      [
        rn([3, 5]),
        ints([
          [0, 4],
          [2, 2],
          [1, 3],
        ]),
      ],
    ],
    ['row gather (embedding lookup)', (x, i) => nb.indexSelect(x, 0, i), [rn([10, 32]), ints([3, 3, 9, 0, 5])]],
    ['row gather on a middle axis', (x, i) => nb.indexSelect(x, 1, i), [rn([2, 6, 4, 5]), ints([5, 0, 2])]],
  ],
  scatterAdd: [['indexSelect backward uses scatterAdd', (x, i) => nb.indexSelect(x, 0, i), [rn([5, 3]), ints([4, 0, 4, 2])]]],
  concat: [
    ['concat', (a, b) => nb.concat([a, b], 1), [rn([3, 2]), rn([3, 4])]],
    ['stack', (a, b) => nb.stack([a, b]), [rn([5]), rn([5])]],
  ],
  pad: [['pad', (x) => nb.pad(x, [1, 2, 0, 1]), [rn([3, 4])]]],
  unfold: [
    ['unfold 3x3 same', (x) => nb.unfold(x, { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1], value: 0 }), [rn([2, 3, 7, 6])]],
    [
      'unfold strided, dilated, -inf padding (max pool)',
      (x) => nb.max(nb.unfold(x, { kernel: [2, 3], stride: [2, 2], dilation: [2, 1], pads: [1, 0, 1, 1], value: -Infinity }), [4, 5]),
      [rn([2, 2, 9, 8])],
    ],
    ['unfold of a transposed image', (x) => nb.unfold(x.transpose(2, 3), { kernel: [2, 2], stride: [1, 1], dilation: [1, 1], pads: [0, 0, 0, 0], value: 0 }), [rn([1, 2, 5, 4])]],
  ],
  fold: [['fold', (g) => nb.fold(g, [2, 3, 6, 5], { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1] }), [rn([2, 6, 5, 3, 3, 3])]]],
  random: [['dropout draws the same mask', (x) => nb.nn.functional.dropout(x, 0.3, true, new nb.Generator(5)), [rn([8, 16])]]],
};

export const composites: Case[] = [
  ['softmax', (x) => nb.softmax(x, -1), [rn([4, 10])]],
  ['logSoftmax', (x) => nb.logSoftmax(x, -1), [rn([4, 10])]],
  ['gelu', (x) => nb.gelu(x), [rn([30])]],
  ['gelu tanh (GPT-2) of a transposed view', (x) => nb.gelu(x.t(), 'tanh'), [rn([7, 9])]],
  ['sigmoid', (x) => nb.sigmoid(x), [rn([30])]],
  ['crossEntropy', (x, y) => nb.nn.functional.crossEntropy(x, y), [rn([6, 5]), ints([0, 4, 1, 2, 3, 0])]],
  ['mseLoss', (x, y) => nb.nn.functional.mseLoss(x, y), [rn([6, 5]), rn([6, 5])]],
  ['conv2d groups 2, stride 2', (x, w) => nb.nn.functional.conv2d(x, w, null, { groups: 2, stride: 2, padding: 1 }), [rn([2, 4, 7, 7]), rn([6, 2, 3, 3])]],
  [
    'maxPool2d and avgPool2d',
    (x) => nb.add(nb.nn.functional.maxPool2d(x, 2), nb.nn.functional.avgPool2d(x, 3, { stride: 2, padding: 1 }).slice(2, 0, 3).slice(3, 0, 3)),
    [rn([2, 3, 6, 6])],
  ],
  ['conv2d MNIST-CNN style', (x, w, b) => nb.nn.functional.conv2d(x, w, b, { padding: 'same' }), [rn([2, 3, 9, 9]), rn([5, 3, 3, 3]), rn([5])]],
  ['linear layer chain', (x, w, b) => nb.relu(nb.add(nb.matmul(x, w.t()), b)).mean(), [rn([16, 40]), rn([24, 40]), rn([24])]],
  // copy_ (ops/inplace.ts, Backend.copyInto): in place into views of a fresh buffer, outside autograd.
  ['copy_ into a row and column slice', (d, s) => nb.noGrad(() => copyInto(d, (o) => copy_(o.slice(0, 1, 4).slice(1, 2, 7), s))), [rn([6, 10]), rn([3, 5])]],
  [
    'copy_ of a transposed, broadcast source into strided heads',
    (d, s) => nb.noGrad(() => copyInto(d, (o) => copy_(o.reshape([4, 3, 6]).permute([1, 0, 2]).slice(2, 1, 5), s.t().unsqueeze(0)))),
    [rn([4, 18]), rn([4, 4])],
  ],
  [
    'copy_ of int32 ids into a selected row',
    (d, s) => copyInto(d, (o) => copy_(o.select(0, 2), s)),
    [
      ints([
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ]),
      ints([-1, -2, -3]),
    ],
  ],
  ['copy_ of a view of the same storage', (d) => nb.noGrad(() => copyInto(d, (o) => copy_(o.slice(0, 0, 3), o.slice(0, 1, 4)))), [rn([5, 7])]],
];

/** A fresh copy of d, written in place by `write`. */
function copyInto(d: nb.Tensor, write: (o: nb.Tensor) => void): nb.Tensor {
  const o = d.clone().detach();
  write(o);
  return o;
}

export function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    const tol = 2e-5 * Math.max(1, Math.abs(x), Math.abs(y));
    if (!(Math.abs(x - y) <= tol)) expect.fail(`${what}: element ${i}: ${x} vs js ${y}`);
  }
}

/**
 * Run f on `device` and on js from the same inputs; compare the outputs and every float input's
 * gradient. Reads are asynchronous so that GPU backends run the same cases.
 */
export async function check([name, f, makers]: Case, device: string): Promise<void> {
  const base = makers.map((m) => m());
  const run = async (device: string) => {
    // Everything made here is freed before returning, so leak checks later in a file stay exact.
    const { out, grads } = nb.scope(() => {
      const xs = base.map((t) => {
        const x = t.to(device);
        return x.dtype === 'float32' ? x.detach().requiresGrad_() : x;
      });
      const out = f(...xs);
      if (out.requiresGrad) {
        const w = nb.cos(nb.arange(0, out.size, 1, { device, dtype: 'float32' })).reshape(out.shape);
        nb.sum(nb.mul(out, w)).backward();
      }
      return { out, grads: xs.map((x) => x.grad ?? null) };
    });
    expect(out.device, name).toBe(device);
    try {
      return { out: await out.data(), grads: await Promise.all(grads.map((x) => x?.data() ?? null)) };
    } finally {
      nb.dispose([out, ...grads.filter((x): x is nb.Tensor => x !== null)]);
    }
  };
  const a = await run(device),
    b = await run('js');
  nb.dispose(base);
  close(a.out, b.out, `${name} forward`);
  a.grads.forEach((gw, i) => {
    const gj = b.grads[i];
    expect(gw === null, `${name}: gradient ${i} present on one backend only`).toBe(gj === null);
    if (gw && gj) close(gw, gj, `${name} gradient of input ${i}`);
  });
}
