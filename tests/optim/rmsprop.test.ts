// RMSprop against torch.optim.RMSprop's rule, worked out by hand on f(w) = Σ ½aw² + bw (helpers.ts).
import { describe, it, expect } from 'vitest';
import { optim } from '../../src/index.js';
import { runLib, runByHand, expectAllClose, makeParam, trainStep } from './helpers.js';

interface RmsRefOptions {
  lr: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

/** torch.optim.RMSprop on one element, in plain numbers. */
const rmsRef =
  (o: RmsRefOptions) =>
  (w: number, grad: number, st: Record<string, number>): number => {
    const { lr, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0, centered = false, maximize = false } = o;
    let g = maximize ? -grad : grad;
    g = g + weightDecay * w;
    st.sq = alpha * (st.sq ?? 0) + (1 - alpha) * g * g;
    let avg: number;
    if (centered) {
      st.ga = alpha * (st.ga ?? 0) + (1 - alpha) * g;
      avg = Math.sqrt(st.sq - st.ga * st.ga) + eps;
    } else {
      avg = Math.sqrt(st.sq) + eps;
    }
    if (momentum > 0) {
      st.buf = momentum * (st.buf ?? 0) + g / avg;
      return w - lr * st.buf;
    }
    return w - (lr * g) / avg;
  };

describe('RMSprop', () => {
  it('plain: s = αs + (1−α)g², p −= lr·g/(√s + ε)', () => {
    const got = runLib((p) => new optim.RMSprop(p, { lr: 0.01 }));
    // element 0, step 1: g = 0.6, s = 0.01·0.36 = 0.0036, √s = 0.06 → p = 0.5 − 0.01·0.6/0.06000001
    expectAllClose([got[0][0]], [0.5 - 0.006 / 0.06000001]);
    // step 2: p₁ = 0.4 (to 1e-7), g = 0.5, s = 0.99·0.0036 + 0.01·0.25 = 0.006064
    const p1 = 0.5 - 0.006 / 0.06000001;
    const g2 = p1 + 0.1;
    const s2 = 0.99 * 0.0036 + 0.01 * g2 * g2;
    expectAllClose([got[1][0]], [p1 - (0.01 * g2) / (Math.sqrt(s2) + 1e-8)]);
    expectAllClose(got, runByHand(rmsRef({ lr: 0.01 })));
  });

  it('centered: divides by √(s − ḡ²) + ε', () => {
    const got = runLib((p) => new optim.RMSprop(p, { lr: 0.01, centered: true }));
    // element 0, step 1: ḡ = 0.006, s − ḡ² = 0.0036 − 0.000036 = 0.003564
    expectAllClose([got[0][0]], [0.5 - 0.006 / (Math.sqrt(0.003564) + 1e-8)]);
    expectAllClose(got, runByHand(rmsRef({ lr: 0.01, centered: true })));
  });

  it('momentum: b = μb + g/avg, p −= lr·b', () => {
    const o = { lr: 0.01, momentum: 0.5 };
    expectAllClose(
      runLib((p) => new optim.RMSprop(p, o)),
      runByHand(rmsRef(o)),
    );
  });

  it('centered with momentum, weight decay, other alpha; maximize', () => {
    const o = { lr: 0.02, alpha: 0.9, eps: 1e-6, momentum: 0.9, weightDecay: 0.1, centered: true };
    expectAllClose(
      runLib((p) => new optim.RMSprop(p, o), 4),
      runByHand(rmsRef(o), 4),
    );
    const m = { lr: 0.01, maximize: true, weightDecay: 0.05 };
    expectAllClose(
      runLib((p) => new optim.RMSprop(p, m)),
      runByHand(rmsRef(m)),
    );
  });

  it('state names follow PyTorch', () => {
    const w = makeParam();
    const opt = new optim.RMSprop([w], { momentum: 0.9, centered: true });
    trainStep(opt, w);
    expect(Object.keys(opt.state.get(w)!).sort()).toEqual(['grad_avg', 'momentum_buffer', 'square_avg', 'step']);
  });

  it('rejects bad hyperparameters with clear errors', () => {
    const p = [makeParam()];
    expect(() => new optim.RMSprop(p, { lr: -0.01 })).toThrow('RMSprop: invalid learning rate -0.01 in param group 0, expected lr >= 0');
    expect(() => new optim.RMSprop(p, { alpha: -0.5 })).toThrow('RMSprop: invalid alpha -0.5 in param group 0, expected alpha >= 0');
    expect(() => new optim.RMSprop(p, { eps: -1 })).toThrow('RMSprop: invalid epsilon -1');
    expect(() => new optim.RMSprop(p, { momentum: -1 })).toThrow('RMSprop: invalid momentum -1');
    expect(() => new optim.RMSprop(p, { weightDecay: -1 })).toThrow('RMSprop: invalid weightDecay -1');
  });
});
