// Optimizer steps against the PyTorch update rules written out by hand in plain numbers.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
const { optim } = nb;

const W0 = [0.5, -1.5, 2];
/** Loss ½Σw² so the gradient equals w; run `steps` optimizer steps, return the parameter values. */
function run(make: (p: nb.Tensor[]) => nb.optim.Optimizer, steps = 3): number[][] {
  const w = nb.tensor(W0, { dtype: 'float64' }).requiresGrad_();
  const opt = make([w]);
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    nb.scope(() => {
      opt.zeroGrad();
      nb.mul(nb.sum(nb.mul(w, w)), 0.5).backward();
      opt.step();
    });
    out.push(Array.from(w.dataSync()));
  }
  return out;
}

/** The same loop on plain numbers with an update function of (w, g, state) per element. */
function byHand(update: (w: number, g: number, st: Record<string, number>, t: number) => number, steps = 3): number[][] {
  const w = [...W0];
  const states = w.map(() => ({} as Record<string, number>));
  const out: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < w.length; i++) w[i] = update(w[i], w[i], states[i], t);
    out.push([...w]);
  }
  return out;
}

const expectClose = (a: number[][], b: number[][]) => a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i][j], 12)));

describe('optimizers follow PyTorch exactly', () => {
  it('SGD plain and with weight decay', () => {
    expectClose(run((p) => new optim.SGD(p, { lr: 0.1 })), byHand((w, g) => w - 0.1 * g));
    expectClose(run((p) => new optim.SGD(p, { lr: 0.1, weightDecay: 0.2 })), byHand((w, g) => w - 0.1 * (g + 0.2 * w)));
  });

  it('SGD momentum with dampening, and Nesterov', () => {
    const mom = (nesterov: boolean, damp: number) => (w: number, g: number, st: Record<string, number>) => {
      st.b = st.b === undefined ? g : 0.9 * st.b + (1 - damp) * g;
      const d = nesterov ? g + 0.9 * st.b : st.b;
      return w - 0.1 * d;
    };
    expectClose(run((p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.3 })), byHand(mom(false, 0.3)));
    expectClose(run((p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true })), byHand(mom(true, 0)));
    expect(() => new optim.SGD([nb.zeros([1]).requiresGrad_()], { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires momentum > 0/);
  });

  const adam = (lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean, amsgrad = false) =>
    (w: number, g0: number, st: Record<string, number>, t: number) => {
      let g = g0;
      if (wd && decoupled) w = w * (1 - lr * wd);
      else if (wd) g = g + wd * w;
      st.m = b1 * (st.m ?? 0) + (1 - b1) * g;
      st.v = b2 * (st.v ?? 0) + (1 - b2) * g * g;
      st.vmax = Math.max(st.vmax ?? 0, st.v);
      const denom = Math.sqrt(amsgrad ? st.vmax : st.v) / Math.sqrt(1 - b2 ** t) + eps;
      return w - (lr / (1 - b1 ** t)) * st.m / denom;
    };

  it('Adam (with L2 weight decay and amsgrad)', () => {
    expectClose(run((p) => new optim.Adam(p, { lr: 0.01 })), byHand(adam(0.01, 0.9, 0.999, 1e-8, 0, false)));
    expectClose(run((p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] })), byHand(adam(0.01, 0.8, 0.99, 1e-8, 0.1, false)));
    expectClose(run((p) => new optim.Adam(p, { lr: 0.01, amsgrad: true }), 4), byHand(adam(0.01, 0.9, 0.999, 1e-8, 0, false, true), 4));
  });

  it('AdamW decouples weight decay (default 0.01)', () => {
    expectClose(run((p) => new optim.AdamW(p, { lr: 0.01 })), byHand(adam(0.01, 0.9, 0.999, 1e-8, 0.01, true)));
  });

  it('RMSprop plain, centered, with momentum', () => {
    const rms = (centered: boolean, momentum: number) => (w: number, g: number, st: Record<string, number>) => {
      st.s = 0.99 * (st.s ?? 0) + 0.01 * g * g;
      let avg = Math.sqrt(st.s) + 1e-8;
      if (centered) { st.ga = 0.99 * (st.ga ?? 0) + 0.01 * g; avg = Math.sqrt(st.s - st.ga * st.ga) + 1e-8; }
      if (momentum) { st.b = momentum * (st.b ?? 0) + g / avg; return w - 0.01 * st.b; }
      return w - 0.01 * g / avg;
    };
    expectClose(run((p) => new optim.RMSprop(p, { lr: 0.01 })), byHand(rms(false, 0)));
    expectClose(run((p) => new optim.RMSprop(p, { lr: 0.01, centered: true })), byHand(rms(true, 0)));
    expectClose(run((p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5 })), byHand(rms(false, 0.5)));
  });

  it('bad hyperparameters are rejected', () => {
    const p = [nb.zeros([1]).requiresGrad_()];
    expect(() => new optim.Adam(p, { lr: -1 })).toThrow('Adam: invalid learning rate -1');
    expect(() => new optim.Adam(p, { betas: [1.2, 0.9] })).toThrow('Adam: invalid beta parameter at index 0: 1.2');
    expect(() => new optim.RMSprop(p, { alpha: -0.5 })).toThrow('RMSprop: invalid alpha -0.5');
    expect(() => new optim.SGD([])).toThrow('SGD: got an empty parameter list');
  });

  it('stateDict round trip: a fresh optimizer continues identically', () => {
    const w = nb.tensor(W0, { dtype: 'float64' }).requiresGrad_();
    const w2 = nb.tensor(W0, { dtype: 'float64' }).requiresGrad_();
    const a = new optim.Adam([w], { lr: 0.05 });
    const step = (o: nb.optim.Optimizer, p: nb.Tensor) => nb.scope(() => { o.zeroGrad(); nb.sum(nb.mul(p, p)).backward(); o.step(); });
    for (let i = 0; i < 3; i++) step(a, w);
    w2.assignStorage(nb.clone(w));
    const b = new optim.Adam([w2], { lr: 0.5 });
    b.loadStateDict(a.stateDict());
    expect(b.paramGroups[0].lr).toBe(0.05);
    step(a, w); step(b, w2);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w.dataSync()));
    expect(() => b.loadStateDict({ state: {}, paramGroups: [] })).toThrow(/the state has 0 parameter groups, the optimizer 1/);
  });

  it('updates keep live buffers flat over 200 steps', () => {
    const model = new nb.nn.Linear(8, 4);
    const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
    const x = nb.randn([16, 8]);
    const step = () => nb.scope(() => { opt.zeroGrad(); nb.mean(nb.mul(model.forward(x), model.forward(x))).backward(); opt.step(); });
    for (let i = 0; i < 5; i++) step();
    const live = nb.getBackend().liveBuffers();
    for (let i = 0; i < 200; i++) step();
    expect(nb.getBackend().liveBuffers()).toBe(live);
  });
});

