// Shared by the fused-kernel suites (wasm-fused, webgpu-fused): switching an op between its fused
// and composed paths, comparing results, and the GPT training step both run.
import { expect } from 'vitest';
import * as nb from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { GPT_PRESETS } from '../../src/models/gpt-config.js';

/** How the fused ops run (nb.setFusedMode): every kernel fused, fused forward only, or none. */
export type Mode = nb.FusedMode;

/** Runs f with every fused op in `mode`, restoring the mode after. */
export function withMode<T>(mode: Mode, f: () => T): T {
  const before = nb.setFusedMode(mode);
  try {
    return f();
  } finally {
    nb.setFusedMode(before);
  }
}

/** The calls f makes per primitive and per fused op, by name (the profiler's table). */
export function profiled(f: () => unknown): Record<string, number> {
  const p = nb.startProfiling();
  try {
    nb.scope(() => {
      f();
    });
  } finally {
    nb.stopProfiling();
  }
  return Object.fromEntries([...p].map(([name, s]) => [name, s.calls]));
}

/** |a − b| ≤ rtol·max(scale, |a|, |b|) with scale the largest |b| (so tiny gradients compare absolutely). */
export function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string, rtol = 1e-4): void {
  expect(a.length, what).toBe(b.length);
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!(Math.abs(x - y) <= rtol * Math.max(scale, Math.abs(x), Math.abs(y)))) expect.fail(`${what}: element ${i}: ${x} vs ${y}`);
  }
}

/**
 * One GPT training step on `device` with every fused op fused, against the composed step: the
 * loss and every parameter's gradient agree, and a repeated fused step leaves `liveBuffers()` where
 * it was (`settle` first lets collected tensors go, for backends that free them asynchronously).
 * Reads are the asynchronous ones, which every backend has.
 */
export async function checkGptStepFusedVsComposed(device: string, liveBuffers: () => number, settle: () => Promise<void> = async () => {}): Promise<void> {
  nb.manualSeed(3);
  const model = new GPT({ ...GPT_PRESETS.tiny, vocabSize: 50, nPositions: 32, nEmbd: 32, nLayer: 1, nHead: 2 }).to(device);
  const idx = nb.tensor(
    Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 31) % 50),
    { device, shape: [2, 16] },
  );
  const tgt = nb.tensor(
    Int32Array.from({ length: 2 * 16 }, (_, i) => (i % 7 === 3 ? -100 : (i * 17) % 50)),
    { device, shape: [2, 16] },
  );
  const step = async (composed: boolean) => {
    const before = nb.setFusedMode(composed ? 'composed' : 'fused');
    try {
      const loss = nb.scope(() => {
        model.zeroGrad();
        const { loss } = model.forward(idx, tgt) as { loss: nb.Tensor };
        loss.backward();
        return loss.detach();
      });
      const grads = await Promise.all(model.parameters().map((p) => p.grad!.data()));
      const value = await loss.item();
      loss.dispose();
      return { loss: value, grads };
    } finally {
      nb.setFusedMode(before);
    }
  };
  const ref = await step(true);
  await step(false);
  await settle();
  const live = liveBuffers();
  const got = await step(false);
  await settle();
  expect(liveBuffers()).toBe(live);
  expect(got.loss).toBeCloseTo(ref.loss, 4);
  got.grads.forEach((g, i) => near(g, ref.grads[i], `gradient of parameter ${i}`, 2e-4));
}

/**
 * The fused layer norm, cross-entropy and attention on `device` free what they save for the
 * backward: at once without grad, with the graph when the output goes without a backward, and after
 * the backward otherwise (`liveBuffers()` back where it was each time).
 */
export async function checkFusedOpsFreeSaved(device: string, liveBuffers: () => number, settle: () => Promise<void> = async () => {}): Promise<void> {
  const gen = new nb.Generator(11);
  const randn = (shape: number[]) => nb.randn(shape, { device, generator: gen });
  const x = randn([5, 12]),
    w = randn([12]),
    t = nb.tensor([1, -100, 3, 0, 11], { device, dtype: 'int32' }),
    q = randn([2, 6, 8]);
  const ops: [string, (a: nb.Tensor) => nb.Tensor][] = [
    ['layerNorm', (a) => nb.nn.functional.layerNorm(a, [12], w)],
    ['crossEntropy', (a) => nb.nn.functional.crossEntropy(a, t, { reduction: 'none' })],
    ['attention', (a) => nb.nn.scaledDotProductAttention(a, q, q, { isCausal: true })],
  ];
  for (const [name, op] of ops) {
    const input = name === 'attention' ? q : x;
    await settle();
    const live = liveBuffers();
    nb.noGrad(() => op(input)).dispose();
    expect(liveBuffers(), `${name} without grad`).toBe(live);
    nb.scope(() => {
      op(input.detach().requiresGrad_());
    }); // the output goes without a backward
    expect(liveBuffers(), `${name} without backward`).toBe(live);
    const leaf = input.detach().requiresGrad_();
    nb.scope(() => {
      nb.sum(op(leaf)).backward();
    });
    await leaf.grad!.data();
    leaf.grad!.dispose();
    await settle();
    expect(liveBuffers(), `${name} after backward`).toBe(live);
  }
}
