// crossEntropy with a class index out of range (too large, or negative and not the ignore index)
// throws the js backend's error on the backend under test, fused kernel or composed path (wasm's
// fused kernel returned NaN): the first such row, ignored rows skipped, strided targets too.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';

const F = nb.nn.functional;
const here = nb.getBackend().name;

/** The error crossEntropy of fixed logits [3, 10] against `targets` throws on `device`, or '' when none. */
function errorOf(device: string, targets: number[], opts: { ignoreIndex?: number; strided?: boolean } = {}): string {
  try {
    nb.scope(() => {
      const x = nb.randn([3, 10], { generator: new nb.Generator(1), device });
      // Strided: the targets as the second column of a [3, 2] tensor.
      const t = opts.strided
        ? nb
            .tensor(
              targets.flatMap((c) => [0, c]),
              { dtype: 'int32', shape: [3, 2], device },
            )
            .select(1, 1)
        : nb.tensor(targets, { dtype: 'int32', device });
      F.crossEntropy(x, t, { ignoreIndex: opts.ignoreIndex }).dataSync();
    });
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe(`crossEntropy with a class out of range on ${here}`, () => {
  for (const path of ['fused', 'composed'] as const) {
    it(`throws the js backend's error (${path} path)`, () => {
      const before = nb.setFusedMode(path);
      try {
        const live = nb.getBackend().liveBuffers();
        const cases: [number[], string, { ignoreIndex?: number; strided?: boolean }?][] = [
          [[1, 10, 2], 'gather: index 10 is out of range for dimension 1 of size 10'],
          [[1, -5, 2], 'gather: index -5 is out of range for dimension 1 of size 10'],
          [[-100, 12, -1], 'gather: index 12 is out of range for dimension 1 of size 10'],
          [[3, 1, 10], 'gather: index 10 is out of range for dimension 1 of size 10', { ignoreIndex: 3 }],
          [[1, 99, 2], 'gather: index 99 is out of range for dimension 1 of size 10', { strided: true }],
          [[-100, 1, 9], ''],
          [[10, 1, 10], '', { ignoreIndex: 10 }],
          [[0, 9, 4], '', { strided: true }],
        ];
        for (const [targets, message, opts] of cases) {
          expect(errorOf(here, targets, opts), `${JSON.stringify(targets)} ${JSON.stringify(opts ?? {})}`).toBe(message);
          expect(errorOf('js', targets, opts)).toBe(message);
        }
        expect(nb.getBackend().liveBuffers()).toBe(live);
      } finally {
        nb.setFusedMode(before);
      }
    });
  }
});
