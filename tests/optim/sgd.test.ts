// SGD against torch.optim.SGD's rule, worked out by hand on f(w) = Σ ½aw² + bw (see helpers.ts).
import { describe, it, expect } from 'vitest';
import type * as nb from '../../src/index.js';
import { optim } from '../../src/index.js';
import { runLib, runByHand, expectAllClose, makeParam, trainStep } from './helpers.js';

/** torch.optim.SGD on one element, in plain numbers. */
const sgdRef =
  (o: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number; maximize?: boolean }) =>
  (w: number, grad: number, st: Record<string, number>): number => {
    const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0, maximize = false } = o;
    let g = maximize ? -grad : grad;
    g = g + weightDecay * w;
    if (momentum !== 0) {
      st.buf = st.buf === undefined ? g : momentum * st.buf + (1 - dampening) * g;
      g = nesterov ? g + momentum * st.buf : st.buf;
    }
    return w - lr * g;
  };

describe('SGD', () => {
  it('plain: p ← p − lr·g (element 0: w=0.5, g=w+0.1)', () => {
    const got = runLib((p) => new optim.SGD(p, { lr: 0.1 }));
    // step 1: g = 0.6 → 0.5 − 0.06 = 0.44; step 2: g = 0.54 → 0.386; step 3: g = 0.486 → 0.3374
    expectAllClose(
      got.map((r) => r[0]),
      [0.44, 0.386, 0.3374],
    );
    expectAllClose(got, runByHand(sgdRef({ lr: 0.1 })));
  });

  it('momentum: buf = g at the first step, then μ·buf + g', () => {
    const got = runLib((p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9 }));
    // s1: g=0.6, buf=0.6, w=0.44; s2: g=0.54, buf=0.9·0.6+0.54=1.08, w=0.44−0.108=0.332;
    // s3: g=0.432, buf=0.972+0.432=1.404, w=0.332−0.1404=0.1916
    expectAllClose(
      got.map((r) => r[0]),
      [0.44, 0.332, 0.1916],
    );
    expectAllClose(got, runByHand(sgdRef({ lr: 0.1, momentum: 0.9 })));
  });

  it('dampening applies from the second step', () => {
    const got = runLib((p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.5 }));
    // s1: buf = g = 0.6 (undamped), w = 0.44; s2: g=0.54, buf = 0.54 + 0.5·0.54 = 0.81, w = 0.44 − 0.081 = 0.359
    expectAllClose(
      got.slice(0, 2).map((r) => r[0]),
      [0.44, 0.359],
    );
    expectAllClose(got, runByHand(sgdRef({ lr: 0.1, momentum: 0.9, dampening: 0.5 })));
  });

  it('nesterov: g ← g + μ·buf', () => {
    const got = runLib((p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true }));
    // s1: buf=0.6, d=0.6+0.54=1.14, w=0.5−0.114=0.386; s2: g=0.486, buf=0.54+0.486=1.026,
    // d=0.486+0.9234=1.4094, w=0.386−0.14094=0.24506
    expectAllClose(
      got.slice(0, 2).map((r) => r[0]),
      [0.386, 0.24506],
    );
    expectAllClose(got, runByHand(sgdRef({ lr: 0.1, momentum: 0.9, nesterov: true })));
  });

  it('weight decay adds wd·p to the gradient (element 1: w=−1.5, g=2w−0.3)', () => {
    const got = runLib((p) => new optim.SGD(p, { lr: 0.1, weightDecay: 0.1 }));
    // g = −3.3 − 0.15 = −3.45 → w = −1.5 + 0.345 = −1.155
    expectAllClose([got[0][1]], [-1.155]);
    expectAllClose(got, runByHand(sgdRef({ lr: 0.1, weightDecay: 0.1 })));
    const all = { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 };
    expectAllClose(
      runLib((p) => new optim.SGD(p, all)),
      runByHand(sgdRef(all)),
    );
  });

  it('maximize ascends', () => {
    const got = runLib((p) => new optim.SGD(p, { lr: 0.1, momentum: 0.5, weightDecay: 0.2, maximize: true }));
    expectAllClose(got, runByHand(sgdRef({ lr: 0.1, momentum: 0.5, weightDecay: 0.2, maximize: true })));
    expectAllClose([runLib((p) => new optim.SGD(p, { lr: 0.1, maximize: true }), 1)[0][0]], [0.56]); // 0.5 + 0.1·0.6
  });

  it('keeps state only with momentum, named momentum_buffer', () => {
    const w = makeParam();
    const plain = new optim.SGD([w], { lr: 0.1 });
    trainStep(plain, w);
    expect(plain.stateDict().state).toEqual({});
    const mom = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    trainStep(mom, w);
    expect(Object.keys(mom.stateDict().state['0'])).toEqual(['momentum_buffer']);
  });

  it('the first momentum buffer does not share the gradient storage', () => {
    const w = makeParam();
    const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    trainStep(opt, w);
    const buf = opt.state.get(w)!.momentum_buffer as nb.Tensor;
    expect(buf.storage).not.toBe(w.grad!.storage);
    w.grad!.dispose();
    w.grad = null;
    expectAllClose(Array.from(buf.dataSync()), [0.6, -3.3, 1.2]);
  });

  it('rejects bad hyperparameters with clear errors', () => {
    const p = [makeParam()];
    expect(() => new optim.SGD(p, { lr: -0.1 })).toThrow('SGD: invalid learning rate -0.1 in param group 0, expected lr >= 0');
    expect(() => new optim.SGD(p, { lr: NaN })).toThrow('SGD: invalid learning rate NaN in param group 0, expected lr >= 0');
    expect(() => new optim.SGD(p, { momentum: -0.9 })).toThrow('SGD: invalid momentum -0.9 in param group 0, expected momentum >= 0');
    expect(() => new optim.SGD(p, { weightDecay: -1 })).toThrow('SGD: invalid weightDecay -1');
    expect(() => new optim.SGD(p, { nesterov: true })).toThrow('SGD: nesterov requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0');
    expect(() => new optim.SGD(p, { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/nesterov requires momentum > 0 and dampening = 0/);
  });
});
