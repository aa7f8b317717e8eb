// The wasm backend against the js reference: every primitive (and the composites built on them),
// forward values and input gradients, float32, on plain, broadcast, transposed, sliced and batched
// operands. Also the fused kernels against their composed defaults, thread-count independence,
// memory that stays flat, and out-of-memory errors.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import * as nb from '../../src/index.js';
import { enableRelaxedSimd } from '../../src/platform/relaxed-simd.js';
import { erf as erf64 } from '../../src/backends/js/math.js';

const wasm = nb.wasmBackend();
const g = new nb.Generator(7);
const js = { device: 'js' };

/** An input: made on js from the generator, then moved to each backend. */
type Make = () => nb.Tensor;
const rn = (shape: number[]): Make => () => nb.randn(shape, { ...js, generator: g });
const ru = (shape: number[], lo: number, hi: number): Make => () => nb.uniform(shape, lo, hi, { ...js, generator: g });
const ints = (vals: number[] | number[][]): Make => () => nb.tensor(vals, { ...js, dtype: 'int32' });
const bools = (shape: number[]): Make => () => nb.less(nb.rand(shape, { ...js, generator: g }), 0.5);

type Case = [name: string, f: (...xs: nb.Tensor[]) => nb.Tensor, inputs: Make[]];

/** Cases by the primitive they exercise; the guard test checks that every primitive has some. */
const cases: Record<string, Case[]> = {
  neg: [['neg', (x) => nb.neg(x), [rn([33])]]],
  exp: [['exp', (x) => nb.exp(x), [rn([4, 9])]]],
  log: [['log', (x) => nb.log(x), [ru([37], 0.1, 5)]]],
  sqrt: [['sqrt', (x) => nb.sqrt(x), [ru([37], 0.1, 5)]], ['sqrt of a transposed view', (x) => nb.sqrt(x.t()), [ru([5, 7], 0.1, 5)]]],
  reciprocal: [['reciprocal', (x) => nb.reciprocal(x), [ru([19], 0.5, 3)]]],
  sin: [['sin', (x) => nb.sin(x), [rn([21])]]],
  cos: [['cos', (x) => nb.cos(x), [rn([21])]]],
  tanh: [['tanh', (x) => nb.tanh(x), [rn([3, 11])]]],
  erf: [['erf', (x) => nb.erf(x), [rn([3, 11])]]],
  floor: [['floor', (x) => nb.floor(x.mul(3)), [rn([17])]]],
  abs: [['abs', (x) => nb.abs(x), [rn([17])]]],
  add: [
    ['add same shape', (a, b) => nb.add(a, b), [rn([5, 13]), rn([5, 13])]],
    ['add row bias [B,T,C] + [C]', (a, b) => nb.add(a, b), [rn([2, 3, 7]), rn([7])]],
    ['add outer [N,1] + [1,M]', (a, b) => nb.add(a, b), [rn([6, 1]), rn([1, 9])]],
    ['add column [N,M] + [N,1]', (a, b) => nb.add(a, b), [rn([6, 9]), rn([6, 1])]],
    ['add scalar', (a) => nb.add(a, 1.5), [rn([3, 5])]],
    ['add conv bias [N,C,H,W] + [1,C,1,1] (three levels)', (a, b) => nb.add(a, b), [rn([3, 4, 5, 6]), rn([1, 4, 1, 1])]],
    ['add transposed + plain', (a, b) => nb.add(a.t(), b), [rn([4, 6]), rn([6, 4])]],
  ],
  sub: [['sub scalar first', (a) => nb.sub(2, a), [rn([10])]], ['sub broadcast 3-D', (a, b) => nb.sub(a, b), [rn([2, 1, 5]), rn([3, 1])]]],
  mul: [['mul', (a, b) => nb.mul(a, b), [rn([7, 3]), rn([7, 3])]], ['mul sliced', (a, b) => nb.mul(a.slice(1, 1, 5), b), [rn([3, 6]), rn([3, 4])]]],
  div: [['div', (a, b) => nb.div(a, b), [rn([9]), ru([9], 0.5, 2)]]],
  pow: [['pow', (a, b) => nb.pow(a, b), [ru([9], 0.5, 2), rn([9])]], ['pow scalar exponent', (a) => nb.pow(a, 3), [rn([2, 5])]]],
  maximum: [['maximum', (a, b) => nb.maximum(a, b), [rn([15]), rn([15])]], ['relu', (a) => nb.relu(a), [rn([4, 8])]]],
  minimum: [['minimum', (a, b) => nb.minimum(a, b), [rn([15]), rn([1])]]],
  less: [['less', (a, b) => nb.less(a, b).float().add(a), [rn([4, 5]), rn([5])]]],
  equal: [['equal', (a) => nb.equal(nb.floor(a), nb.floor(a.flip?.(0) ?? a)).float(), [ru([12], -2, 2)]]],
  where: [['where', (c, a, b) => nb.where(c, a, b), [bools([4, 6]), rn([4, 6]), rn([6])]],
    ['where three levels', (c, a, b) => nb.where(c, a, b), [bools([3, 4, 5]), rn([3, 4, 5]), rn([1, 4, 1])]], ['where scalar branch', (c, a) => nb.where(c, a, 0), [bools([9]), rn([9])]]],
  sum: [
    ['sum all', (x) => nb.sum(x), [rn([5, 7])]],
    ['sum rows', (x) => nb.sum(x, -1), [rn([5, 37])]],
    ['sum middle', (x) => nb.sum(x, 1), [rn([3, 4, 5])]],
    ['sum two axes', (x) => nb.sum(x, [0, 2]), [rn([3, 4, 5])]],
    ['sum of a transposed view', (x) => nb.sum(x.t(), 1), [rn([6, 3])]],
    ['sum over separated axes (bias gradient shape)', (x) => nb.sum(x, [0, 2, 3]), [rn([3, 4, 5, 6])]],
    ['max over separated axes of a permuted view', (x) => nb.max(x.permute(2, 0, 1), [0, 2]), [rn([3, 4, 5])]],
  ],
  max: [['max rows', (x) => nb.max(x, -1), [rn([4, 21])]], ['max first axis', (x) => nb.max(x, 0), [rn([5, 6])]]],
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
    ['gather', (x, i) => nb.gather(x, 1, i), [rn([3, 5]), ints([[0, 4], [2, 2], [1, 3]])]],
    ['row gather (embedding lookup)', (x, i) => nb.indexSelect(x, 0, i), [rn([10, 32]), ints([3, 3, 9, 0, 5])]],
    ['row gather on a middle axis', (x, i) => nb.indexSelect(x, 1, i), [rn([2, 6, 4, 5]), ints([5, 0, 2])]],
  ],
  scatterAdd: [['indexSelect backward uses scatterAdd', (x, i) => nb.indexSelect(x, 0, i), [rn([5, 3]), ints([4, 0, 4, 2])]]],
  concat: [['concat', (a, b) => nb.concat([a, b], 1), [rn([3, 2]), rn([3, 4])]], ['stack', (a, b) => nb.stack([a, b]), [rn([5]), rn([5])]]],
  pad: [['pad', (x) => nb.pad(x, [1, 2, 0, 1]), [rn([3, 4])]]],
  unfold: [
    ['unfold 3x3 same', (x) => nb.unfold(x, { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1], value: 0 }), [rn([2, 3, 7, 6])]],
    ['unfold strided, dilated, -inf padding (max pool)', (x) => nb.max(nb.unfold(x, { kernel: [2, 3], stride: [2, 2], dilation: [2, 1], pads: [1, 0, 1, 1], value: -Infinity }), [4, 5]), [rn([2, 2, 9, 8])]],
    ['unfold of a transposed image', (x) => nb.unfold(x.transpose(2, 3), { kernel: [2, 2], stride: [1, 1], dilation: [1, 1], pads: [0, 0, 0, 0], value: 0 }), [rn([1, 2, 5, 4])]],
  ],
  fold: [['fold', (g) => nb.fold(g, [2, 3, 6, 5], { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], pads: [1, 1, 1, 1] }), [rn([2, 6, 5, 3, 3, 3])]]],
  random: [['dropout draws the same mask', (x) => nb.nn.functional.dropout(x, 0.3, true, new nb.Generator(5)), [rn([8, 16])]]],
};

