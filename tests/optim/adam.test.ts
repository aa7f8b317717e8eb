// Adam and AdamW against torch.optim's formula, worked out by hand on f(w) = Σ ½aw² + bw (helpers.ts).
import { describe, it, expect } from 'vitest';
import type * as nb from '../../src/index.js';
import { optim } from '../../src/index.js';
import { runLib, runByHand, expectAllClose, makeParam, trainStep } from './helpers.js';

interface AdamRefOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  decoupled?: boolean;
  amsgrad?: boolean;
  maximize?: boolean;
}

/** torch.optim.Adam / AdamW on one element, in plain numbers. */
const adamRef =
  (o: AdamRefOptions) =>
  (w0: number, grad: number, st: Record<string, number>, t: number): number => {
    const { lr, betas: [b1, b2] = [0.9, 0.999], eps = 1e-8, weightDecay = 0, decoupled = false, amsgrad = false, maximize = false } = o;
    let w = w0;
    let g = maximize ? -grad : grad;
    if (decoupled) w = w * (1 - lr * weightDecay);
    else g = g + weightDecay * w;
    st.m = b1 * (st.m ?? 0) + (1 - b1) * g;
    st.v = b2 * (st.v ?? 0) + (1 - b2) * g * g;
    st.vmax = Math.max(st.vmax ?? 0, st.v);
    const bias1 = 1 - b1 ** t;
    const bias2 = 1 - b2 ** t;
    const denom = Math.sqrt(amsgrad ? st.vmax : st.v) / Math.sqrt(bias2) + eps;
    return w - (lr / bias1) * (st.m / denom);
  };

describe('Adam', () => {
  it('first step by hand: m = 0.1g, v = 0.001g², p −= (lr/0.1)·m/(√v/√0.001 + ε)', () => {
    const got = runLib((p) => new optim.Adam(p, { lr: 0.01 }));
    // element 0: g = 0.6, m = 0.06, v = 0.00036, denom = 0.6 + 1e-8, step = 0.1·0.06/denom
    expectAllClose([got[0][0]], [0.5 - 0.006 / 0.60000001]);
    // element 1: g = 2·(−1.5) − 0.3 = −3.3: the first Adam step moves by ≈ lr·sign(g)
    expectAllClose([got[0][1]], [-1.5 + (0.1 * 0.33) / (3.3 + 1e-8)]);
    expectAllClose(got, runByHand(adamRef({ lr: 0.01 })));
  });

  it('later steps, other betas and eps', () => {
    const o = { lr: 0.05, betas: [0.8, 0.99] as [number, number], eps: 1e-6 };
    expectAllClose(
      runLib((p) => new optim.Adam(p, o), 4),
      runByHand(adamRef(o), 4),
    );
  });

  it('weightDecay is an L2 term added to the gradient', () => {
    const got = runLib((p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.1 }));
    // element 0: g = 0.6 + 0.1·0.5 = 0.65, m = 0.065, step = 0.1·0.065/(0.65 + 1e-8)
    expectAllClose([got[0][0]], [0.5 - 0.0065 / 0.65000001]);
    expectAllClose(got, runByHand(adamRef({ lr: 0.01, weightDecay: 0.1 })));
  });

  it('amsgrad divides by the running max of v', () => {
    const o = { lr: 0.3, betas: [0.9, 0.5] as [number, number], amsgrad: true };
    const got = runLib((p) => new optim.Adam(p, o), 6);
    expectAllClose(got, runByHand(adamRef(o), 6));
    // v decays fast with β₂ = 0.5 as the gradient shrinks, so the max matters
    const plain = runLib((p) => new optim.Adam(p, { ...o, amsgrad: false }), 6);
    expect(Math.abs(plain[5][0] - got[5][0])).toBeGreaterThan(1e-3);
    const w = makeParam();
    const opt = new optim.Adam([w], o);
    for (let i = 0; i < 3; i++) trainStep(opt, w);
    expect(Object.keys(opt.state.get(w)!).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
    expect(opt.state.get(w)!.step).toBe(3);
  });

  it('maximize', () => {
    const o = { lr: 0.01, weightDecay: 0.1, maximize: true };
    expectAllClose(
      runLib((p) => new optim.Adam(p, o)),
      runByHand(adamRef(o)),
    );
  });

  it('float32 parameters stay float32 and follow the float64 values', () => {
    const w = makeParam(undefined, 'float32');
    const opt = new optim.Adam([w], { lr: 0.01 });
    for (let i = 0; i < 3; i++) trainStep(opt, w);
    expect(w.dtype).toBe('float32');
    expect((opt.state.get(w)!.exp_avg as nb.Tensor).dtype).toBe('float32');
    expectAllClose(Array.from(w.dataSync()), runByHand(adamRef({ lr: 0.01 }))[2], 1e-6);
  });

  it('rejects bad hyperparameters with clear errors', () => {
    const p = [makeParam()];
    expect(() => new optim.Adam(p, { lr: -1 })).toThrow('Adam: invalid learning rate -1 in param group 0, expected lr >= 0');
    expect(() => new optim.Adam(p, { betas: [1.2, 0.9] })).toThrow('Adam: invalid beta parameter at index 0: 1.2 in param group 0, expected 0 <= betas[0] < 1');
    expect(() => new optim.Adam(p, { betas: [0.9, 1] })).toThrow('Adam: invalid beta parameter at index 1: 1');
    expect(() => new optim.Adam(p, { eps: -1e-8 })).toThrow('Adam: invalid epsilon -1e-8');
    expect(() => new optim.Adam(p, { weightDecay: -0.1 })).toThrow('Adam: invalid weightDecay -0.1');
    expect(() => new optim.AdamW(p, { lr: -1 })).toThrow('AdamW: invalid learning rate -1');
  });
});

describe('AdamW', () => {
  it('decays the weights before the Adam step (weightDecay defaults to 0.01)', () => {
    const got = runLib((p) => new optim.AdamW(p, { lr: 0.01 }));
    // element 0: p ← 0.5·(1 − 0.01·0.01) = 0.49995, then the Adam step of g = 0.6 (from the old p)
    expectAllClose([got[0][0]], [0.5 * (1 - 1e-4) - 0.006 / 0.60000001]);
    expectAllClose(got, runByHand(adamRef({ lr: 0.01, weightDecay: 0.01, decoupled: true })));
    const w = makeParam();
    expect(new optim.AdamW([w]).paramGroups[0].weightDecay).toBe(0.01);
    expect(new optim.Adam([w]).paramGroups[0].weightDecay).toBe(0);
  });

  it('with amsgrad and a larger decay; equals Adam with decoupledWeightDecay', () => {
    const o = { lr: 0.1, weightDecay: 0.5, amsgrad: true, betas: [0.9, 0.6] as [number, number] };
    const got = runLib((p) => new optim.AdamW(p, o), 5);
    expectAllClose(got, runByHand(adamRef({ ...o, decoupled: true }), 5));
    expect(runLib((p) => new optim.Adam(p, { ...o, decoupledWeightDecay: true }), 5)).toEqual(got);
  });
});
