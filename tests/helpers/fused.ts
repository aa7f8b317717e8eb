// Shared by the fused-kernel suites (wasm-fused, webgpu-fused): switching an op between its fused
// and composed paths, and comparing results.
import { expect } from 'vitest';

export type Flags = { composedOnly: boolean; composedBackward: boolean };
export type Mode = 'fused' | 'fused forward, composed backward' | 'composed';

/** Runs f with the op's flags set for `mode`, restoring them after. */
export function withMode<T>(flags: Flags, mode: Mode, f: () => T): T {
  flags.composedOnly = mode === 'composed';
  flags.composedBackward = mode === 'fused forward, composed backward';
  try {
    return f();
  } finally {
    flags.composedOnly = false;
    flags.composedBackward = false;
  }
}

/** |a − b| ≤ rtol·max(scale, |a|, |b|) with scale the largest |b| (so tiny gradients compare absolutely). */
export function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string, rtol = 1e-4): void {
  expect(a.length, what).toBe(b.length);
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!(Math.abs(x - y) <= rtol * Math.max(scale, Math.abs(x), Math.abs(y)))) expect.fail(`${what}: element ${i}: ${x} vs ${y}`);
  }
}