const composites: Case[] = [
  ['softmax', (x) => nb.softmax(x, -1), [rn([4, 10])]],
  ['logSoftmax', (x) => nb.logSoftmax(x, -1), [rn([4, 10])]],
  ['gelu', (x) => nb.gelu(x), [rn([30])]],
  ['sigmoid', (x) => nb.sigmoid(x), [rn([30])]],
  ['crossEntropy', (x, y) => nb.nn.functional.crossEntropy(x, y), [rn([6, 5]), ints([0, 4, 1, 2, 3, 0])]],
  ['mseLoss', (x, y) => nb.nn.functional.mseLoss(x, y), [rn([6, 5]), rn([6, 5])]],
  ['conv2d groups 2, stride 2', (x, w) => nb.nn.functional.conv2d(x, w, null, { groups: 2, stride: 2, padding: 1 }), [rn([2, 4, 7, 7]), rn([6, 2, 3, 3])]],
  ['maxPool2d and avgPool2d', (x) => nb.add(nb.nn.functional.maxPool2d(x, 2), nb.nn.functional.avgPool2d(x, 3, { stride: 2, padding: 1 }).slice(2, 0, 3).slice(3, 0, 3)), [rn([2, 3, 6, 6])]],
  ['conv2d MNIST-CNN style', (x, w, b) => nb.nn.functional.conv2d(x, w, b, { padding: 'same' }), [rn([2, 3, 9, 9]), rn([5, 3, 3, 3]), rn([5])]],
  ['linear layer chain', (x, w, b) => nb.relu(nb.add(nb.matmul(x, w.t()), b)).mean(), [rn([16, 40]), rn([24, 40]), rn([24])]],
];

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    const tol = 2e-5 * Math.max(1, Math.abs(x), Math.abs(y));
    if (!(Math.abs(x - y) <= tol)) expect.fail(`${what}: element ${i}: wasm ${x} vs js ${y}`);
  }
}

