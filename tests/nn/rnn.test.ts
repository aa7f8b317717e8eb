// RNN, LSTM, GRU and their cells against a plain float64 reference written from PyTorch's documented
// equations, using each layer's own parameters; names, shapes, init, gradients, dropout, errors.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, type RNNMode, type RNNBase } from '../../src/nn/layers/rnn.js';

type Mat = number[][]; // [B][F]
type Seq = Mat[]; // [T][B][F], time-major

const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Host nested array [d0][d1][...] of a tensor. */
function nested(t: nb.Tensor): any {
  const data = vals(t);
  const build = (dim: number, off: number): any => {
    if (dim === t.ndim) return data[off];
    const stride = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
  };
  return build(0, 0);
}

const flat = (v: any): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);

function expectClose(actual: nb.Tensor, expected: any, shape: number[], tol = 1e-5): void {
  expect(actual.shape).toEqual(shape);
  const a = vals(actual),
    e = flat(expected);
  expect(a.length).toBe(e.length);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  expect(worst, 'largest difference from the reference').toBeLessThan(tol);
}

/** y = W v (+ b) for W [G, F] given row-major. */
function affine(w: number[], b: number[] | null, v: number[]): number[] {
  const F = v.length,
    G = w.length / F;
  return Array.from({ length: G }, (_, g) => {
    let s = b ? b[g] : 0;
    for (let f = 0; f < F; f++) s += w[g * F + f] * v[f];
    return s;
  });
}

interface CellParams {
  wih: number[];
  whh: number[];
  bih: number[] | null;
  bhh: number[] | null;
}

/** One step of PyTorch's documented cell equations for one sample; returns [h', c']. */
function refCell(mode: RNNMode, p: CellParams, x: number[], h: number[], c: number[]): [number[], number[]] {
  const H = h.length;
  const gi = affine(p.wih, p.bih, x),
    gh = affine(p.whh, p.bhh, h);
  const out = new Array<number>(H),
    c2 = new Array<number>(H);
  for (let j = 0; j < H; j++) {
    if (mode === 'RNN_TANH') out[j] = Math.tanh(gi[j] + gh[j]);
    else if (mode === 'RNN_RELU') out[j] = Math.max(0, gi[j] + gh[j]);
    else if (mode === 'LSTM') {
      const i = sigmoid(gi[j] + gh[j]),
        f = sigmoid(gi[H + j] + gh[H + j]);
      const g = Math.tanh(gi[2 * H + j] + gh[2 * H + j]),
        o = sigmoid(gi[3 * H + j] + gh[3 * H + j]);
      c2[j] = f * c[j] + i * g;
      out[j] = o * Math.tanh(c2[j]);
    } else {
      const r = sigmoid(gi[j] + gh[j]),
        z = sigmoid(gi[H + j] + gh[H + j]);
      const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      out[j] = (1 - z) * n + z * h[j];
    }
  }
  return [out, c2];
}

