// The fused Adam/AdamW kernel of the webgpu backend against the composed update (on webgpu and on
// the js reference): five steps over parameters of several sizes (one ragged over the 256-thread
// workgroups), each mode of weight decay, and strided or broadcast gradients. Gradients are computed
// on js from the parameters' current values, so the test needs only the elementwise GPU kernels.
// Runs in the vitest project `webgpu` (SwiftShader where there is no GPU).
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { webgpuUnavailable } from '../helpers/webgpu.js';
import { settleGarbage } from '../helpers/gc.js';
import { close } from './cases.js';

const unavailable = await webgpuUnavailable();
const gpu = () => nb.webgpuBackend();

type Make = (ps: nb.Tensor[]) => nb.optim.Optimizer;
const adams: [string, Make][] = [
  ['Adam', (ps) => new nb.optim.Adam(ps, { lr: 0.01 })],
  ['Adam with L2 weight decay', (ps) => new nb.optim.Adam(ps, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.9] })],
  ['AdamW', (ps) => new nb.optim.AdamW(ps, { lr: 0.01, weightDecay: 0.1 })],
  // β₁ < 0.5 takes the other branch of lerp (b − (b − a)(1 − w))
  ['AdamW with beta1 0.3', (ps) => new nb.optim.AdamW(ps, { lr: 0.05, weightDecay: 0.2, betas: [0.3, 0.99] })],
];
const SHAPES = [[37, 5], [5], [70001]];

/** Initial parameter values, the same for every run. */
function initial(shapes: number[][]): Float32Array[] {
  const gen = new nb.Generator(3);
  return shapes.map((s) => nb.randn(s, { device: 'js', generator: gen }).dataSync() as Float32Array);
}

/** d/dp of sum(tanh(p) · c + 0.05 p²) with c = cos(k), computed on js from p's current values. */
function gradOnJs(values: Float32Array, shape: number[]): Float32Array {
  const p = nb.tensor(values, { shape, device: 'js' }).requiresGrad_();
  const c = nb.cos(nb.arange(0, values.length, 1, { device: 'js', dtype: 'float32' })).reshape(shape);
  nb.sum(nb.add(nb.mul(nb.tanh(p), c), nb.mul(nb.mul(p, p), 0.05))).backward();
  return p.grad!.dataSync() as Float32Array;
}

interface Run {
  params: Float32Array[];
  fusedPerStep: number[];
}

/** Runs fn, counting the calls of the webgpu backend's fused Adam kernel that took the step. */
function countingFused(fn: () => void): number {
  const fused = gpu().fused!,
    kernel = fused.adam!;
  let n = 0;
  fused.adam = (...args) => {
    const ok = kernel(...args);
    if (ok) n++;
    return ok;
  };
  try {
    fn();
  } finally {
    fused.adam = kernel;
  }
  return n;
}

/** Five optimizer steps on `device`; `composed` forces the composed update. */
async function adamRun(device: string, make: Make, composed: boolean, shapes = SHAPES): Promise<Run> {
  const before = nb.setFusedMode(composed ? 'composed' : 'fused');
  try {
    const ps = initial(shapes).map((a, i) => nb.tensor(a, { shape: shapes[i], device }).requiresGrad_());
    const opt = make(ps);
    const fusedPerStep: number[] = [];
    for (let s = 0; s < 5; s++) {
      opt.zeroGrad();
      for (let i = 0; i < ps.length; i++) {
        const g = gradOnJs((await ps[i].data()) as Float32Array, shapes[i]);
        ps[i].grad = nb.tensor(g, { shape: shapes[i], device });
      }
      if (device === 'webgpu') fusedPerStep.push(countingFused(() => opt.step()));
      else opt.step();
    }
    const params = await Promise.all(ps.map(async (p) => (await p.data()) as Float32Array));
    opt.zeroGrad();
    ps.forEach((p) => p.dispose());
    return { params, fusedPerStep };
  } finally {
    nb.setFusedMode(before);
  }
}

/** How many elements are bit-identical (reported: the kernel aims at the composed path's bits). */
function same(a: Float32Array[], b: Float32Array[]): string {
  let eq = 0,
    n = 0;
  a.forEach((x, i) => {
    n += x.length;
    for (let k = 0; k < x.length; k++) if (Object.is(x[k], b[i][k])) eq++;
  });
  return `${eq}/${n}`;
}