/** Run f on both backends from the same inputs; compare the outputs and every float input's gradient. */
function check([name, f, makers]: Case): void {
  const base = makers.map((m) => m());
  const run = (device: string) => {
    const xs = base.map((t) => {
      const x = t.to(device);
      return x.dtype === 'float32' ? x.detach().requiresGrad_() : x;
    });
    const out = f(...xs);
    expect(out.device, name).toBe(device);
    if (out.requiresGrad) {
      const w = nb.cos(nb.arange(0, out.size, 1, { device, dtype: 'float32' })).reshape(out.shape);
      nb.sum(nb.mul(out, w)).backward();
    }
    return { out: out.dataSync(), grads: xs.map((x) => x.grad?.dataSync() ?? null) };
  };
  const a = run('wasm'), b = run('js');
  close(a.out, b.out, `${name} forward`);
  a.grads.forEach((gw, i) => {
    const gj = b.grads[i];
    expect(gw === null, `${name}: gradient ${i} present on one backend only`).toBe(gj === null);
    if (gw && gj) close(gw, gj, `${name} gradient of input ${i}`);
  });
}

describe('wasm matches js', () => {
  it(`uses a SIMD variant (${wasm.variant}) with ${wasm.threads} thread(s)`, () => {
    expect(wasm.info!().simd).toBe(true);
  });

  for (const [prim, list] of Object.entries(cases)) {
    for (const c of list) it(`${prim}: ${c[0]}`, () => check(c));
  }
  for (const c of composites) it(`composite: ${c[0]}`, () => check(c));

  it('covers every primitive of the backend interface', () => {
    const src = readFileSync(new URL('../../src/backends/backend.ts', import.meta.url), 'utf8');
    const body = src.slice(src.indexOf('export interface PrimParams'), src.indexOf('export type Prim ='));
    const prims = [...body.matchAll(/(\w+): \{/g)].map((m) => m[1]);
    expect(prims.length).toBeGreaterThan(30);
    for (const p of prims) expect(Object.keys(cases), `no conformance case for '${p}'`).toContain(p);
  });

  it('random draws are bit-identical on both backends at any counter (block edges, 32-bit wrap)', () => {
    for (const [skip, n] of [[0, 37], [1, 50], [2, 3], [3, 70], [5, 1], [4294967290 * 4 - 3, 40]]) {
      const draw = (device: string) => {
        const gen = new nb.Generator(9);
        gen.take(skip);
        return Array.from(nb.rand([n], { generator: gen, device }).dataSync());
      };
      expect(draw('wasm'), `counter ${skip}, ${n} values`).toEqual(draw('js'));
    }
  });

  it('float64 runs on the wasm backend too (through the reference kernels over its heap)', () => {
    const x = nb.randn([4, 6], { dtype: 'float64', device: 'js', generator: g });
    const y = nb.matmul(x.to('wasm'), x.to('wasm').t());
    expect(y.dtype).toBe('float64');
    close(y.dataSync(), nb.matmul(x, x.t()).dataSync(), 'float64 matmul');
  });
});

describe('wasm fused kernels and threads', () => {
  function adamRun(make: (ps: nb.Tensor[]) => nb.optim.Optimizer, composed: boolean): Float32Array[] {
    nb.optim.Adam.composedOnly = composed;
    try {
      const gen = new nb.Generator(3);
      const ps = [nb.randn([37, 5], { device: 'wasm', generator: gen }).requiresGrad_(), nb.randn([5], { device: 'wasm', generator: gen }).requiresGrad_()];
      const opt = make(ps);
      for (let s = 0; s < 5; s++) {
        opt.zeroGrad();
        nb.scope(() => nb.sum(nb.mul(nb.tanh(nb.matmul(ps[0], ps[1])), nb.arange(0, 37, 1, { device: 'wasm' }))).backward());
        opt.step();
      }
      return ps.map((p) => p.dataSync() as Float32Array);
    } finally {
      nb.optim.Adam.composedOnly = false;
    }
  }
  const adams: [string, (ps: nb.Tensor[]) => nb.optim.Optimizer][] = [
    ['Adam', (ps) => new nb.optim.Adam(ps, { lr: 0.01 })],
    ['Adam with L2 weight decay', (ps) => new nb.optim.Adam(ps, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.9] })],
    ['AdamW', (ps) => new nb.optim.AdamW(ps, { lr: 0.01, weightDecay: 0.1 })],
  ];
  for (const [name, make] of adams) {
    it(`fused ${name} step gives the composed step's values`, () => {
      const fused = adamRun(make, false), composed = adamRun(make, true);
      fused.forEach((f, i) => close(f, composed[i], `${name} parameter ${i}`));
    });
  }

  for (const isLog of [false, true]) {
    it(`fused ${isLog ? 'logSoftmax' : 'softmax'} matches the composed one on wide rows and extreme values`, () => {
      const gen = new nb.Generator(4);
      const x = nb.mul(nb.randn([7, 1001], { device: 'wasm', generator: gen }), 30); // logits up to ~±150
      const rows = nb.concat([x, nb.full([1, 1001], -1e30, { device: 'wasm' }).add(nb.arange(0, 1001, 1, { device: 'wasm', dtype: 'float32' }))], 0);
      const run = (composed: boolean) => {
        nb.softmaxOptions.composedOnly = composed;
        try {
          const xi = rows.detach().requiresGrad_();
          const y = isLog ? nb.logSoftmax(xi, -1) : nb.softmax(xi, -1);
          nb.sum(nb.mul(y, nb.cos(nb.arange(0, y.size, 1, { device: 'wasm', dtype: 'float32' })).reshape(y.shape))).backward();
          return { y: y.dataSync(), g: xi.grad!.dataSync() };
        } finally {
          nb.softmaxOptions.composedOnly = false;
        }
      };
      const fused = run(false), composed = run(true);
      close(fused.y, composed.y, 'values');
      close(fused.g, composed.g, 'gradients');
    });
  }

  it('fused softmax gives exactly 0 for −∞ (masked) entries and NaN for an all −∞ row, as the composed one', () => {
    const m = -Infinity;
    const x = nb.tensor([[0, m, 1, m, 2, m, m, 3, 0.5], [m, m, m, m, m, m, m, m, m]], { device: 'wasm' });
    for (const composed of [false, true]) {
      nb.softmaxOptions.composedOnly = composed;
      try {
        const y = nb.softmax(x, -1).dataSync();
        for (const i of [1, 3, 5, 6]) expect(y[i]).toBe(0);
        expect(y[0] + y[2] + y[4] + y[7] + y[8]).toBeCloseTo(1, 6);
        for (let i = 9; i < 18; i++) expect(y[i]).toBeNaN();
      } finally {
        nb.softmaxOptions.composedOnly = false;
      }
    }
  });

  it('matmul results do not depend on the thread count', async () => {
    const a = nb.randn([70, 90], { device: 'wasm', generator: g }), b = nb.randn([90, 130], { device: 'wasm', generator: g });
    const threaded = nb.matmul(a, b).dataSync();
    const before = wasm.threads;
    wasm.setThreads(1);
    try {
      expect(Array.from(nb.matmul(a, b).dataSync())).toEqual(Array.from(threaded));
    } finally {
      wasm.setThreads(Math.max(before, 1));
      await wasm.ready();
    }
  });

  it('few-row matmuls (M ≤ 4, both layouts of B) give the same bits on 1, 2 and 3 threads', async () => {
    const threaded = wasm.variant.endsWith('Threads');
    const inputs = [1, 2, 3, 4].flatMap((m) => [
      [nb.randn([m, 300], { device: 'wasm', generator: g }), nb.randn([300, 1037], { device: 'wasm', generator: g })],
      [nb.randn([m, 301], { device: 'wasm', generator: g }), nb.randn([1030, 301], { device: 'wasm', generator: g }).t()],
    ]);
    const run = () => inputs.map(([a, b]) => Array.from(nb.matmul(a, b).dataSync()));
    const before = wasm.threads;
    try {
      wasm.setThreads(1);
      const one = run();
      // Against a float64 reference too, so that equal wrong answers cannot pass: the error of a
      // float32 sum is bounded by a small multiple of the sum of the terms' magnitudes.
      inputs.forEach(([a, b], n) => {
        const [M, K] = a.shape, N = b.shape[1], ad = a.dataSync(), bd = b.contiguous().dataSync();
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = 0, mag = 0;
            for (let k = 0; k < K; k++) { const t = ad[i * K + k] * bd[k * N + j]; s += t; mag += Math.abs(t); }
            const got = one[n][i * N + j];
            if (!(Math.abs(got - s) <= 1e-5 * mag)) expect.fail(`few-row matmul ${n}: element (${i}, ${j}): ${got} vs ${s}`);
          }
        }
      });
      for (const nt of threaded ? [2, 3] : []) {
        wasm.setThreads(nt);
        expect(await wasm.ready()).toBe(nt);
        run().forEach((r, n) => expect(r, `few-row matmul ${n} on ${nt} threads`).toEqual(one[n]));
      }
    } finally {
      wasm.setThreads(Math.max(before, 1));
      await wasm.ready();
    }
  });

  it('2,000 training steps keep live buffers and the heap flat', () => {
    nb.manualSeed(1);
    const model = new nb.nn.Sequential(new nb.nn.Linear(20, 64), new nb.nn.ReLU(), new nb.nn.Dropout(0.1), new nb.nn.Linear(64, 4));
    model.to('float32');
    for (const p of model.parameters()) expect(p.device).toBe(nb.getBackend().name);
    if (nb.getBackend().name !== 'wasm') return; // the js project checks liveBuffers in tests/tensor
    const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = nb.randn([32, 20]), y = nb.randint(0, 4, [32]);
    let at100 = { live: 0, heap: 0 };
    for (let i = 0; i < 2000; i++) {
      nb.scope(() => {
        opt.zeroGrad();
        nb.nn.functional.crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
      if (i === 100) at100 = { live: wasm.liveBuffers(), heap: wasm.memoryStats().heapBytes };
    }
    expect(wasm.liveBuffers()).toBe(at100.live);
    expect(wasm.memoryStats().heapBytes).toBe(at100.heap);
  });

  it('out of memory is a clear error naming the size asked for', () => {
    expect(() => nb.zeros([1 << 30, 2], { device: 'wasm' })).toThrow(/wasm: out of memory allocating 8589934592 bytes/);
    // and the heap still works afterwards
    expect(nb.ones([3], { device: 'wasm' }).sum().itemSync()).toBe(3);
  });
});

