// copy_: in-place writes into views (ops/inplace.ts): values against plain arrays, broadcasting,
// views of the same storage, the storage shared with other views, and what it refuses.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { copy_ } from '../../src/ops/inplace.js';

const vals = (t: nb.Tensor): number[] => Array.from(t.dataSync());

describe('copy_', () => {
  it('writes into a strided view; every view of the storage sees it', () => {
    const buf = nb.zeros([3, 4]);
    const col = buf.slice(1, 1, 3); // (3, 2), row stride 4
    const alias = buf.reshape([12]);
    expect(
      copy_(
        col,
        nb.tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
      ),
    ).toBe(col);
    expect(vals(buf)).toEqual([0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0]);
    expect(vals(alias)).toEqual(vals(buf));
    copy_(buf.select(0, 2), nb.tensor([7])); // broadcast
    expect(vals(buf).slice(8)).toEqual([7, 7, 7, 7]);
    copy_(
      buf.t().slice(0, 0, 2),
      nb.tensor([
        [9, 9, 9],
        [8, 8, 8],
      ]),
    ); // through a transpose
    expect(vals(buf)).toEqual([9, 8, 2, 0, 9, 8, 4, 0, 9, 8, 7, 7]);
  });

  it('reads a source that overlaps the destination as it was before the write', () => {
    const x = nb.tensor([1, 2, 3, 4, 5]);
    copy_(x.slice(0, 1, 5), x.slice(0, 0, 4));
    expect(vals(x)).toEqual([1, 1, 2, 3, 4]);
    const ids = nb.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int32' },
    );
    copy_(ids.select(1, 0), ids.select(1, 1));
    expect(vals(ids)).toEqual([2, 2, 4, 4]);
  });

  it('leaves no buffer behind', () => {
    const buf = nb.zeros([8, 8]);
    const src = nb.ones([2, 8]);
    const before = nb.getBackend().liveBuffers();
    for (let i = 0; i < 5; i++) copy_(buf.slice(0, i, i + 2), i % 2 ? src : src.slice(0, 0, 1));
    expect(nb.getBackend().liveBuffers()).toBe(before);
  });

  it('refuses a dtype, shape, repeated destination or gradient it cannot write', () => {
    const buf = nb.zeros([2, 3]);
    expect(() => copy_(buf, nb.zeros([2, 3], { dtype: 'int32' }))).toThrow(/source dtype int32 differs from the destination's float32/);
    expect(() => copy_(buf, nb.zeros([3, 2]))).toThrow(/copy_: shapes cannot be broadcast together|does not broadcast to the destination/);
    expect(() => copy_(buf, nb.zeros([2, 2, 3]))).toThrow(/does not broadcast to the destination \[2,3\]/);
    expect(() => copy_(nb.zeros([1, 3]).expand([2, 3]), buf)).toThrow(/repeats elements \(an expanded view\)/);
    const w = nb.zeros([2, 3], { requiresGrad: true });
    expect(() => copy_(w, buf)).toThrow(/not recorded for autograd; run it under noGrad\(\)/);
    nb.noGrad(() => copy_(w, nb.ones([3])));
    expect(vals(w)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});
