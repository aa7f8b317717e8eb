// The webgpu backend against the js reference: every conformance case (forward and gradients), the
// random stream bit for bit, fused kernels against their composed defaults, memory that stays flat,
// and clear errors. Runs in the vitest project `webgpu` (SwiftShader where there is no GPU).
import { describe, it, expect, beforeAll } from 'vitest';
import * as nb from '../../src/index.js';
import { webgpuUnavailable } from '../helpers/webgpu.js';
import { settleGarbage } from '../helpers/gc.js';
import { cases, composites, check, close, g } from './cases.js';

const unavailable = await webgpuUnavailable();
const gpu = () => nb.webgpuBackend();

/** Cases that cannot run on webgpu, with the reason (checked separately below). */
const NOT_ON_GPU: Record<string, string> = {
  'cast to float64 and back': 'float64 is not supported on webgpu',
};

describe.skipIf(!!unavailable)('webgpu matches js', () => {
  beforeAll(() => {
    const info = gpu().info!() as { source: string; adapter: Record<string, string> };
    console.log(`webgpu adapter: ${JSON.stringify(info.adapter)} via ${info.source}`);
  });

  for (const [prim, list] of Object.entries(cases)) {
    for (const c of list) {
      if (NOT_ON_GPU[c[0]]) continue;
      it(`${prim}: ${c[0]}`, () => check(c, 'webgpu'));
    }
  }
  for (const c of composites) it(`composite: ${c[0]}`, () => check(c, 'webgpu'));

  it('float64 is a clear error', () => {
    expect(() => nb.zeros([3], { dtype: 'float64', device: 'webgpu' })).toThrow(/float64 is not supported on webgpu/);
  });

  it('has no synchronous read, and says what to use', () => {
    const t = nb.ones([2], { device: 'webgpu' });
    expect(() => t.dataSync()).toThrow(/await t.data\(\)/);
  });

  it('random draws are bit-identical to js at any counter (block edges, 32-bit wrap)', async () => {
    for (const [skip, n] of [
      [0, 37],
      [1, 50],
      [2, 3],
      [3, 70],
      [5, 1],
      [4294967290 * 4 - 3, 40],
    ]) {
      const draw = async (device: string) => {
        const gen = new nb.Generator(9);
        gen.take(skip);
        return Array.from(await nb.rand([n], { generator: gen, device }).data());
      };
      expect(await draw('webgpu'), `counter ${skip}, ${n} values`).toEqual(await draw('js'));
    }
  });

  it('unary float32 math against float64 Math on a sweep with NaN, ±∞ and extremes', async () => {
    const xs: number[] = [];
    for (let i = 0; i <= 4000; i++) xs.push(-20 + i / 100);
    xs.push(0, -0, 1e-30, -1e-30, 50, -50, 88, -88, 100, -100);
    const x = nb.tensor(Float32Array.from(xs), { device: 'webgpu' });
    const pos = nb.tensor(Float32Array.from(xs.map(Math.abs)), { device: 'webgpu' });
    const ops: [string, nb.Tensor, (x: nb.Tensor) => nb.Tensor, (x: number) => number][] = [
      ['exp', x, nb.exp, Math.exp],
      ['tanh', x, nb.tanh, Math.tanh],
      ['sin', x, nb.sin, Math.sin],
      ['cos', x, nb.cos, Math.cos],
      ['log', pos, nb.log, Math.log],
      ['sqrt', pos, nb.sqrt, Math.sqrt],
    ];
    for (const [name, input, f, ref] of ops) {
      const src = await input.data(),
        y = await f(input).data();
      for (let i = 0; i < y.length; i++) {
        const want = Math.fround(ref(src[i])),
          got = y[i];
        if (!Number.isFinite(want)) {
          expect(got, `${name}(${src[i]})`).toBe(want);
          continue;
        }
        if (!(Math.abs(got - want) <= 4e-6 * Math.max(1, Math.abs(want)))) expect.fail(`${name}(${src[i]}) = ${got}, want ${want}`);
      }
    }
    const special = nb.tensor([NaN, Infinity, -Infinity, 0], { device: 'webgpu' });
    expect(Array.from(await nb.log(special).data())).toEqual([NaN, Infinity, NaN, -Infinity]);
    expect(Array.from(await nb.exp(special).data())).toEqual([NaN, Infinity, 0, 1]);
    expect(Array.from(await nb.tanh(special).data())).toEqual([NaN, 1, -1, 0]);
    for (const f of [nb.sin, nb.cos, nb.erf, nb.sqrt, nb.floor, nb.reciprocal]) expect((await f(special).data())[0]).toBeNaN();
  });

  for (const approximate of ['none', 'tanh'] as const) {
    it(`fused GELU (${approximate}) matches the composed one, forward, backward and second derivative`, async () => {
      const x0 = nb.mul(nb.randn([5, 33], { device: 'webgpu', generator: g }), 3);
      const run = async (mode: nb.FusedMode) => {
        const before = nb.setFusedMode(mode);
        try {
          const x = x0.detach().requiresGrad_();
          const y = nb.gelu(x, approximate);
          const [dx] = nb.gradOf(nb.sum(nb.mul(y, y)), [x], { createGraph: true, retainGraph: true }) as nb.Tensor[];
          const [ddx] = nb.gradOf(nb.sum(dx), [x]) as nb.Tensor[];
          const x2 = x0.detach().requiresGrad_();
          nb.sum(nb.mul(nb.gelu(x2, approximate), x0)).backward(); // the fused backward (nothing recorded)
          return { y: await y.data(), dx: await dx.data(), ddx: await ddx.data(), g: await x2.grad!.data() };
        } finally {
          nb.setFusedMode(before);
        }
      };
      const fused = await run('fused');
      const composed = await run('composed');
      for (const k of ['y', 'dx', 'ddx', 'g'] as const) close(fused[k], composed[k], `gelu ${approximate} ${k}`);
      expect(nb.webgpuBackend().fused?.gelu).toBeTypeOf('function');
    });
  }

  it('a buffer over the device limit is a clear error naming the size', () => {
    const limit = gpu().runtime.maxBufferBytes;
    expect(() => nb.zeros([Math.ceil(limit / 4) + 16], { device: 'webgpu' })).toThrow(/over this device's limit/);
  });

  it('many ops between reads are batched into few submits', async () => {
    const x = nb.randn([64], { device: 'webgpu', generator: g });
    const before = gpu().stats();
    let y = x;
    for (let i = 0; i < 200; i++) y = nb.add(nb.mul(y, 0.5), x);
    await y.data();
    const after = gpu().stats();
    expect(after.dispatches - before.dispatches).toBeGreaterThanOrEqual(400);
    expect(after.submits - before.submits).toBeLessThanOrEqual(4);
  });

  it('a training loop keeps live buffers flat', async () => {
    nb.manualSeed(1);
    const model = new nb.nn.Sequential(new nb.nn.Linear(20, 32), new nb.nn.ReLU(), new nb.nn.Linear(32, 4)).to('webgpu');
    const opt = new nb.optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = nb.randn([16, 20], { device: 'webgpu' }),
      y = nb.randint(0, 4, [16], { device: 'webgpu' });
    let at = -1;
    for (let i = 0; i < 60; i++) {
      const loss = nb.scope(() => {
        opt.zeroGrad();
        const l = nb.nn.functional.crossEntropy(model.forward(x), y);
        l.backward();
        opt.step();
        return l.detach();
      });
      if (i % 20 === 19) await loss.data();
      loss.dispose();
      if (i === 19) {
        await settleGarbage();
        at = gpu().liveBuffers();
      }
    }
    await settleGarbage();
    expect(gpu().liveBuffers()).toBe(at);
  });
});

describe.skipIf(!unavailable)('webgpu', () => {
  it(`is not available here, so its suite is skipped: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