describe('wasm variants (the fallback chain)', () => {
  for (const variant of ['simd', 'simdThreads', 'relaxed', 'relaxedThreads'] as const) {
    it(`the ${variant} build loads on its own and matches js`, async () => {
      if (variant.startsWith('relaxed')) enableRelaxedSimd(); // a flag on Node 20-21, the default later
      const name = `wasm-${variant}`;
      const threaded = variant.endsWith('Threads');
      nb.registerBackend(name, () => nb.createWasmBackend({ name, variants: [variant], threads: threaded ? 2 : 1 }));
      const b = nb.wasmBackendByName(name);
      await b.ready();
      expect(b.variant).toBe(variant);
      expect(b.threads).toBe(threaded ? 2 : 1);
      const x = nb.randn([37, 53], { device: 'js', generator: g }), w = nb.randn([29, 53], { device: 'js', generator: g });
      const want = nb.relu(nb.matmul(x, w.t())).sum(0).dataSync();
      const got = nb.relu(nb.matmul(x.to(name), w.to(name).t())).sum(0);
      expect(got.device).toBe(name);
      close(got.dataSync(), want, `${variant} linear layer`);
      if (!threaded) expect(() => b.setThreads(2)).toThrow(/no threads/);
      b.close();
    });
  }
});

describe('wasm float32 exp, log, tanh, erf (SIMD polynomial kernels) against float64 Math', () => {
  const bits = new Float32Array(1), u32 = new Uint32Array(bits.buffer);
  /** Position on the float32 number line (−0 and +0 the same), so |ord(a) − ord(b)| counts ulps. */
  const ord = (v: number): number => { bits[0] = v; const b = u32[0]; return b & 0x80000000 ? -(b & 0x7fffffff) : b; };
  const specials = [0, -0, Infinity, -Infinity, NaN, 1, -1, 1e-45, -1e-45, 1.1754942e-38, -1.1754942e-38, 3.4028235e38, -3.4028235e38,
    88.72283, 88.7229, 89, -87.3365, -87.34, -103.9, -104, -150, 0.5, 0.625, 0.9999999, 1.0000001, 3.92, 9.02];
  /** A dense sweep of [−100, 100], a finer one of [−5, 5], every binade from 2^−149 to 2^127 (both signs), the specials. */
  function sweep(): Float32Array {
    const xs: number[] = [];
    for (let i = 0; i <= 200_000; i++) xs.push(-100 + i / 1000);
    for (let i = 0; i <= 100_000; i++) xs.push(-5 + i / 10_000);
    for (let e = -149; e < 128; e += 1 / 64) xs.push(2 ** e, -(2 ** e));
    xs.push(...specials);
    return Float32Array.from(xs); // 402,488 values: not a multiple of 4, so the scalar tail runs too
  }
  const ops: [string, (x: nb.Tensor) => nb.Tensor, (x: number) => number][] = [
    ['exp', nb.exp, Math.exp], ['log', nb.log, Math.log], ['tanh', nb.tanh, Math.tanh], ['erf', nb.erf, erf64],
  ];
  const xs = sweep();
  for (const [name, f, ref] of ops) {
    it(`${name}: within 2 ulp of the rounded float64 value on ${xs.length} inputs; NaN, ±∞, ±0 and subnormals exact`, () => {
      const y = f(nb.tensor(xs, { device: 'wasm' })).dataSync();
      let worst = 0, at = 0;
      for (let i = 0; i < xs.length; i++) {
        const want = Math.fround(ref(xs[i])), got = y[i];
        if (Number.isNaN(want) || !Number.isFinite(want) || want === 0) {
          if (!Object.is(got, want)) expect.fail(`${name}(${xs[i]}) = ${got}, want ${want}`);
          continue;
        }
        const d = Math.abs(ord(got) - ord(want));
        if (d > worst) { worst = d; at = xs[i]; }
      }
      expect(worst, `${name}: worst error ${worst} ulp at x = ${at}`).toBeLessThanOrEqual(2);
    });
  }

  it('the limits and signs: exp(−∞) = 0, log(0) = −∞, log(−1) = NaN, tanh and erf odd with ±1 at ±∞, −0 kept', () => {
    const at = (f: (x: nb.Tensor) => nb.Tensor, vals: number[]) => Array.from(f(nb.tensor(vals, { device: 'wasm' })).dataSync());
    expect(at(nb.exp, [-Infinity, Infinity, NaN, 0, -200, 100])).toEqual([0, Infinity, NaN, 1, 0, Infinity]);
    expect(at(nb.log, [0, -0, -1, -Infinity, Infinity, NaN, 1])).toEqual([-Infinity, -Infinity, NaN, NaN, Infinity, NaN, 0]);
    for (const f of [nb.tanh, nb.erf]) {
      const y = at(f, [Infinity, -Infinity, NaN, 0, -0, 30, -30]);
      expect(y).toEqual([1, -1, NaN, 0, -0, 1, -1]);
      expect(Object.is(y[4], -0)).toBe(true);
    }
    // subnormal results and inputs: e^−100 ≈ 3.7e−44, ln(2^−149), tanh and erf of the smallest subnormal
    expect(at(nb.exp, [-100])[0]).toBe(Math.fround(Math.exp(-100)));
    expect(at(nb.log, [2 ** -149])[0]).toBe(Math.fround(-149 * Math.LN2));
    expect(at(nb.tanh, [2 ** -149])[0]).toBe(2 ** -149);
    expect(at(nb.erf, [2 ** -149, 2 ** -140])).toEqual([2 ** -149, Math.fround(2 ** -140 * 1.1283791670955126)]);
  });

  it('tanh and erf keep their relative accuracy near 0 (no cancellation)', () => {
    const small = Float32Array.from({ length: 4001 }, (_, i) => (i - 2000) * 1e-4 + 1e-9);
    for (const [name, f, ref] of [['tanh', nb.tanh, Math.tanh], ['erf', nb.erf, erf64]] as const) {
      const y = f(nb.tensor(small, { device: 'wasm' })).dataSync();
      let worst = 0, at = 0;
      for (let i = 0; i < small.length; i++) {
        const rel = Math.abs(y[i] - ref(small[i])) / Math.abs(ref(small[i]));
        if (rel > worst) { worst = rel; at = small[i]; }
      }
      expect(worst, `${name}: worst relative error at x = ${at}`).toBeLessThan(2.5e-7);
    }
  });

  it('an element gets the same value in the SIMD loop as in the scalar tail (any alignment)', () => {
    const x = Float32Array.from({ length: 103 }, (_, i) => (i - 50) * 0.173);
    const pos = Float32Array.from(x, (v) => Math.abs(v) + 0.01);
    for (const [name, f] of ops) {
      const t = nb.tensor(name === 'log' ? pos : x, { device: 'wasm' });
      const whole = Array.from(f(t).dataSync());
      for (const start of [1, 2, 3]) {
        const part = Array.from(f(t.slice(0, start, 103)).dataSync());
        expect(part, `${name} from element ${start}`).toEqual(whole.slice(start));
      }
    }
  });
});