describe.skipIf(!!unavailable)('webgpu fused optimizer steps', () => {
  for (const [name, make] of adams) {
    it(`fused ${name} step gives the composed step's values (webgpu composed and js)`, async () => {
      const fused = await adamRun('webgpu', make, false);
      const composed = await adamRun('webgpu', make, true);
      const js = await adamRun('js', make, false);
      // the fused kernel took every parameter's step (false would have fallen back silently)
      expect(fused.fusedPerStep).toEqual([1, 2, 3, 4, 5].map(() => SHAPES.length));
      expect(composed.fusedPerStep).toEqual([0, 0, 0, 0, 0]);
      fused.params.forEach((f, i) => close(f, composed.params[i], `${name} parameter ${i} (fused vs composed webgpu)`));
      fused.params.forEach((f, i) => close(f, js.params[i], `${name} parameter ${i} (fused webgpu vs js)`));
      console.log(`${name}: bit-identical to composed webgpu ${same(fused.params, composed.params)}, to js ${same(fused.params, js.params)}`);
    });
  }

  it('fused step with transposed, offset and broadcast gradients matches the composed one', async () => {
    const run = async (device: string, composed: boolean) => {
      const before = nb.setFusedMode(composed ? 'composed' : 'fused');
      try {
        const [a, b] = initial([[37, 5], [5]]);
        const p0 = nb.tensor(a, { shape: [37, 5], device }).requiresGrad_(),
          p1 = nb.tensor(b, { shape: [5], device }).requiresGrad_();
        const opt = new nb.optim.AdamW([p0, p1], { lr: 0.02, weightDecay: 0.1 });
        const gen = new nb.Generator(11);
        const calls: number[] = [];
        for (let s = 0; s < 3; s++) {
          opt.zeroGrad();
          const big = nb.randn([6, 40], { device: 'js', generator: gen }).dataSync();
          // [37, 5] with strides [1, 40] at offset 43: a sliced transpose
          p0.grad = nb
            .tensor(big, { shape: [6, 40], device })
            .slice(0, 1, 6)
            .slice(1, 3, 40)
            .t();
          // [5] with stride 0: one value broadcast
          p1.grad = nb.tensor([0.25 * (s + 1)], { device }).expand([5]);
          expect(p0.grad.strides).toEqual([1, 40]);
          if (device === 'webgpu') calls.push(countingFused(() => opt.step()));
          else opt.step();
        }
        return { params: [(await p0.data()) as Float32Array, (await p1.data()) as Float32Array], calls };
      } finally {
        nb.setFusedMode(before);
      }
    };
    const fused = await run('webgpu', false),
      composed = await run('webgpu', true),
      js = await run('js', false);
    expect(fused.calls).toEqual([2, 2, 2]);
    fused.params.forEach((f, i) => close(f, composed.params[i], `parameter ${i} (fused vs composed webgpu)`));
    fused.params.forEach((f, i) => close(f, js.params[i], `parameter ${i} (fused webgpu vs js)`));
  });

  it('an empty parameter is a no-op, and live buffers stay flat over steps', async () => {
    const p = nb
        .randn([300], { device: 'js', generator: new nb.Generator(5) })
        .to('webgpu')
        .requiresGrad_(),
      start = await p.data(),
      e = nb.zeros([0], { device: 'webgpu' }).requiresGrad_();
    const opt = new nb.optim.Adam([p, e], { lr: 0.01 });
    let at = -1;
    for (let s = 0; s < 6; s++) {
      opt.zeroGrad();
      p.grad = nb.onesLike(p);
      e.grad = nb.zerosLike(e);
      opt.step();
      if (s === 2) {
        await settleGarbage();
        at = gpu().liveBuffers();
      }
    }
    await settleGarbage();
    expect(gpu().liveBuffers()).toBe(at);
    expect((await e.data()).length).toBe(0);
    // a constant gradient 1: m̂/√v̂ = 1 every step, so p moved by 6·lr (to float32 rounding)
    const moved = await p.data();
    moved.forEach((x, i) => expect(Math.abs(x - (start[i] - 0.06))).toBeLessThan(1e-5));
  });
});

describe.skipIf(!unavailable)('webgpu optimizer kernels', () => {
  it(`are not available here, so their suite is skipped: ${unavailable}`, () => {
    expect(unavailable).not.toBe('');
  });
});
