// The wasm backend against the js reference: every primitive (and the composites built on them),
// forward values and input gradients, float32, on plain, broadcast, transposed, sliced and batched
// operands. Also the fused kernels against their composed defaults, thread-count independence,
// memory that stays flat, and out-of-memory errors.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { erf as erf64 } from '../../src/backends/js/math.js';

import { cases, composites, close, check, g } from './cases.js';

const wasm = nb.wasmBackend();
describe('wasm matches js', () => {
  it(`uses a SIMD variant (${wasm.variant}) with ${wasm.threads} thread(s)`, () => {
    expect(wasm.info!().simd).toBe(true);
  });

  for (const [prim, list] of Object.entries(cases)) {
    for (const c of list) it(`${prim}: ${c[0]}`, () => check(c, 'wasm'));
  }
  for (const c of composites) it(`composite: ${c[0]}`, () => check(c, 'wasm'));

  it('random draws are bit-identical on both backends at any counter (block edges, 32-bit wrap)', () => {
    for (const [skip, n] of [
      [0, 37],
      [1, 50],
      [2, 3],
      [3, 70],
      [5, 1],
      [4294967290 * 4 - 3, 40],
    ]) {
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
    const before = nb.setFusedMode(composed ? 'composed' : 'fused');
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
      nb.setFusedMode(before);
    }
  }
  const adams: [string, (ps: nb.Tensor[]) => nb.optim.Optimizer][] = [
    ['Adam', (ps) => new nb.optim.Adam(ps, { lr: 0.01 })],
    ['Adam with L2 weight decay', (ps) => new nb.optim.Adam(ps, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.9] })],
    ['AdamW', (ps) => new nb.optim.AdamW(ps, { lr: 0.01, weightDecay: 0.1 })],
  ];
  for (const [name, make] of adams) {
    it(`fused ${name} step gives the composed step's values`, () => {
      const fused = adamRun(make, false),
        composed = adamRun(make, true);
      fused.forEach((f, i) => close(f, composed[i], `${name} parameter ${i}`));
    });
  }

  for (const isLog of [false, true]) {
    it(`fused ${isLog ? 'logSoftmax' : 'softmax'} matches the composed one on wide rows and extreme values`, () => {
      const gen = new nb.Generator(4);
      const x = nb.mul(nb.randn([7, 1001], { device: 'wasm', generator: gen }), 30); // logits up to ~±150
      const rows = nb.concat([x, nb.full([1, 1001], -1e30, { device: 'wasm' }).add(nb.arange(0, 1001, 1, { device: 'wasm', dtype: 'float32' }))], 0);
      const run = (composed: boolean) => {
        const before = nb.setFusedMode(composed ? 'composed' : 'fused');
        try {
          const xi = rows.detach().requiresGrad_();
          const y = isLog ? nb.logSoftmax(xi, -1) : nb.softmax(xi, -1);
          nb.sum(nb.mul(y, nb.cos(nb.arange(0, y.size, 1, { device: 'wasm', dtype: 'float32' })).reshape(y.shape))).backward();
          return { y: y.dataSync(), g: xi.grad!.dataSync() };
        } finally {
          nb.setFusedMode(before);
        }
      };
      const fused = run(false),
        composed = run(true);
      close(fused.y, composed.y, 'values');
      close(fused.g, composed.g, 'gradients');
    });
  }

  it('fused softmax gives exactly 0 for −∞ (masked) entries and NaN for an all −∞ row, as the composed one', () => {
    const m = -Infinity;
    const x = nb.tensor(
      [
        [0, m, 1, m, 2, m, m, 3, 0.5],
        [m, m, m, m, m, m, m, m, m],
      ],
      { device: 'wasm' },
    );
    for (const composed of [false, true]) {
      const before = nb.setFusedMode(composed ? 'composed' : 'fused');
      try {
        const y = nb.softmax(x, -1).dataSync();
        for (const i of [1, 3, 5, 6]) expect(y[i]).toBe(0);
        expect(y[0] + y[2] + y[4] + y[7] + y[8]).toBeCloseTo(1, 6);
        for (let i = 9; i < 18; i++) expect(y[i]).toBeNaN();
      } finally {
        nb.setFusedMode(before);
      }
    }
  });

  /** Each product against a float64 reference: a float32 sum's error is bounded by a small multiple of its terms' magnitudes. */
  function checkAgainstFloat64(inputs: nb.Tensor[][], got: number[][], what: string): void {
    inputs.forEach(([a, b], n) => {
      const [M, K] = a.shape,
        N = b.shape[1],
        ad = a.contiguous().dataSync(),
        bd = b.contiguous().dataSync();
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0,
            mag = 0;
          for (let k = 0; k < K; k++) {
            const t = ad[i * K + k] * bd[k * N + j];
            s += t;
            mag += Math.abs(t);
          }
          const v = got[n][i * N + j];
          if (!(Math.abs(v - s) <= 1e-5 * mag)) expect.fail(`${what} ${n}: element (${i}, ${j}): ${v} vs ${s}`);
        }
      }
    });
  }

  /** The products on 1 thread, checked in float64, then the same bits on 2 and 3 threads. */
  async function sameBitsOnThreads(inputs: nb.Tensor[][], what: string): Promise<void> {
    const threaded = wasm.variant.endsWith('Threads');
    const run = () => inputs.map(([a, b]) => Array.from(nb.matmul(a, b).dataSync()));
    const before = wasm.threads;
    try {
      wasm.setThreads(1);
      const one = run();
      // Against a float64 reference too, so that equal wrong answers cannot pass.
      checkAgainstFloat64(inputs, one, what);
      for (const nt of threaded ? [2, 3] : []) {
        wasm.setThreads(nt);
        expect(await wasm.ready()).toBe(nt);
        run().forEach((r, n) => expect(r, `${what} ${n} on ${nt} threads`).toEqual(one[n]));
      }
    } finally {
      wasm.setThreads(Math.max(before, 1));
      await wasm.ready();
    }
  }

  it('GEMMs give the same bits on 1, 2 and 3 threads, whichever way the work is split and the operands are laid out', async () => {
    const rn = (shape: number[]) => nb.randn(shape, { device: 'wasm', generator: g });
    await sameBitsOnThreads(
      [
        [rn([70, 90]), rn([90, 130])], // split by columns (N ≥ M)
        [rn([131, 203]).t(), rn([19, 131]).t()], // split by rows; Aᵀ packed by vectors, Bᵀ by 4x4 transposes with K % 4 = 3
        [rn([300, 23]).t(), rn([300, 64])], // weight-gradient shape Xᵀ·dY, K > KC (two slices of K)
        [rn([50, 263]), rn([40, 263]).t()], // x·Wᵀ with a ragged last panel
      ],
      'GEMM',
    );
  });

  it('large elementwise binary ops (split by rows, or by columns of one row) give the same bits on 1, 2 and 3 threads', async () => {
    const rn = (shape: number[]) => nb.randn(shape, { device: 'wasm', generator: g });
    // ±0 and NaN where maximum's vector and scalar paths could disagree; 40,003 columns leave a scalar tail.
    const edge = nb.tensor(
      Array.from({ length: 40_003 }, (_, i) => [0, -0, NaN, 1.5][i % 4]),
      { device: 'wasm' },
    );
    const edge2 = nb.tensor(
      Array.from({ length: 40_003 }, (_, i) => [-0, 0, 2, NaN][i % 4]),
      { device: 'wasm' },
    );
    const cases: [string, () => nb.Tensor][] = [
      ['add rows', () => nb.add(rn([300, 129]), rn([300, 129]))],
      ['bias add (broadcast row)', () => nb.add(rn([257, 160]), rn([160]))],
      ['div one long row', () => nb.div(rn([40_003]), rn([40_003]))],
      ['maximum with ±0 and NaN', () => nb.maximum(edge, edge2)],
      ['minimum with ±0 and NaN', () => nb.minimum(edge2, edge)],
    ];
    const before = wasm.threads;
    const run = () =>
      cases.map(([, f]) => {
        const t = f();
        const v = Array.from(t.dataSync(), (x) => (Object.is(x, -0) ? '-0' : x));
        t.dispose();
        return v;
      });
    try {
      wasm.setThreads(1);
      const seed = g.getState();
      const one = run();
      for (const nt of wasm.variant.endsWith('Threads') ? [2, 3] : []) {
        wasm.setThreads(nt);
        expect(await wasm.ready()).toBe(nt);
        g.setState(seed);
        run().forEach((r, i) => expect(r, `${cases[i][0]} on ${nt} threads`).toEqual(one[i]));
      }
    } finally {
      wasm.setThreads(Math.max(before, 1));
      await wasm.ready();
    }
  });

  it('few-row matmuls (M ≤ 4, both layouts of B) give the same bits on 1, 2 and 3 threads', async () => {
    await sameBitsOnThreads(
      [1, 2, 3, 4].flatMap((m) => [
        [nb.randn([m, 300], { device: 'wasm', generator: g }), nb.randn([300, 1037], { device: 'wasm', generator: g })],
        [nb.randn([m, 301], { device: 'wasm', generator: g }), nb.randn([1030, 301], { device: 'wasm', generator: g }).t()],
      ]),
      'few-row matmul',
    );
  });

  it('2,000 training steps keep live buffers and the heap flat', () => {
    nb.manualSeed(1);
    const model = new nb.nn.Sequential(new nb.nn.Linear(20, 64), new nb.nn.ReLU(), new nb.nn.Dropout(0.1), new nb.nn.Linear(64, 4));
    model.to('float32');
    for (const p of model.parameters()) expect(p.device).toBe(nb.getBackend().name);
    if (nb.getBackend().name !== 'wasm') return; // the js project checks liveBuffers in tests/tensor
    const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = nb.randn([32, 20]),
      y = nb.randint(0, 4, [32]);
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
    expect(() => nb.zeros([1 << 30, 2], { device: 'wasm' })).toThrow(
      /^zeros: a float32 tensor of shape \[1073741824,2\] needs 8589934592 bytes, more than the wasm heap's maximum of \d+ MiB$/,
    );
    // and the heap still works afterwards
    expect(nb.ones([3], { device: 'wasm' }).sum().itemSync()).toBe(3);
  });
});