/** The whole multi-layer, maybe bidirectional network, time-major, from the module's own parameters. */
function refNet(m: RNNBase, x: Seq, h0?: Seq, c0?: Seq): { out: Seq; hN: Seq; cN: Seq } {
  const H = m.hiddenSize,
    D = m.bidirectional ? 2 : 1,
    T = x.length,
    B = x[0].length;
  const sd = m.stateDict();
  const get = (n: string) => (sd[n] ? vals(sd[n]) : null);
  const zero = () => Array.from({ length: B }, () => new Array<number>(H).fill(0));
  const hN: Seq = [],
    cN: Seq = [];
  let input = x;
  for (let l = 0; l < m.numLayers; l++) {
    const out: Seq = Array.from({ length: T }, () => Array.from({ length: B }, () => [] as number[]));
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d ? '_reverse' : ''}`;
      const p: CellParams = { wih: get('weight_ih' + sfx)!, whh: get('weight_hh' + sfx)!, bih: get('bias_ih' + sfx), bhh: get('bias_hh' + sfx) };
      const k = l * D + d;
      let h = h0 ? h0[k] : zero(),
        c = c0 ? c0[k] : zero();
      for (let j = 0; j < T; j++) {
        const t = d === 0 ? j : T - 1 - j;
        const next = input[t].map((xb, b) => refCell(m.mode, p, xb, h[b], c[b]));
        h = next.map((r) => r[0]);
        c = next.map((r) => r[1]);
        for (let b = 0; b < B; b++) out[t][b].push(...h[b]);
      }
      hN.push(h);
      cN.push(c);
    }
    input = out;
  }
  return { out: input, hN, cN };
}

const swap01 = (s: any[][]): any[][] => s[0].map((_, i) => s.map((row) => row[i]));
const randSeq = (shape: number[], gen: nb.Generator) => nb.randn(shape, { generator: gen });

describe('parameters', () => {
  it("are named, shaped and ordered as PyTorch's state dict", () => {
    const lstm = new LSTM(3, 5, { numLayers: 2, bidirectional: true });
    const sd = lstm.stateDict();
    const names = Object.keys(sd);
    const per = (s: string) => [`weight_ih_${s}`, `weight_hh_${s}`, `bias_ih_${s}`, `bias_hh_${s}`];
    expect(names).toEqual([...per('l0'), ...per('l0_reverse'), ...per('l1'), ...per('l1_reverse')]);
    expect(sd.weight_ih_l0.shape).toEqual([20, 3]);
    expect(sd.weight_hh_l0.shape).toEqual([20, 5]);
    expect(sd.bias_ih_l0.shape).toEqual([20]);
    expect(sd.weight_ih_l1.shape).toEqual([20, 10]); // layer 1 reads both directions
    expect(sd.weight_ih_l1_reverse.shape).toEqual([20, 10]);
    expect([...lstm.namedParameters()].map(([n]) => n)).toEqual(names);
    expect(lstm.allWeights.map((ws) => ws.length)).toEqual([4, 4, 4, 4]);

    const gru = new GRU(4, 6, { numLayers: 3, bias: false });
    expect(Object.keys(gru.stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l1', 'weight_hh_l1', 'weight_ih_l2', 'weight_hh_l2']);
    expect(gru.weight_ih_l0.shape).toEqual([18, 4]);
    expect(gru.stateDict().weight_ih_l1.shape).toEqual([18, 6]);
    expect(new RNN(4, 6).weight_hh_l0.shape).toEqual([6, 6]);

    expect(Object.keys(new LSTMCell(3, 5).stateDict())).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    expect(new LSTMCell(3, 5).weight_ih.shape).toEqual([20, 3]);
    expect(new GRUCell(3, 5).weight_hh.shape).toEqual([15, 5]);
    expect(Object.keys(new RNNCell(3, 5, { bias: false }).stateDict())).toEqual(['weight_ih', 'weight_hh']);
  });

  it('start U(−1/√hidden, 1/√hidden), seeded, in the requested dtype', () => {
    nb.manualSeed(1);
    const m = new GRU(7, 16, { numLayers: 2, bidirectional: true });
    const all = m.parameters().flatMap(vals);
    const bound = 1 / Math.sqrt(16);
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...all)).toBeGreaterThan(0.95 * bound); // spread over the whole interval
    expect(Math.min(...all)).toBeLessThan(-0.95 * bound);
    expect(Math.abs(all.reduce((a, b) => a + b, 0) / all.length)).toBeLessThan(0.01);
    nb.manualSeed(1);
    expect(vals(new GRU(7, 16, { numLayers: 2, bidirectional: true }).weight_hh_l0)).toEqual(vals(m.weight_hh_l0));
    for (const p of new LSTMCell(2, 9, { dtype: 'float64' }).parameters()) {
      expect(p.dtype).toBe('float64');
      for (const v of vals(p)) expect(Math.abs(v)).toBeLessThanOrEqual(1 / 3);
    }
  });

  it('print as PyTorch does', () => {
    expect(new LSTM(10, 20, { numLayers: 2, batchFirst: true, bidirectional: true }).toString()).toBe('LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)');
    expect(new RNN(3, 4, { nonlinearity: 'relu', bias: false, dropout: 0.5 }).toString()).toBe("RNN(3, 4, nonlinearity='relu', bias=False, dropout=0.5)");
    expect(new GRUCell(3, 4).toString()).toBe('GRUCell(3, 4)');
  });
});

describe('forward against the reference equations', () => {
  it('RNN tanh: two layers, bidirectional, given h0', () => {
    nb.manualSeed(2);
    const gen = new nb.Generator(10);
    const m = new RNN(3, 4, { numLayers: 2, bidirectional: true });
    const x = randSeq([5, 2, 3], gen),
      h0 = randSeq([4, 2, 4], gen);
    const [out, hN] = m.forward(x, h0);
    const ref = refNet(m, nested(x), nested(h0));
    expectClose(out, ref.out, [5, 2, 8]);
    expectClose(hN, ref.hN, [4, 2, 4]);
  });

  it('RNN relu: batch first, one layer, zero initial state', () => {
    nb.manualSeed(3);
    const m = new RNN(3, 6, { nonlinearity: 'relu', batchFirst: true });
    const x = randSeq([2, 7, 3], new nb.Generator(11)); // [B, T, F]
    const [out, hN] = m.forward(x);
    const ref = refNet(m, swap01(nested(x)));
    expect(flat(ref.out).some((v) => v === 0)).toBe(true); // the ReLU clips somewhere
    expectClose(out, swap01(ref.out), [2, 7, 6]);
    expectClose(hN, ref.hN, [1, 2, 6]);
  });

  it('LSTM: two layers, bidirectional, batch first, given (h0, c0)', () => {
    nb.manualSeed(4);
    const gen = new nb.Generator(12);
    const m = new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    const x = randSeq([2, 6, 3], gen),
      h0 = randSeq([4, 2, 4], gen),
      c0 = randSeq([4, 2, 4], gen);
    const [out, [hN, cN]] = m.forward(x, [h0, c0]);
    const ref = refNet(m, swap01(nested(x)), nested(h0), nested(c0));
    expectClose(out, swap01(ref.out), [2, 6, 8]);
    expectClose(hN, ref.hN, [4, 2, 4]);
    expectClose(cN, ref.cN, [4, 2, 4]);
  });

  it('LSTM: three layers, odd sequence length, without bias', () => {
    nb.manualSeed(5);
    const m = new LSTM(2, 3, { numLayers: 3, bias: false });
    const x = randSeq([7, 3, 2], new nb.Generator(13));
    const [out, [hN, cN]] = m.forward(x);
    const ref = refNet(m, nested(x));
    expectClose(out, ref.out, [7, 3, 3]);
    expectClose(hN, ref.hN, [3, 3, 3]);
    expectClose(cN, ref.cN, [3, 3, 3]);
  });

  it('LSTM and RNN: unbatched input gives unbatched outputs', () => {
    nb.manualSeed(6);
    const gen = new nb.Generator(14);
    const m = new LSTM(3, 4, { bidirectional: true });
    const x = randSeq([5, 3], gen),
      h0 = randSeq([2, 4], gen),
      c0 = randSeq([2, 4], gen);
    const [out, [hN, cN]] = m.forward(x, [h0, c0]);
    const ref = refNet(
      m,
      nested(x).map((r: number[]) => [r]),
      nested(h0).map((r: number[]) => [r]),
      nested(c0).map((r: number[]) => [r]),
    );
    expectClose(out, ref.out, [5, 8]);
    expectClose(hN, ref.hN, [2, 4]);
    expectClose(cN, ref.cN, [2, 4]);
    // batch first does not change unbatched input ([T, F]); no state means zeros
    const r = new RNN(3, 4, { batchFirst: true });
    const [o2, h2] = r.forward(x);
    const ref2 = refNet(
      r,
      nested(x).map((row: number[]) => [row]),
    );
    expectClose(o2, ref2.out, [5, 4]);
    expectClose(h2, ref2.hN, [1, 4]);
  });

  it('GRU: two layers, bidirectional, given h0 (n uses r ⊙ (W_hn h + b_hn))', () => {
    nb.manualSeed(7);
    const gen = new nb.Generator(15);
    const m = new GRU(3, 4, { numLayers: 2, bidirectional: true });
    const x = randSeq([4, 2, 3], gen),
      h0 = randSeq([4, 2, 4], gen);
    const [out, hN] = m.forward(x, h0);
    const ref = refNet(m, nested(x), nested(h0));
    expectClose(out, ref.out, [4, 2, 8]);
    expectClose(hN, ref.hN, [4, 2, 4]);
    // the bias b_hn inside the reset gate matters: moving it to b_in changes the result
    const sd = m.stateDict();
    const bih = vals(sd.bias_ih_l0),
      bhh = vals(sd.bias_hh_l0);
    for (let j = 8; j < 12; j++) {
      bih[j] += bhh[j];
      bhh[j] = 0;
    }
    m.loadStateDict({ bias_ih_l0: nb.tensor(bih), bias_hh_l0: nb.tensor(bhh) }, { strict: false });
    const [out2] = m.forward(x, h0);
    expectClose(out2, refNet(m, nested(x), nested(h0)).out, [4, 2, 8]);
    expect(Math.max(...vals(nb.abs(nb.sub(out2, out))))).toBeGreaterThan(1e-3);
  });

  it('GRU: batch first, without bias, unbatched', () => {
    nb.manualSeed(8);
    const m = new GRU(2, 5, { batchFirst: true, bias: false });
    const x = randSeq([3, 4, 2], new nb.Generator(16));
    const [out, hN] = m.forward(x);
    const ref = refNet(m, swap01(nested(x)));
    expectClose(out, swap01(ref.out), [3, 4, 5]);
    expectClose(hN, ref.hN, [1, 3, 5]);
    const [o1, h1] = m.forward(nb.select(x, 0, 1)); // unbatched [T, F]
    expectClose(o1, swap01(ref.out)[1], [4, 5]);
    expectClose(h1, [ref.hN[0][1]], [1, 5]); // hN stays [layers·dirs, H]
  });

  it('float64 layers match the reference to double precision', () => {
    nb.manualSeed(9);
    const m = new LSTM(3, 4, { numLayers: 2, dtype: 'float64' });
    const x = nb.randn([5, 2, 3], { dtype: 'float64', generator: new nb.Generator(17) });
    const [out] = m.forward(x);
    expect(out.dtype).toBe('float64');
    expectClose(out, refNet(m, nested(x)).out, [5, 2, 4], 1e-12);
  });
});

describe('cells', () => {
  it("stepping a cell over time gives the single-layer module's output", () => {
    nb.manualSeed(20);
    const gen = new nb.Generator(21);
    const x = randSeq([4, 2, 3], gen),
      h0 = randSeq([1, 2, 5], gen),
      c0 = randSeq([1, 2, 5], gen);
    const steps = (t: nb.Tensor) => Array.from({ length: 4 }, (_, i) => nb.select(t, 0, i));
    const cellWeights = (m: RNNBase) => {
      const sd = m.stateDict();
      return { weight_ih: sd.weight_ih_l0, weight_hh: sd.weight_hh_l0, bias_ih: sd.bias_ih_l0, bias_hh: sd.bias_hh_l0 };
    };

    const lstm = new LSTM(3, 5),
      lcell = new LSTMCell(3, 5);
    lcell.loadStateDict(cellWeights(lstm));
    let hc: [nb.Tensor, nb.Tensor] = [nb.select(h0, 0, 0), nb.select(c0, 0, 0)];
    const hs = steps(x).map((xt) => (hc = lcell.forward(xt, hc))[0]);
    const [out, [hN, cN]] = lstm.forward(x, [h0, c0]);
    expectClose(nb.stack(hs), nested(out), [4, 2, 5]);
    expectClose(hc[1], nested(cN)[0], [2, 5]);
    expectClose(hc[0], nested(hN)[0], [2, 5]);

    for (const [layer, cell] of [
      [new GRU(3, 5), new GRUCell(3, 5)],
      [new RNN(3, 5, { nonlinearity: 'relu' }), new RNNCell(3, 5, { nonlinearity: 'relu' })],
    ] as const) {
      cell.loadStateDict(cellWeights(layer));
      let h = nb.select(h0, 0, 0);
      const outs = steps(x).map((xt) => (h = cell.forward(xt, h)));
      expectClose(nb.stack(outs), nested(layer.forward(x, h0)[0]), [4, 2, 5]);
    }
  });

  it('take unbatched input and default to zero states', () => {
    nb.manualSeed(22);
    const cell = new LSTMCell(3, 4);
    const x = randSeq([3], new nb.Generator(23));
    const [h, c] = cell.forward(x);
    const sd = cell.stateDict();
    const p: CellParams = { wih: vals(sd.weight_ih), whh: vals(sd.weight_hh), bih: vals(sd.bias_ih), bhh: vals(sd.bias_hh) };
    const [rh, rc] = refCell('LSTM', p, vals(x), [0, 0, 0, 0], [0, 0, 0, 0]);
    expectClose(h, rh, [4]);
    expectClose(c, rc, [4]);
    const g = new GRUCell(3, 4);
    expect(g.forward(nb.unsqueeze(x, 0)).shape).toEqual([1, 4]);
    expect(g.forward(x, nb.zeros([4])).shape).toEqual([4]);
  });
});

describe('gradients (float64 gradcheck)', () => {
  const f64 = (shape: number[], seed: number) => nb.randn(shape, { dtype: 'float64', generator: new nb.Generator(seed) });

  /** f(x, w) with the module's field `name` temporarily replaced by w. */
  function withWeight<M extends object>(m: M, name: string, fn: () => nb.Tensor): (w: nb.Tensor) => nb.Tensor {
    return (w) => {
      const self = m as Record<string, unknown>;
      const saved = self[name];
      self[name] = w;
      try {
        return fn();
      } finally {
        self[name] = saved;
      }
    };
  }

  it('LSTM with respect to the input, h0, c0 and weights (two layers, bidirectional)', () => {
    nb.manualSeed(30);
    const m = new LSTM(2, 2, { numLayers: 2, bidirectional: true, dtype: 'float64' });
    const fOut = (x: nb.Tensor, h0: nb.Tensor, c0: nb.Tensor) => {
      const [out, [, cN]] = m.forward(x, [h0, c0]);
      return nb.concat([nb.reshape(out, [-1]), nb.reshape(cN, [-1])]);
    };
    const x = f64([3, 2, 2], 31),
      h0 = f64([4, 2, 2], 32),
      c0 = f64([4, 2, 2], 33);
    expect(nb.gradcheck(fOut, [x, h0, c0]).message).toBe('');
    for (const name of ['weight_hh_l0', 'weight_ih_l1_reverse', 'bias_hh_l1']) {
      const w = nb.detach(nb.clone(m.stateDict()[name]));
      const r = nb.gradcheck((xx, ww) => withWeight(m, name, () => fOut(xx, h0, c0))(ww), [x, w]);
      expect(r.message, name).toBe('');
    }
  });

  it('GRU with respect to the input and weights (batch first, bidirectional)', () => {
    nb.manualSeed(34);
    const m = new GRU(3, 2, { batchFirst: true, bidirectional: true, dtype: 'float64' });
    const f = (x: nb.Tensor) => {
      const [out, hN] = m.forward(x);
      return nb.concat([nb.reshape(out, [-1]), nb.reshape(hN, [-1])]);
    };
    const x = f64([2, 3, 3], 35);
    expect(nb.gradcheck(f, [x]).message).toBe('');
    for (const name of ['weight_hh_l0', 'bias_hh_l0', 'weight_ih_l0_reverse']) {
      const w = nb.detach(nb.clone(m.stateDict()[name]));
      expect(nb.gradcheck((xx, ww) => withWeight(m, name, () => f(xx))(ww), [x, w]).message, name).toBe('');
    }
  });

  it('RNN and the cells', () => {
    nb.manualSeed(36);
    const rnn = new RNN(2, 3, { numLayers: 2, dtype: 'float64' });
    expect(nb.gradcheck((x) => rnn.forward(x)[0], [f64([4, 1, 2], 37)]).message).toBe('');
    const lc = new LSTMCell(2, 3, { dtype: 'float64' }),
      gc = new GRUCell(2, 3, { dtype: 'float64' });
    const x = f64([2, 2], 38),
      h = f64([2, 3], 39),
      c = f64([2, 3], 40);
    expect(nb.gradcheck((a, b, d) => nb.concat(lc.forward(a, [b, d]), 1), [x, h, c]).message).toBe('');
    expect(nb.gradcheck((a, b) => gc.forward(a, b), [x, h]).message).toBe('');
    const w = nb.detach(nb.clone(gc.weight_hh));
    expect(nb.gradcheck((ww) => withWeight(gc, 'weight_hh', () => gc.forward(x, h))(ww), [w]).message).toBe('');
  });

  it('reach every parameter through a long sequence, and scope() frees the whole graph', () => {
    nb.manualSeed(41);
    const m = new LSTM(4, 8, { numLayers: 2 });
    const x = nb.randn([40, 3, 4], { generator: new nb.Generator(42) });
    x.requiresGrad = true;
    const live = nb.getBackend().liveBuffers();
    nb.scope(() => {
      const [out] = m.forward(x);
      nb.sum(nb.select(out, 0, 39)).backward(); // the last step depends on every earlier one
    });
    const gx = nested(x.grad!);
    expect(gx[0].flat().some((v: number) => v !== 0)).toBe(true);
    for (const p of m.parameters()) expect(vals(p.grad!).some((v) => v !== 0)).toBe(true);
    m.zeroGrad();
    x.grad!.dispose();
    x.grad = null;
    expect(nb.getBackend().liveBuffers()).toBe(live); // only the gradients outlived the scope
  });
});

describe('dropout between layers', () => {
  it('is applied to the outputs of all but the last layer, in training only', () => {
    nb.manualSeed(50);
    const x = randSeq([4, 2, 3], new nb.Generator(51)),
      x2 = randSeq([4, 2, 3], new nb.Generator(52));
    // p = 1 zeroes the first layer's output: the second layer then sees zeros whatever the input
    const m = new LSTM(3, 4, { numLayers: 2, dropout: 1 });
    expect(vals(m.forward(x)[0])).toEqual(vals(m.forward(x2)[0]));
    m.eval();
    const evalOut = m.forward(x)[0];
    expectClose(evalOut, refNet(m, nested(x)).out, [4, 2, 4]);
    expect(vals(evalOut)).not.toEqual(vals(m.forward(x2)[0]));

    // p = 0.5: training output differs from eval and from the reference; a single layer has nothing to drop
    const g = new GRU(3, 4, { numLayers: 2, dropout: 0.5 });
    const train1 = vals(g.forward(x)[0]),
      train2 = vals(g.forward(x)[0]);
    expect(train1).not.toEqual(train2); // fresh masks each call
    g.eval();
    expectClose(g.forward(x)[0], refNet(g, nested(x)).out, [4, 2, 4]);
    const one = new RNN(3, 4, { dropout: 0.5 });
    expectClose(one.forward(x)[0], refNet(one, nested(x)).out, [4, 2, 4]);
  });
});

describe('errors', () => {
  it('name the layer and the shapes', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2 });
    expect(() => lstm.forward(nb.zeros([2, 3, 4, 3]))).toThrow('LSTM: expected input to be 2-D (unbatched [T, 3]) or 3-D, got 4-D input of shape [2,3,4,3]');
    expect(() => lstm.forward(nb.zeros([5, 2, 6]))).toThrow('LSTM: input.size(-1) must be equal to inputSize: expected 3, got 6 (input of shape [5,2,6])');
    expect(() => lstm.forward(nb.zeros([5, 2, 3]), [nb.zeros([1, 2, 4]), nb.zeros([2, 2, 4])])).toThrow(
      'LSTM: expected h0 of shape [2,2,4] (numLayers·directions, batch, hiddenSize) for batched input, got [1,2,4]',
    );
    expect(() => lstm.forward(nb.zeros([5, 2, 3]), [nb.zeros([2, 2, 4]), nb.zeros([2, 3, 4])])).toThrow(/LSTM: expected c0 of shape \[2,2,4\].*got \[2,3,4\]/);
    expect(() => lstm.forward(nb.zeros([5, 3]), [nb.zeros([2, 1, 4]), nb.zeros([2, 1, 4])])).toThrow(/expected h0 of shape \[2,4\] .*unbatched input, got \[2,1,4\]/);
    expect(() => lstm.forward(nb.zeros([5, 2, 3]), nb.zeros([2, 2, 4]) as any)).toThrow('LSTM: hx must be a pair [h0, c0]');
    expect(() => lstm.forward(nb.zeros([5, 2, 3], { dtype: 'float64' }))).toThrow(/LSTM: input dtype float64 does not match the parameters' float32/);
    expect(() => lstm.forward(nb.zeros([0, 2, 3]))).toThrow(/LSTM: the input sequence is empty/);
    expect(() => new GRU(3, 4, { batchFirst: true }).forward(nb.zeros([2, 5, 3]), nb.zeros([2, 2, 4]))).toThrow(/GRU: expected h0 of shape \[1,2,4\]/);
    expect(() => new RNN(3, 4).forward(nb.zeros([5, 2, 4]))).toThrow(/^RNN: input.size\(-1\)/);

    expect(() => new RNN(3, 4, { nonlinearity: 'sigmoid' as any })).toThrow("RNN: unknown nonlinearity 'sigmoid', expected 'tanh' or 'relu'");
    expect(() => new LSTM(3, 4, { numLayers: 0 })).toThrow('LSTM: numLayers must be a positive integer, got 0');
    expect(() => new GRU(3, 4, { dropout: 1.5 })).toThrow('GRU: dropout must be a probability in [0, 1], got 1.5');
    expect(() => new LSTM(0, 4)).toThrow(/LSTM: inputSize and hiddenSize must be positive integers/);
    expect(() => new LSTM(3, 4, { nonlinearity: 'relu' } as any)).toThrow('LSTM: the nonlinearity option is for RNN only');

    const cell = new LSTMCell(3, 4);
    expect(() => cell.forward(nb.zeros([1, 2, 3]))).toThrow('LSTMCell: expected input to be 1-D or 2-D, got 3-D input of shape [1,2,3]');
    expect(() => cell.forward(nb.zeros([2, 5]))).toThrow('LSTMCell: input has 5 features, expected inputSize 3 (input of shape [2,5])');
    expect(() => cell.forward(nb.zeros([2, 3]), [nb.zeros([3, 4]), nb.zeros([2, 4])])).toThrow('LSTMCell: expected h of shape [2,4], got [3,4]');
    expect(() => new GRUCell(3, 4).forward(nb.zeros([3]), nb.zeros([1, 4]))).toThrow('GRUCell: expected hx of shape [4], got [1,4]');
  });
});