describe('schedulers and clipping', () => {
  const opt = () => new optim.SGD([nb.zeros([1]).requiresGrad_()], { lr: 1 });
  const seq = (s: { step(): void; getLastLr(): number[] }, n: number) => Array.from({ length: n }, () => { const lr = s.getLastLr()[0]; s.step(); return lr; });

  it('StepLR, ExponentialLR, CosineAnnealingLR, warmup + cosine', () => {
    expect(seq(new optim.StepLR(opt(), 2, 0.5), 5)).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(seq(new optim.ExponentialLR(opt(), 0.5), 3)).toEqual([1, 0.5, 0.25]);
    const cos = seq(new optim.CosineAnnealingLR(opt(), 4), 5);
    [1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2, 0].forEach((v, i) => expect(cos[i]).toBeCloseTo(v, 12));
    const wc = seq(new optim.CosineWarmupLR(opt(), { warmupSteps: 2, totalSteps: 4, minLr: 0.1 }), 5);
    [0, 0.5, 1, 0.55, 0.1].forEach((v, i) => expect(wc[i]).toBeCloseTo(v, 12));
  });

  it('ReduceLROnPlateau waits `patience` bad epochs, then cools down', () => {
    const o = opt();
    const s = new optim.ReduceLROnPlateau(o, { patience: 1, factor: 0.5, cooldown: 1 });
    const lrs = [1, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95].map((m) => { s.step(m); return o.paramGroups[0].lr; });
    expect(lrs).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25]);
  });

  it('clipGradNorm scales by maxNorm/(norm + 1e-6) and returns the norm', () => {
    const a = nb.tensor([3, 0], { dtype: 'float64' }).requiresGrad_();
    const b = nb.tensor([4], { dtype: 'float64' }).requiresGrad_();
    nb.add(nb.sum(nb.mul(a, nb.tensor([3, 0], { dtype: 'float64' }))), nb.sum(nb.mul(b, 4))).backward(); // grads [3,0], [4]
    const norm = optim.clipGradNorm([a, b], 1);
    expect(norm.itemSync()).toBeCloseTo(5, 12);
    expect(Array.from(a.grad!.dataSync())).toEqual([expect.closeTo(3 / (5 + 1e-6), 12), 0]);
    expect(b.grad!.itemSync()).toBeCloseTo(4 / (5 + 1e-6), 12);
    optim.clipGradValue([a], 0.1);
    expect(Array.from(a.grad!.dataSync())).toEqual([0.1, 0]);
  });
});
