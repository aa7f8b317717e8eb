// Optimizer base: param groups, zeroGrad, skipping, saveable state (round trips, checks), memory.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { optim } from '../../src/index.js';
import { W0, makeParam, trainStep, expectAllClose } from './helpers.js';

const values = (t: nb.Tensor) => Array.from(t.dataSync());

describe('parameter groups', () => {
  it('groups override the defaults; schedulers and users change lr per group', () => {
    const a = makeParam([1]);
    const b = makeParam([1]);
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5, momentum: 0.9 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([
      [0.1, 0],
      [0.5, 0.9],
    ]);
    expect(opt.defaults.lr).toBe(0.1);
    const step = () =>
      nb.scope(() => {
        opt.zeroGrad();
        nb.add(nb.sum(a), nb.sum(b)).backward();
        opt.step();
      });
    step(); // grads are 1: a = 1 − 0.1, b = 1 − 0.5
    expectAllClose([values(a)[0], values(b)[0]], [0.9, 0.5]);
    opt.paramGroups[0].lr = 0.2;
    step(); // b: buf = 0.9·1 + 1 = 1.9
    expectAllClose([values(a)[0], values(b)[0]], [0.7, 0.5 - 0.95]);
  });

  it('addParamGroup fills defaults and refuses parameters already optimized', () => {
    const a = makeParam();
    const b = makeParam();
    const opt = new optim.Adam([a], { lr: 0.01 });
    opt.addParamGroup({ params: [b], betas: [0.5, 0.9] });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.01, betas: [0.5, 0.9], eps: 1e-8, amsgrad: false });
    expect(opt.paramGroups[0].betas).not.toBe(opt.paramGroups[1].betas);
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/parameter 0 of param group 2 .* already belongs to another param group/);
    expect(() => new optim.SGD([a, a])).toThrow('SGD: parameter 1 of param group 0 appears twice in the group');
    expect(() => opt.addParamGroup({ params: [makeParam()], lr: -1 })).toThrow('Adam: invalid learning rate -1 in param group 2');
  });

  it('checks what it is given', () => {
    const w = makeParam();
    expect(() => new optim.SGD([])).toThrow('SGD: got an empty parameter list');
    expect(() => new optim.SGD(w as unknown as nb.Tensor[])).toThrow(/params must be an iterable of tensors or of parameter groups, got a single tensor of shape \[3\]/);
    expect(() => new optim.SGD([nb.mul(w, 2)])).toThrow(/parameter 0 of param group 0 is not a leaf tensor/);
    expect(() => new optim.SGD([nb.tensor([1, 2], { dtype: 'int32' })])).toThrow(/has dtype int32; only floating-point tensors can be optimized/);
    expect(() => new optim.SGD([w, { params: [makeParam()] }] as never)).toThrow(/mixes tensors and parameter groups/);
    expect(new optim.SGD(new Set([w])).paramGroups[0].params).toEqual([w]); // any iterable
  });
});

describe('step and zeroGrad', () => {
  it('updates in place without recording on the tape; skips parameters without grad', () => {
    const a = makeParam();
    const b = makeParam();
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    nb.scope(() => nb.sum(nb.mul(a, a)).backward());
    const storage = a.storage;
    opt.step();
    expect(a.isLeaf).toBe(true);
    expect(a.gradNode).toBeNull();
    expect(a.requiresGrad).toBe(true);
    expect(a.storage).not.toBe(storage); // swapped, not written
    expect(values(a)).not.toEqual(W0);
    expect(values(b)).toEqual(W0);
    expect(opt.state.has(b)).toBe(false);
    expect(Object.keys(opt.stateDict().state)).toEqual(['0']);
  });

  it('zeroGrad() sets grads to null, zeroGrad(false) to zeros', () => {
    const w = makeParam();
    const opt = new optim.SGD([w], { lr: 0.1 });
    nb.scope(() => nb.sum(nb.mul(w, w)).backward());
    opt.zeroGrad(false);
    expect(values(w.grad!)).toEqual([0, 0, 0]);
    expect(w.grad!.shape).toEqual([3]);
    opt.step(); // a zero gradient still steps (and changes nothing here)
    expect(values(w)).toEqual(W0);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
  });

  it('a gradient of the wrong shape is reported', () => {
    const w = makeParam();
    const opt = new optim.SGD([w], { lr: 0.1 });
    w.grad = nb.zeros([1, 3], { dtype: 'float64' }).keep();
    expect(() => opt.step()).toThrow('SGD.step: parameter 0 of param group 0 has shape [3] but its grad has shape [1,3]');
  });
});

