// Module registration, names, state dicts and layers against PyTorch's definitions.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
const { nn } = nb;

class Block extends nn.Module {
  fc = new nn.Linear(4, 3);
  act = new nn.ReLU();
  forward(x: nb.Tensor) {
    return this.act.forward(this.fc.forward(x));
  }
}
class Net extends nn.Module {
  embed = new nn.Linear(2, 4, { bias: false });
  h = [new Block(), new Block()];
  head = new nn.Sequential(new nn.Linear(3, 3), new nn.Tanh(), new nn.Linear(3, 1));
  forward(x: nb.Tensor) {
    return this.head.forward(this.h[0].forward(this.embed.forward(x)));
  }
}

describe('Module', () => {
  it('registers parameters in definition order with PyTorch dotted names', () => {
    const names = [...new Net().namedParameters()].map(([n]) => n);
    expect(names).toEqual(['embed.weight', 'h.0.fc.weight', 'h.0.fc.bias', 'h.1.fc.weight', 'h.1.fc.bias', 'head.0.weight', 'head.0.bias', 'head.2.weight', 'head.2.bias']);
  });

  it('Linear has weight [out, in] and PyTorch init bounds 1/sqrt(in)', () => {
    nb.manualSeed(0);
    const l = new nn.Linear(100, 20);
    expect(l.weight.shape).toEqual([20, 100]);
    expect(l.bias!.shape).toEqual([20]);
    const w = l.weight.dataSync(),
      b = l.bias!.dataSync();
    const bound = 1 / Math.sqrt(100);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(l.toString()).toBe('Linear(in_features=100, out_features=20, bias=True)');
  });

  it('same seed gives the same weights', () => {
    nb.manualSeed(7);
    const a = new Net().stateDict();
    nb.manualSeed(7);
    const b = new Net().stateDict();
    for (const k of Object.keys(a)) expect(Array.from(a[k].dataSync())).toEqual(Array.from(b[k].dataSync()));
  });

  it('stateDict round trip gives identical outputs', () => {
    nb.manualSeed(1);
    const a = new Net(),
      b = new Net();
    const x = nb.randn([5, 2]);
    expect(Array.from(a.forward(x).dataSync())).not.toEqual(Array.from(b.forward(x).dataSync()));
    const pa = b.parameters();
    b.loadStateDict(a.stateDict());
    expect(b.parameters()).toEqual(pa); // same Parameter objects, new values
    expect(Array.from(b.forward(x).dataSync())).toEqual(Array.from(a.forward(x).dataSync()));
  });

  it('loadStateDict names missing and unexpected keys and shape mismatches', () => {
    const net = new Net();
    const sd = { ...net.stateDict() };
    delete sd['head.2.bias'];
    sd['extra.weight'] = nb.zeros([1]);
    expect(() => net.loadStateDict(sd)).toThrow(/missing keys: head\.2\.bias.*unexpected keys: extra\.weight/);
    expect(net.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['head.2.bias'], unexpectedKeys: ['extra.weight'] });
    const bad = { ...net.stateDict(), 'embed.weight': nb.zeros([4, 3]) };
    expect(() => net.loadStateDict(bad)).toThrow('size mismatch for embed.weight: the checkpoint has shape [4,3], the model has [4,2]');
  });

  it('train() and eval() reach every sub-module; Dropout only acts in training', () => {
    const seq = new nn.Sequential(new nn.Linear(3, 3), new nn.Dropout(0.5));
    seq.eval();
    expect([...seq.modules()].every((m) => !m.training)).toBe(true);
    const x = nb.ones([1000]);
    const d = new nn.Dropout(0.5);
    expect(Array.from(d.eval().forward(x).dataSync())).toEqual(Array.from(x.dataSync()));
    nb.manualSeed(3);
    const y = d.train().forward(x).dataSync();
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(400);
    expect(zeros).toBeLessThan(600);
    expect(y.every((v) => v === 0 || v === 2)).toBe(true); // inverted dropout scales by 1/(1-p)
  });

  it('prints like PyTorch', () => {
    const seq = new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 10));
    expect(seq.toString()).toBe(
      ['Sequential(', '  (0): Linear(in_features=784, out_features=512, bias=True)', '  (1): ReLU()', '  (2): Linear(in_features=512, out_features=10, bias=True)', ')'].join('\n'),
    );
    expect(seq.numParams()).toBe(784 * 512 + 512 + 512 * 10 + 10);
  });

  it('double() converts parameters in place and gradients flow in float64', () => {
    const l = new nn.Linear(3, 2).double();
    expect(l.weight.dtype).toBe('float64');
    const y = l.forward(nb.ones([1, 3], { dtype: 'float64' })).sum();
    y.backward();
    expect(l.weight.grad!.dtype).toBe('float64');
    expect(Array.from(l.bias!.grad!.dataSync())).toEqual([1, 1]);
  });

  it('linear gives a clear shape error', () => {
    const l = new nn.Linear(784, 10);
    expect(() => l.forward(nb.zeros([32, 512]))).toThrow('linear: input features 512 do not match weight [10,784]: input [32,512]');
  });
});
