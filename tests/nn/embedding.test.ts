// Embedding against PyTorch's nn.Embedding: lookups, init, padding_idx, from_pretrained and errors.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { Embedding, embedding } from '../../src/nn/layers/embedding.js';

const idx = (v: unknown) => nb.tensor(v as nb.NestedArray, { dtype: 'int32' });
const rowsOf = (w: nb.Tensor): number[][] => w.tolistSync() as number[][];

describe('Embedding', () => {
  it('returns the weight rows for indices of any shape', () => {
    nb.manualSeed(0);
    const emb = new Embedding(5, 3);
    expect(emb.weight.shape).toEqual([5, 3]);
    expect(Object.keys(emb.stateDict())).toEqual(['weight']);
    const W = rowsOf(emb.weight);
    const y = emb.forward(
      idx([
        [0, 4],
        [2, 2],
      ]),
    );
    expect(y.shape).toEqual([2, 2, 3]);
    expect(y.tolistSync()).toEqual([
      [W[0], W[4]],
      [W[2], W[2]],
    ]);
    expect(emb.forward(idx([3])).tolistSync()).toEqual([W[3]]);
    expect(emb.forward(idx(1)).tolistSync()).toEqual(W[1]); // a 0-d index gives one row
    expect(emb.toString()).toBe('Embedding(5, 3)');
  });

  it('initializes from N(0, 1) deterministically under manualSeed', () => {
    nb.manualSeed(42);
    const a = Array.from(new Embedding(1000, 10).weight.dataSync());
    nb.manualSeed(42);
    const b = Array.from(new Embedding(1000, 10).weight.dataSync());
    expect(a).toEqual(b);
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(sd).toBeGreaterThan(0.95);
    expect(sd).toBeLessThan(1.05);
    expect(new Embedding(2, 2, { dtype: 'float64' }).weight.dtype).toBe('float64');
  });

  it('zeros the padding row, which gets no gradient while repeated indices sum theirs', () => {
    nb.manualSeed(1);
    const emb = new Embedding(5, 3, { paddingIdx: -1 }); // -1 is row 4
    expect(emb.paddingIdx).toBe(4);
    expect(emb.toString()).toBe('Embedding(5, 3, padding_idx=4)');
    const W = rowsOf(emb.weight);
    expect(W[4]).toEqual([0, 0, 0]);
    expect(W.slice(0, 4).every((r) => r.some((v) => v !== 0))).toBe(true);
    const ids = idx([
      [4, 1, 1],
      [4, 0, 1],
    ]);
    const y = emb.forward(ids);
    expect(y.tolistSync()).toEqual([
      [W[4], W[1], W[1]],
      [W[4], W[0], W[1]],
    ]);
    // L = Σ y·c with c = [1, 2, 3] per row: each looked-up row gets c once per occurrence
    nb.sum(nb.mul(y, nb.tensor([1, 2, 3]))).backward();
    expect(rowsOf(emb.weight.grad!)).toEqual([
      [1, 2, 3],
      [3, 6, 9],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('returns a non-zero padding row as stored but still gives it no gradient', () => {
    const emb = new Embedding(3, 2, { paddingIdx: 0 });
    emb.loadStateDict({
      weight: nb.tensor([
        [7, 8],
        [1, 2],
        [3, 4],
      ]),
    });
    const y = emb.forward(idx([0, 2, 0]));
    expect(y.tolistSync()).toEqual([
      [7, 8],
      [3, 4],
      [7, 8],
    ]);
    nb.sum(y).backward();
    expect(rowsOf(emb.weight.grad!)).toEqual([
      [0, 0],
      [0, 0],
      [1, 1],
    ]);
  });

  it('gradcheck of the lookup in float64', () => {
    const w = nb.randn([4, 3], { dtype: 'float64', generator: new nb.Generator(3) });
    const r = nb.gradcheck(
      (weight) =>
        embedding(
          idx([
            [0, 3, 3],
            [1, 0, 2],
          ]),
          weight,
        ),
      [w],
    );
    expect(r.message).toBe('');
    expect(r.ok).toBe(true);
    // with a padding index, the analytic gradient of that row is zero (finite differences would not be)
    const leaf = nb.detach(w).requiresGrad_();
    const [g] = nb.gradOf(nb.sum(embedding(idx([2, 2, 1]), leaf, 2)), [leaf]);
    expect(rowsOf(g!)).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('throws clear errors for bad indices and sizes', () => {
    const emb = new Embedding(5, 3);
    expect(() => emb.forward(idx([0, 5]))).toThrow('Embedding: index 5 is out of range for a table of 5 embeddings (valid indices 0 to 4)');
    expect(() => emb.forward(idx([[1], [-1]]))).toThrow('Embedding: index -1 is out of range for a table of 5 embeddings');
    expect(() => emb.forward(nb.tensor([0, 1]))).toThrow('Embedding: indices must be int32, got float32 of shape [2]');
    expect(() => new Embedding(5, 3, { paddingIdx: 5 })).toThrow('Embedding: paddingIdx 5 must be within the 5 embeddings (from -5 to 4)');
    expect(() => new Embedding(5, 3, { paddingIdx: -6 })).toThrow(/paddingIdx -6 must be within/);
    expect(() => embedding(idx([9]), nb.zeros([4, 2]))).toThrow('embedding: index 9 is out of range for a table of 4 embeddings');
  });

  it('fromPretrained: the given rows, frozen by default, padding row kept as given', () => {
    const vecs = nb.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const frozen = Embedding.fromPretrained(vecs);
    expect(frozen.numEmbeddings).toBe(3);
    expect(frozen.embeddingDim).toBe(2);
    expect(frozen.weight.requiresGrad).toBe(false);
    expect(frozen.numParams(true)).toBe(0);
    const y = frozen.forward(idx([2, 0]));
    expect(y.tolistSync()).toEqual([
      [5, 6],
      [1, 2],
    ]);
    expect(y.requiresGrad).toBe(false);

    const tuned = Embedding.fromPretrained(vecs, { freeze: false, paddingIdx: 1 });
    expect(tuned.weight.requiresGrad).toBe(true);
    expect(rowsOf(tuned.weight)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]); // not zeroed, as PyTorch
    nb.sum(tuned.forward(idx([1, 2, 2]))).backward();
    expect(rowsOf(tuned.weight.grad!)).toEqual([
      [0, 0],
      [0, 0],
      [2, 2],
    ]);
    expect(() => Embedding.fromPretrained(nb.zeros([3]))).toThrow('Embedding.fromPretrained: embeddings must be 2-D [numEmbeddings, embeddingDim], got [3]');
  });
});