describe('stateDict / loadStateDict', () => {
  const makers: [string, (p: nb.Tensor[]) => nb.optim.Optimizer][] = [
    ['SGD', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    ['Adam', (p) => new optim.Adam(p, { lr: 0.05, amsgrad: true })],
    ['AdamW', (p) => new optim.AdamW(p, { lr: 0.05 })],
    ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: save after 3 steps, load into a fresh optimizer, the next steps are identical`, () => {
      const w = makeParam();
      const a = make([w]);
      for (let i = 0; i < 3; i++) trainStep(a, w);
      const w2 = makeParam(values(w));
      const b = make([w2]);
      b.paramGroups[0].lr = 123; // replaced by the saved hyperparameters
      b.loadStateDict(a.stateDict());
      expect(b.paramGroups[0].lr).toBe(a.paramGroups[0].lr);
      for (let i = 0; i < 2; i++) {
        trainStep(a, w);
        trainStep(b, w2);
      }
      expect(values(w2)).toEqual(values(w));
    });
  }

  it('is keyed by parameter index over all groups, with hyperparameters, and JSON + named tensors', () => {
    const [x, y, z] = [makeParam(), makeParam([1, 2]), makeParam([3])];
    const opt = new optim.Adam([{ params: [x, y] }, { params: [z], lr: 0.5 }], { lr: 0.1 });
    nb.scope(() => {
      nb.add(nb.sum(x), nb.sum(z)).backward();
      opt.step();
    }); // y has no grad
    const sd = opt.stateDict();
    expect(sd.paramGroups.map((g) => g.params)).toEqual([[0, 1], [2]]);
    expect(sd.paramGroups[1]).toMatchObject({ lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    expect(Object.keys(sd.state)).toEqual(['0', '2']);
    expect(sd.state['2'].step).toBe(1);
    const { tensors, meta } = optim.flattenOptimizerState(sd);
    expect(Object.keys(tensors).sort()).toEqual(['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.2.exp_avg', 'state.2.exp_avg_sq']);
    expect(meta.state).toEqual({ 0: { step: 1 }, 2: { step: 1 } });
    // What a checkpoint writer does: tensors to a file (copied here), the rest through JSON.
    const copied = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, nb.tensor(Array.from(t.dataSync()), { dtype: 'float32' })]));
    const restored = optim.unflattenOptimizerState(copied, JSON.parse(JSON.stringify(meta)));
    const opt2 = new optim.Adam([{ params: [makeParam(values(x)), makeParam([1, 2])] }, { params: [makeParam([3])] }]);
    opt2.loadStateDict(restored);
    expect(opt2.paramGroups[1].lr).toBe(0.5);
    const m = opt2.state.get(opt2.paramGroups[0].params[0])!.exp_avg as nb.Tensor;
    expect(m.dtype).toBe('float64'); // cast to the parameter's dtype, as PyTorch
    expectAllClose(values(m), [0.1, 0.1, 0.1], 1e-7);
    expect(() => optim.unflattenOptimizerState({ 'exp_avg.0': copied['state.0.exp_avg'] }, meta)).toThrow(
      "unflattenOptimizerState: unexpected tensor name 'exp_avg.0', expected state.<index>.<name>",
    );
  });

  it('loading checks groups, parameter counts and shapes before changing anything', () => {
    const w = makeParam();
    const a = new optim.Adam([w], { lr: 0.05 });
    trainStep(a, w);
    const sd = a.stateDict();
    const b = new optim.Adam([makeParam()], { lr: 0.5 });
    expect(() => b.loadStateDict({ state: {}, paramGroups: [] })).toThrow('Adam.loadStateDict: the state has 0 param groups, the optimizer 1');
    expect(() => b.loadStateDict({ ...sd, paramGroups: [{ ...sd.paramGroups[0], params: [0, 1] }] })).toThrow(
      'Adam.loadStateDict: param group 0 has 2 parameters in the state, 1 in the optimizer',
    );
    expect(() => b.loadStateDict({ ...sd, state: { 5: sd.state['0'] } })).toThrow('Adam.loadStateDict: the state has an entry for parameter 5, which no param group lists');
    const c = new optim.Adam([makeParam([1, 2])], { lr: 0.5 });
    expect(() => c.loadStateDict(sd)).toThrow("Adam.loadStateDict: state 'exp_avg' of parameter 0 has shape [3], the parameter [2]");
    expect(() => b.loadStateDict({ ...sd, paramGroups: [{ ...sd.paramGroups[0], lr: -1 }] })).toThrow('Adam: invalid learning rate -1');
    for (const o of [b, c]) {
      expect(o.paramGroups[0].lr).toBe(0.5);
      expect(o.state.size).toBe(0);
    }
    expect(() => b.loadStateDict(null as never)).toThrow('Adam.loadStateDict: expected { state, paramGroups } as returned by stateDict()');
  });

  it('an optimizer can reload its own state; stateDict tensors are the live ones (freed by the next step)', () => {
    const w = makeParam();
    const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    trainStep(opt, w);
    const sd = opt.stateDict();
    opt.loadStateDict(sd);
    trainStep(opt, w); // still works: the reloaded buffer is its own handle
    expect(() => opt.loadStateDict(sd)).toThrow(/state 'momentum_buffer' of parameter 0: tensor .* was already disposed/);
  });
});

describe('memory', () => {
  const cases: [string, (p: nb.Tensor[]) => nb.optim.Optimizer, boolean][] = [
    ['SGD nesterov + weight decay', (p) => new optim.SGD(p, { lr: 1e-3, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }), true],
    ['Adam amsgrad + L2', (p) => new optim.Adam(p, { lr: 1e-3, amsgrad: true, weightDecay: 1e-4 }), true],
    ['AdamW', (p) => new optim.AdamW(p, { lr: 1e-3 }), false],
    ['RMSprop centered + momentum', (p) => new optim.RMSprop(p, { lr: 1e-3, momentum: 0.9, centered: true, weightDecay: 1e-4 }), false],
  ];
  for (const [name, make, toZeros] of cases) {
    it(`${name}: live buffers stay flat over 200 steps (with clipping and a scheduler)`, () => {
      nb.manualSeed(0);
      const model = new nb.nn.Linear(8, 4);
      const opt = make(model.parameters());
      const sched = new optim.CosineAnnealingLR(opt, 200);
      const x = nb.randn([16, 8]).keep();
      const step = () =>
        nb.scope(() => {
          opt.zeroGrad(!toZeros);
          nb.mean(nb.square(model.forward(x))).backward();
          optim.clipGradNorm(model.parameters(), 0.01);
          opt.step();
          sched.step();
        });
      for (let i = 0; i < 3; i++) step();
      const live = nb.getBackend().liveBuffers();
      for (let i = 0; i < 200; i++) step();
      expect(nb.getBackend().liveBuffers()).toBe(live);
      // Saving and reloading the state does not leak either.
      opt.loadStateDict(opt.stateDict());
      expect(nb.getBackend().liveBuffers()).toBe(live);
    });
  }
});
