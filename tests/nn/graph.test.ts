// Graph layers against dense float64 references written out here (adjacency matrix with loops,
// the formulas of PyG's GCNConv, SAGEConv and GATConv), gradchecks, scatter helpers and errors.
import { describe, it, expect, afterEach } from 'vitest';
import * as nb from '../../src/index.js';
import { GCNConv, SAGEConv, GATConv, addSelfLoops, degree, gcnNorm, scatterSoftmax, scatter, propagate, graphOptions } from '../../src/nn/layers/graph.js';

const f64 = { dtype: 'float64' as const };
type Edge = [number, number]; // [source j, target i]

const edgeIndexOf = (edges: Edge[]) => nb.tensor([edges.map((e) => e[0]), edges.map((e) => e[1])], { dtype: 'int32' });
const idx = (v: number[]) => nb.tensor(v, { dtype: 'int32' });
const mat = (t: nb.Tensor) => t.tolistSync() as number[][];

function expectClose(actual: nb.Tensor, expected: number[][] | number[], tol = 1e-5): void {
  const a = Array.from(actual.dataSync()),
    e = (expected as unknown[]).flat(3) as number[];
  expect(a.length).toBe(e.length);
  for (let k = 0; k < e.length; k++) expect(Math.abs(a[k] - e[k]), `element ${k}: ${a[k]} vs ${e[k]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e[k])));
}

/** Y = X Wᵀ (+ b) in plain numbers. */
function linearRef(X: number[][], W: number[][], b?: number[]): number[][] {
  return X.map((x) => W.map((w, o) => w.reduce((s, wk, k) => s + wk * x[k], b ? b[o] : 0)));
}

/** Y = A X for A [N, N] (row i aggregates into node i). */
const matmulRef = (A: number[][], X: number[][]) => A.map((a) => X[0].map((_, c) => a.reduce((s, aij, j) => s + aij * X[j][c], 0)));

/**
 * GCN's dense D̂^-1/2 Â D̂^-1/2: Â[i][j] sums the weights of edges j → i; loops are replaced by one
 * per node carrying the node's loop weight if it had one, else fill.
 */
function gcnMatrix(N: number, edges: Edge[], weights: number[] | null, fill: number, loops = true): number[][] {
  const A = Array.from({ length: N }, () => new Array(N).fill(0));
  const loopW: (number | null)[] = new Array(N).fill(null);
  edges.forEach(([j, i], e) => {
    const w = weights ? weights[e] : 1;
    if (loops && i === j) loopW[i] = w;
    else A[i][j] += w;
  });
  if (loops) for (let i = 0; i < N; i++) A[i][i] = loopW[i] ?? fill;
  const deg = A.map((row) => row.reduce((s, v) => s + v, 0));
  const dis = deg.map((d) => (d === 0 ? 0 : 1 / Math.sqrt(d)));
  return A.map((row, i) => row.map((v, j) => dis[i] * v * dis[j]));
}

// Five nodes: a loop already on node 2, a repeated edge 0 → 1, and node 4 isolated.
const N5 = 5;
const E5: Edge[] = [
  [0, 1],
  [1, 0],
  [1, 2],
  [2, 1],
  [2, 3],
  [3, 2],
  [2, 2],
  [0, 1],
  [3, 0],
];
const W5 = [0.5, 1.5, 2, 1, 0.25, 3, 0.7, 1.2, 0.8];

afterEach(() => {
  graphOptions.denseSegmentMax = false;
});

describe('helpers', () => {
  it('addSelfLoops appends one loop per node (keeping existing ones) and fills their weights', () => {
    const [ei, w] = addSelfLoops(
      edgeIndexOf([
        [0, 1],
        [1, 1],
      ]),
      3,
      { edgeWeight: nb.tensor([2, 3]), fillValue: 0.5 },
    );
    expect(ei.tolistSync()).toEqual([
      [0, 1, 0, 1, 2],
      [1, 1, 0, 1, 2],
    ]);
    expect(w!.tolistSync()).toEqual([2, 3, 0.5, 0.5, 0.5]);
    expect(addSelfLoops(edgeIndexOf([[0, 1]]), 2)[1]).toBeNull();
  });

  it('degree counts occurrences; scatter sums, averages and takes maxima by index', () => {
    expect(degree(idx([1, 0, 1, 3, 1]), 5).tolistSync()).toEqual([1, 3, 0, 1, 0]);
    expect(degree(idx([0, 0]), 2, 'int32').dtype).toBe('int32');
    const src = nb.tensor([
        [1, -2],
        [3, 4],
        [-5, 6],
        [7, 0.5],
      ]),
      index = idx([2, 0, 2, 2]);
    expect(scatter(src, index, 4).tolistSync()).toEqual([
      [3, 4],
      [0, 0],
      [3, 4.5],
      [0, 0],
    ]);
    expect(scatter(src, index, 4, 'add').tolistSync()).toEqual([
      [3, 4],
      [0, 0],
      [3, 4.5],
      [0, 0],
    ]);
    expectClose(scatter(src, index, 4, 'mean'), [
      [3, 4],
      [0, 0],
      [1, 4.5 / 3],
      [0, 0],
    ]);
    // max: nodes with no rows give 0 (also when every value is negative elsewhere)
    expect(scatter(src, index, 4, 'max').tolistSync()).toEqual([
      [3, 4],
      [0, 0],
      [7, 6],
      [0, 0],
    ]);
    expect(scatter(nb.tensor([-3, -1]), idx([1, 1]), 3, 'max').tolistSync()).toEqual([0, -1, 0]);
    graphOptions.denseSegmentMax = true;
    expect(scatter(src, index, 4, 'max').tolistSync()).toEqual([
      [3, 4],
      [0, 0],
      [7, 6],
      [0, 0],
    ]);
    expect(scatter(nb.tensor([-3, -1]), idx([1, 1]), 3, 'max').tolistSync()).toEqual([0, -1, 0]);
  });

  it('propagate sends x_j along each edge to a target set of numNodes', () => {
    // 2 source rows, 3 targets: out_i = Σ_{j → i} w_ji x_j
    const x = nb.tensor([
      [1, 2],
      [10, 20],
    ]);
    const y = propagate(
      edgeIndexOf([
        [0, 2],
        [1, 2],
        [1, 0],
      ]),
      x,
      { numNodes: 3, edgeWeight: nb.tensor([1, 0.5, 2]) },
    );
    expect(y.tolistSync()).toEqual([
      [20, 40],
      [0, 0],
      [6, 12],
    ]);
    expect(() => propagate(edgeIndexOf([[0, 3]]), x, { numNodes: 3 })).toThrow('propagate: edgeIndex refers to node 3 (target of edge 0) but the graph has 3 target nodes');
    expect(() => propagate(edgeIndexOf([[2, 0]]), x, { numNodes: 3 })).toThrow('propagate: edgeIndex refers to node 2 (source of edge 0) but the graph has 2 nodes');
  });

  it('gradcheck of mean and max aggregation through propagate, on both segment-max layouts', () => {
    const ei = edgeIndexOf(E5);
    const x = nb.randn([N5, 3], { ...f64, generator: new nb.Generator(5) });
    for (const dense of [false, true]) {
      graphOptions.denseSegmentMax = dense;
      for (const aggr of ['mean', 'max'] as const) {
        const r = nb.gradcheck((xs) => propagate(ei, xs, { aggr }), [x]);
        expect(r.message, `${aggr}, dense ${dense}`).toBe('');
      }
      const r = nb.gradcheck((xs, w) => propagate(ei, xs, { edgeWeight: w }), [x, nb.tensor(W5, f64)]);
      expect(r.message).toBe('');
    }
  });

  it('gcnNorm matches D̂^-1/2 (A + I) D̂^-1/2 with in-degrees at the target, weights, existing loops and isolated nodes', () => {
    for (const [weights, improved] of [
      [null, false],
      [W5, false],
      [W5, true],
      [null, true],
    ] as const) {
      const [ei, w] = gcnNorm(edgeIndexOf(E5), N5, { edgeWeight: weights ? nb.tensor(weights as number[], f64) : null, improved, dtype: 'float64' });
      expect(ei.shape).toEqual([2, E5.length + N5]);
      expect(w.dtype).toBe('float64');
      // scatter the normalized weights back into a dense matrix and compare
      const src = ei.dataSync(),
        ww = w.dataSync(),
        E = ei.shape[1];
      const D = Array.from({ length: N5 }, () => new Array(N5).fill(0));
      for (let e = 0; e < E; e++) D[src[E + e]][src[e]] += ww[e];
      const ref = gcnMatrix(N5, E5, weights as number[] | null, improved ? 2 : 1);
      expectClose(nb.tensor(D, f64), ref, 1e-12);
    }
    // without self loops an isolated node (degree 0) gets weight 0, not inf
    const [ei, w] = gcnNorm(edgeIndexOf([[0, 1]]), 3, { addSelfLoops: false });
    expect(ei.shape).toEqual([2, 1]);
    expect(w.tolistSync()).toEqual([0]); // d̂_0 = 0 (node 0 receives nothing) → 0
  });

  it('scatterSoftmax sums to 1 over each target, is stable for large scores, and agrees on both layouts', () => {
    const index = idx([0, 2, 2, 0, 2, 3]);
    const s = nb.tensor([
      [1, 1000],
      [2, 1001],
      [3, 999],
      [0.5, 998],
      [-1, 1000],
      [4, -5],
    ]);
    for (const dense of [false, true]) {
      graphOptions.denseSegmentMax = dense;
      const a = scatterSoftmax(s, index, 5);
      expect(a.shape).toEqual([6, 2]);
      const rows = mat(a);
      expect(rows.flat().every(Number.isFinite)).toBe(true);
      const sums = mat(scatter(a, index, 5));
      expectClose(nb.tensor(sums), [
        [1, 1],
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]);
      // node 2's second head: softmax of [1001, 999, 1000] = softmax of [2, 0, 1]
      const z = Math.exp(2) + 1 + Math.exp(1);
      expectClose(nb.tensor([rows[1][1], rows[2][1], rows[4][1]]), [Math.exp(2) / z, 1 / z, Math.exp(1) / z]);
    }
    // a group whose scores are all -∞ gets zeros, not NaN
    expect(scatterSoftmax(nb.tensor([-Infinity, -Infinity, 0]), idx([0, 0, 1]), 2).tolistSync()).toEqual([0, 0, 1]);
  });
});

describe('GCNConv', () => {
  it('has PyG names, shapes and init: lin.weight [out, in] glorot, bias [out] zeros', () => {
    nb.manualSeed(0);
    const conv = new GCNConv(30, 20);
    const sd = conv.stateDict();
    expect(Object.keys(sd)).toEqual(['bias', 'lin.weight']);
    expect(sd['lin.weight'].shape).toEqual([20, 30]);
    expect(sd.bias.tolistSync()).toEqual(new Array(20).fill(0));
    const w = Array.from(conv.lin.weight.dataSync()),
      bound = Math.sqrt(6 / 50);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Object.keys(new GCNConv(3, 2, { bias: false }).stateDict())).toEqual(['lin.weight']);
    expect(conv.toString()).toBe('GCNConv(30, 20)');
    nb.manualSeed(0);
    expect(Array.from(new GCNConv(30, 20).lin.weight.dataSync())).toEqual(w);
  });

  it('equals D̂^-1/2 Â D̂^-1/2 X Θᵀ + b (weights, existing loop, repeated edge, isolated node, improved)', () => {
    nb.manualSeed(1);
    const x = nb.randn([N5, 4]);
    const ei = edgeIndexOf(E5);
    for (const [weights, improved] of [
      [null, false],
      [W5, false],
      [W5, true],
    ] as const) {
      const conv = new GCNConv(4, 3, { improved });
      conv.loadStateDict({ bias: nb.tensor([0.1, -0.2, 0.3]) }, { strict: false });
      const y = conv.forward(x, ei, weights ? nb.tensor(weights as number[]) : undefined);
      expect(y.shape).toEqual([N5, 3]);
      const H = linearRef(mat(x), mat(conv.lin.weight));
      const ref = matmulRef(gcnMatrix(N5, E5, weights as number[] | null, improved ? 2 : 1), H).map((r) => r.map((v, c) => v + [0.1, -0.2, 0.3][c]));
      expectClose(y, ref, 1e-5);
      // the isolated node 4 sees only its own loop: Â = fill, d̂ = fill, so x'_4 = Θ x_4 + b
      expectClose(
        nb.tensor(mat(y)[4]),
        H[4].map((v, c) => v + [0.1, -0.2, 0.3][c]),
        1e-5,
      );
    }
  });

  it('without normalization sums weighted messages as given (no loops added)', () => {
    nb.manualSeed(2);
    const conv = new GCNConv(3, 2, { normalize: false, bias: false });
    expect(conv.addSelfLoops).toBe(false);
    const x = nb.randn([N5, 3]);
    const A = Array.from({ length: N5 }, () => new Array(N5).fill(0));
    E5.forEach(([j, i], e) => {
      A[i][j] += W5[e];
    });
    expectClose(conv.forward(x, edgeIndexOf(E5), nb.tensor(W5)), matmulRef(A, linearRef(mat(x), mat(conv.lin.weight))));
    // a graph without edges still gets its self loops when normalizing
    const c2 = new GCNConv(3, 2);
    expectClose(c2.forward(x, nb.zeros([2, 0], { dtype: 'int32' })), linearRef(mat(x), mat(c2.lin.weight)));
  });

  it('gradcheck in float64 w.r.t. x, the weights, the bias and the edge weights', () => {
    const conv = new GCNConv(3, 2, { dtype: 'float64' });
    const ei = edgeIndexOf(E5);
    const g = new nb.Generator(7);
    const inputs = [nb.randn([N5, 3], { ...f64, generator: g }), nb.randn([2, 3], { ...f64, generator: g }), nb.randn([2], { ...f64, generator: g }), nb.tensor(W5, f64)];
    const lin = conv.lin as unknown as { weight: nb.Tensor },
      self = conv as unknown as { bias: nb.Tensor };
    const r = nb.gradcheck((x, w, b, ew) => {
      lin.weight = w;
      self.bias = b;
      return conv.forward(x, ei, ew);
    }, inputs);
    expect(r.message).toBe('');
    expect(r.ok).toBe(true);
  });
});

describe('SAGEConv', () => {
  it('has PyG names and computes lin_l(aggr_j x_j) + lin_r(x_i) for mean, sum and max', () => {
    nb.manualSeed(3);
    const x = nb.randn([N5, 4]),
      X = mat(x);
    const ei = edgeIndexOf(E5);
    for (const aggr of ['mean', 'sum', 'max'] as const) {
      const conv = new SAGEConv(4, 3, { aggr });
      expect(Object.keys(conv.stateDict())).toEqual(['lin_l.weight', 'lin_l.bias', 'lin_r.weight']);
      expect(conv.toString()).toBe(`SAGEConv(4, 3, aggr=${aggr})`);
      // neighbours (with multiplicity; the loop on 2 is an ordinary edge here), 0 when there are none
      const agg = X.map((_, i) => {
        const nbrs = E5.filter(([, t]) => t === i).map(([s]) => X[s]);
        if (nbrs.length === 0) return new Array(4).fill(0);
        return X[0].map((_, c) => {
          const vals = nbrs.map((r) => r[c]);
          if (aggr === 'max') return Math.max(...vals);
          const s = vals.reduce((p, v) => p + v, 0);
          return aggr === 'mean' ? s / vals.length : s;
        });
      });
      const l = linearRef(agg, mat(conv.lin_l.weight), conv.lin_l.bias!.tolistSync() as number[]);
      const r = linearRef(X, mat(conv.lin_r!.weight));
      const ref = l.map((row, i) => row.map((v, c) => v + r[i][c]));
      expectClose(conv.forward(x, ei), ref);
      // normalize: unit rows
      const unit = new SAGEConv(4, 3, { aggr, normalize: true });
      unit.loadStateDict(conv.stateDict());
      expectClose(
        unit.forward(x, ei),
        ref.map((row) => {
          const n = Math.hypot(...row);
          return row.map((v) => v / n);
        }),
      );
    }
    const noRoot = new SAGEConv(4, 3, { rootWeight: false, bias: false });
    expect(Object.keys(noRoot.stateDict())).toEqual(['lin_l.weight']);
  });
});

/** Dense GAT: per head, scores on the non-loop edges plus one loop per node, softmax per target. */
function gatRef(X: number[][], edges: Edge[], W: number[][], attSrc: number[][], attDst: number[][], H: number, C: number, concat: boolean, bias: number[], slope = 0.2) {
  const N = X.length;
  const h = linearRef(X, W); // [N, H*C]
  const es: Edge[] = [...edges.filter(([j, i]) => j !== i), ...X.map((_, i) => [i, i] as Edge)];
  const outs: number[][][] = []; // [H][N][C]
  const alphas: number[][] = es.map(() => []);
  for (let hd = 0; hd < H; hd++) {
    const hv = (n: number) => h[n].slice(hd * C, hd * C + C);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
    const score = es.map(([j, i]) => {
      const v = dot(hv(j), attSrc[hd]) + dot(hv(i), attDst[hd]);
      return v > 0 ? v : slope * v;
    });
    const out = Array.from({ length: N }, () => new Array(C).fill(0));
    for (let i = 0; i < N; i++) {
      const into = es.map((e, k) => [e, k] as const).filter(([e]) => e[1] === i);
      const m = Math.max(...into.map(([, k]) => score[k]));
      const z = into.reduce((s, [, k]) => s + Math.exp(score[k] - m), 0);
      for (const [[j], k] of into) {
        const a = Math.exp(score[k] - m) / z;
        alphas[k][hd] = a;
        hv(j).forEach((v, c) => {
          out[i][c] += a * v;
        });
      }
    }
    outs.push(out);
  }
  const y = X.map((_, i) => (concat ? outs.flatMap((o) => o[i]) : outs[0][i].map((_, c) => outs.reduce((s, o) => s + o[i][c], 0) / H)));
  return { y: y.map((r) => r.map((v, c) => v + bias[c])), edges: es, alphas };
}

describe('GATConv', () => {
  it('has PyG ≥ 2.5 names and shapes: lin [H·C, in], att_src / att_dst [1, H, C], bias', () => {
    nb.manualSeed(4);
    const conv = new GATConv(6, 4, { heads: 3 });
    const sd = conv.stateDict();
    expect(Object.keys(sd)).toEqual(['att_src', 'att_dst', 'bias', 'lin.weight']);
    expect(sd['lin.weight'].shape).toEqual([12, 6]);
    expect(sd.att_src.shape).toEqual([1, 3, 4]);
    expect(sd.att_dst.shape).toEqual([1, 3, 4]);
    expect(sd.bias.shape).toEqual([12]);
    expect(sd.bias.tolistSync()).toEqual(new Array(12).fill(0));
    const att = Array.from(sd.att_src.dataSync()).map(Math.abs);
    expect(Math.max(...att)).toBeLessThanOrEqual(Math.sqrt(6 / 7)); // glorot over (heads, out)
    expect(Math.max(...Array.from(sd['lin.weight'].dataSync()).map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 18));
    expect(new GATConv(6, 4, { heads: 3, concat: false }).bias!.shape).toEqual([4]);
    expect(conv.toString()).toBe('GATConv(6, 4, heads=3)');
  });

  it('equals the dense attention formula: one and several heads, concat and mean, loops replaced, isolated node', () => {
    nb.manualSeed(5);
    const x = nb.randn([N5, 3]),
      X = mat(x);
    for (const [heads, concat] of [
      [1, true],
      [3, true],
      [2, false],
    ] as const) {
      const conv = new GATConv(3, 2, { heads, concat });
      const C = 2,
        bias = Array.from({ length: concat ? heads * C : C }, (_, k) => 0.1 * (k + 1));
      conv.loadStateDict({ bias: nb.tensor(bias) }, { strict: false });
      const ref = gatRef(X, E5, mat(conv.lin.weight), mat(nb.squeeze(conv.att_src, 0)), mat(nb.squeeze(conv.att_dst, 0)), heads, C, concat, bias);
      const [y, [ei, alpha]] = conv.forward(x, edgeIndexOf(E5), { returnAttentionWeights: true });
      expect(y.shape).toEqual([N5, concat ? heads * C : C]);
      expectClose(y, ref.y, 1e-5);
      expectClose(conv.forward(x, edgeIndexOf(E5)), ref.y, 1e-5);
      // attention: [E + N, heads]; the old loop (edge 6) gets 0, the rest match the reference
      expect(ei.shape).toEqual([2, E5.length + N5]);
      expect(alpha.shape).toEqual([E5.length + N5, heads]);
      const A = mat(alpha),
        eiv = mat(ei);
      expect(A[6]).toEqual(new Array(heads).fill(0));
      ref.edges.forEach(([j, i], k) => {
        const pos = eiv[0].findIndex((s, p) => p !== 6 && s === j && eiv[1][p] === i && (j !== i || p >= E5.length));
        // the repeated edge 0 → 1 appears twice with equal attention
        expectClose(nb.tensor(A[pos]), ref.alphas[k], 1e-5);
      });
      expectClose(scatter(alpha, nb.select(ei, 0, 1), N5), new Array(N5).fill(new Array(heads).fill(1)), 1e-5);
    }
  });

  it('without self loops, a node that receives nothing outputs only the bias', () => {
    nb.manualSeed(6);
    const conv = new GATConv(3, 2, { addSelfLoops: false });
    conv.loadStateDict({ bias: nb.tensor([1, 2]) }, { strict: false });
    const y = mat(
      conv.forward(
        nb.randn([3, 3]),
        edgeIndexOf([
          [0, 1],
          [2, 1],
        ]),
      ),
    );
    expect(y[0]).toEqual([1, 2]);
    expect(y[2]).toEqual([1, 2]);
  });

  it('drops attention coefficients in training only, scaling the kept ones by 1/(1-p)', () => {
    nb.manualSeed(7);
    const conv = new GATConv(3, 2, { heads: 2, dropout: 0.5 });
    const x = nb.randn([N5, 3]),
      ei = edgeIndexOf(E5);
    conv.eval();
    const [, [, a0]] = conv.forward(x, ei, { returnAttentionWeights: true });
    conv.train();
    const [, [, a1]] = conv.forward(x, ei, { returnAttentionWeights: true });
    const e = Array.from(a0.dataSync()),
      t = Array.from(a1.dataSync());
    let dropped = 0;
    t.forEach((v, k) => {
      if (v === 0) dropped++;
      else expect(v).toBeCloseTo(2 * e[k], 5);
    });
    expect(dropped).toBeGreaterThan(2);
    expect(dropped).toBeLessThan(t.length - 2);
  });

  it('gradcheck in float64 w.r.t. x, lin.weight, att_src, att_dst and bias (2 heads)', () => {
    const conv = new GATConv(3, 2, { heads: 2, dtype: 'float64' });
    const ei = edgeIndexOf(E5);
    const g = new nb.Generator(11);
    const inputs = [[N5, 3], [4, 3], [1, 2, 2], [1, 2, 2], [4]].map((s) => nb.randn(s, { ...f64, generator: g }));
    const m = conv as unknown as { lin: { weight: nb.Tensor }; att_src: nb.Tensor; att_dst: nb.Tensor; bias: nb.Tensor };
    const r = nb.gradcheck((x, w, as, ad, b) => {
      m.lin.weight = w;
      m.att_src = as;
      m.att_dst = ad;
      m.bias = b;
      return conv.forward(x, ei);
    }, inputs);
    expect(r.message).toBe('');
    expect(r.ok).toBe(true);
  });
});

describe('memory', () => {
  it('a training step of every layer inside scope() leaves only the gradients behind', () => {
    nb.manualSeed(12);
    const layers = [new GCNConv(3, 4), new SAGEConv(4, 4, { aggr: 'max' }), new GATConv(4, 2, { heads: 2, dropout: 0.3 })];
    const x = nb.randn([N5, 3]),
      ei = edgeIndexOf(E5),
      w = nb.tensor(W5);
    const step = () =>
      nb.scope(() => {
        const h = (layers[1] as SAGEConv).forward((layers[0] as GCNConv).forward(x, ei, w), ei);
        nb.sum(nb.mul((layers[2] as GATConv).forward(h, ei), h.shape[0])).backward();
      });
    step(); // gradients are created by the first step
    const live = nb.getBackend().liveBuffers();
    for (let k = 0; k < 3; k++) step();
    expect(nb.getBackend().liveBuffers()).toBe(live);
    for (const l of layers) for (const p of l.parameters()) expect(Array.from(p.grad!.dataSync()).some((v) => v !== 0)).toBe(true);
  });
});

describe('errors', () => {
  it('names the layer and the shapes or indices involved', () => {
    const x = nb.randn([5, 3]);
    const conv = new GCNConv(3, 2);
    expect(() =>
      conv.forward(
        x,
        nb.tensor([
          [0, 1],
          [1, 0],
        ]),
      ),
    ).toThrow('GCNConv: edgeIndex must be an int32 tensor of shape [2, E] (row 0 sources, row 1 targets), got float32 [2,2]');
    expect(() => conv.forward(x, idx([0, 1, 2]))).toThrow('GCNConv: edgeIndex must be an int32 tensor of shape [2, E]');
    expect(() =>
      conv.forward(
        x,
        edgeIndexOf([
          [0, 1],
          [1, 5],
        ]),
      ),
    ).toThrow('GCNConv: edgeIndex refers to node 5 (target of edge 1) but the graph has 5 nodes (valid indices 0 to 4)');
    expect(() => new GATConv(3, 2).forward(x, edgeIndexOf([[-1, 1]]))).toThrow('GATConv: edgeIndex refers to node -1 (source of edge 0)');
    expect(() => conv.forward(nb.randn([5, 4]), edgeIndexOf([[0, 1]]))).toThrow('GCNConv: expected node features [N, 3], got [5,4]');
    expect(() => new SAGEConv(3, 2).forward(nb.randn([3]), edgeIndexOf([[0, 1]]))).toThrow('SAGEConv: expected node features [N, 3], got [3]');
    expect(() => conv.forward(x, edgeIndexOf([[0, 1]]), nb.tensor([1, 2]))).toThrow('GCNConv: edgeWeight must be a float tensor of shape [E] = [1], got float32 [2]');
    expect(() => new GCNConv(3, 2, { normalize: false, addSelfLoops: true })).toThrow('GCNConv: adding self loops needs normalize');
    expect(() => new SAGEConv(3, 2, { aggr: 'lstm' as 'sum' })).toThrow("SAGEConv: unknown aggregation 'lstm'");
    expect(() => new GATConv(3, 2, { heads: 0 })).toThrow('GATConv: heads must be a positive integer, got 0');
    expect(() => scatterSoftmax(nb.tensor([1, 2]), idx([0, 3]), 3)).toThrow('scatterSoftmax: index 3 at position 1 is out of range for 3 nodes (valid indices 0 to 2)');
    expect(() => scatterSoftmax(nb.tensor([1, 2]), idx([0]), 3)).toThrow('scatterSoftmax: index [1] must have one entry per row of src (2)');
    expect(() => scatter(nb.tensor([1, 2]), idx([0, 0]), 2, 'min' as 'sum')).toThrow("scatter: unknown reduction 'min'");
    expect(() => degree(nb.tensor([0, 1]), 2)).toThrow('degree: index must be a 1-D int32 tensor, got float32 [2]');
  });
});