describe('wasm variants (the fallback chain)', () => {
  // The relaxed builds load on Node 20-21 too: the backend turns on V8's flag for them.
  for (const variant of ['simd', 'simdThreads', 'relaxed', 'relaxedThreads'] as const) {
    it(`the ${variant} build loads on its own and matches js`, async () => {
      const name = `wasm-${variant}`;
      const threaded = variant.endsWith('Threads');
      nb.registerBackend(name, () => nb.createWasmBackend({ name, variants: [variant], threads: threaded ? 2 : 1 }));
      const b = nb.wasmBackendByName(name);
      await b.ready();
      expect(b.variant).toBe(variant);
      expect(b.threads).toBe(threaded ? 2 : 1);
      const x = nb.randn([37, 53], { device: 'js', generator: g }),
        w = nb.randn([29, 53], { device: 'js', generator: g });
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
  const bits = new Float32Array(1),
    u32 = new Uint32Array(bits.buffer);
  /** Position on the float32 number line (−0 and +0 the same), so |ord(a) − ord(b)| counts ulps. */
  const ord = (v: number): number => {
    bits[0] = v;
    const b = u32[0];
    return b & 0x80000000 ? -(b & 0x7fffffff) : b;
  };
  const specials = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    1,
    -1,
    1e-45,
    -1e-45,
    1.1754942e-38,
    -1.1754942e-38,
    3.4028235e38,
    -3.4028235e38,
    88.72283,
    88.7229,
    89,
    -87.3365,
    -87.34,
    -103.9,
    -104,
    -150,
    0.5,
    0.625,
    0.9999999,
    1.0000001,
    3.92,
    9.02,
  ];
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
    ['exp', nb.exp, Math.exp],
    ['log', nb.log, Math.log],
    ['tanh', nb.tanh, Math.tanh],
    ['erf', nb.erf, erf64],
  ];
  const xs = sweep();
  for (const [name, f, ref] of ops) {
    it(`${name}: within 2 ulp of the rounded float64 value on ${xs.length} inputs; NaN, ±∞, ±0 and subnormals exact`, () => {
      const y = f(nb.tensor(xs, { device: 'wasm' })).dataSync();
      let worst = 0,
        at = 0;
      for (let i = 0; i < xs.length; i++) {
        const want = Math.fround(ref(xs[i])),
          got = y[i];
        if (Number.isNaN(want) || !Number.isFinite(want) || want === 0) {
          if (!Object.is(got, want)) expect.fail(`${name}(${xs[i]}) = ${got}, want ${want}`);
          continue;
        }
        const d = Math.abs(ord(got) - ord(want));
        if (d > worst) {
          worst = d;
          at = xs[i];
        }
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
    for (const [name, f, ref] of [
      ['tanh', nb.tanh, Math.tanh],
      ['erf', nb.erf, erf64],
    ] as const) {
      const y = f(nb.tensor(small, { device: 'wasm' })).dataSync();
      let worst = 0,
        at = 0;
      for (let i = 0; i < small.length; i++) {
        const rel = Math.abs(y[i] - ref(small[i])) / Math.abs(ref(small[i]));
        if (rel > worst) {
          worst = rel;
          at = small[i];
        }
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
