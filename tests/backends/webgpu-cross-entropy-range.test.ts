// crossEntropy with a class index out of range on webgpu: the fused kernel reports it in the runtime's
// status words and the next read throws the js backend's error (it returned NaN silently), once;
// the composed path's gather does the same. Runs in the vitest project `webgpu`.
import { describe, it, expect } from 'vitest';
import * as nb from '../../src/index.js';
import { webgpuUnavailable } from '../helpers/webgpu.js';

const unavailable = await webgpuUnavailable();
const F = nb.nn.functional;

describe.skipIf(!!unavailable)(`webgpu crossEntropy with a class out of range${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  for (const path of ['fused', 'composed'] as const) {
    it(`throws the js backend's error at the next read (${path} path)`, async () => {
      const before = nb.setFusedMode(path);
      try {
        const x = nb.randn([3, 10], { generator: new nb.Generator(1) });
        const on = (targets: number[], ignoreIndex?: number) => ({
          cpu: () => F.crossEntropy(x.to('js'), nb.tensor(targets, { dtype: 'int32', device: 'js' }), { ignoreIndex }).dataSync(),
          gpu: () => F.crossEntropy(x.to('webgpu'), nb.tensor(targets, { dtype: 'int32', device: 'webgpu' }), { ignoreIndex, reduction: 'none' }),
        });
        for (const [targets, c] of [
          [[1, 10, 2], 10],
          [[1, -5, 2], -5],
          [[3, 1, 12], 12],
        ] as const) {
          const message = `gather: index ${c} is out of range for dimension 1 of size 10`;
          const { cpu, gpu } = on([...targets], targets[0] === 3 ? 3 : undefined);
          expect(cpu).toThrow(message);
          const l = gpu();
          await expect(l.data()).rejects.toThrow(`${message} (found on the GPU, reported at read)`);
          // Reported once: the loss reads again, NaN on the row out of range.
          expect(Array.from(await l.data()).map(Number.isNaN)).toEqual(targets.map((t) => t !== 3 && (t < 0 || t >= 10)));
        }
        // In range, and an ignored -100: no report.
        const ok = on([-100, 1, 9]).gpu();
        expect(Array.from(await ok.data()).some(Number.isNaN)).toBe(false);
      } finally {
        nb.setFusedMode(before);
      }
    });
  }
});
