// The fused Adam/AdamW step on webgpu: one dispatch per parameter, one thread per element, reading
// p, g, m, v once and writing the new p, m, v (about eleven elementwise dispatches on the composed
// path, each a full pass over memory; the step is memory-bound, so this is ~4× less traffic).
//
// The composed rule in src/optim/adam.ts is the specification: the same float32 operations in the
// same order, with the same float32 constants. Those constants are rounded from float64 on the
// host exactly as the composed path rounds its scalar operands (fround(1 − β₁), not 1 − fround(β₁)),
// so on a driver that neither contracts a·b + c into an FMA nor approximates sqrt/division
// differently per pipeline, fused and composed agree bit for bit.

import type { AdamStepArgs, FusedKernels, Storage, View } from '../backend.js';
import { addressing, buf } from './layout.js';
import { MAIN_1D, PRELUDE, WG, f32bits, type GpuRuntime } from './runtime.js';

/** Meta words before the addressing block (see `adamMeta`). */
const HYPER = 7;

/**
 * The hyperparameter words, each the float32 the composed path multiplies or adds by:
 *   0  the lerp weight: w = 1 − β₁ (when |w| < 0.5) or 1 − w (otherwise), as optimizer.ts's lerp
 *   1  β₂    2  1 − β₂    3  √(1 − β₂ᵗ)    4  ε    5  −stepSize
 *   6  wd (mode 1) or 1 − lr·wd (mode 2); unused in mode 0
 */
function adamMeta(h: AdamStepArgs, lerpFromA: boolean): number[] {
  const w = 1 - h.beta1;
  return [
    f32bits(lerpFromA ? w : 1 - w),
    f32bits(h.beta2),
    f32bits(1 - h.beta2),
    f32bits(h.bc2Sqrt),
    f32bits(h.eps),
    f32bits(-h.stepSize),
    f32bits(h.mode === 2 ? h.decoupledScale : h.weightDecay),
  ];
}

/**
 * WGSL of the step. `mode` and the lerp branch are compile-time (uniform over the dispatch, so
 * baking them in costs at most six pipelines per operand layout and leaves no branch in the loop).
 * Every line is one composed op: param = mul(p, s) | g = add(g, mul(p, wd)); m = lerp(m, g, w);
 * v = add(mul(v, β₂), mul(mul(g, 1−β₂), g)); denom = add(div(sqrt(v), bc2), ε);
 * p = add(param, div(mul(m, −stepSize), denom)).
 */
function adamWgsl(mode: 0 | 1 | 2, lerpFromA: boolean, addr: string): string {
  return `${PRELUDE}
@group(0) @binding(1) var<storage, read> ps: array<f32>;
@group(0) @binding(2) var<storage, read> gs: array<f32>;
@group(0) @binding(3) var<storage, read> ms: array<f32>;
@group(0) @binding(4) var<storage, read> vs: array<f32>;
@group(0) @binding(5) var<storage, read_write> pOut: array<f32>;
@group(0) @binding(6) var<storage, read_write> mOut: array<f32>;
@group(0) @binding(7) var<storage, read_write> vOut: array<f32>;
${MAIN_1D}
  if (i >= prm[${HYPER}u]) { return; }
  ${addr}
  var p = ps[o0];
  var g = gs[o1];
  let m = ms[o2];
  let v = vs[o3];
  ${mode === 2 ? `p = p * mf(6u);` : mode === 1 ? `g = g + p * mf(6u);` : ''}
  let d = g - m;
  let mn = ${lerpFromA ? 'm + d * mf(0u)' : 'g - d * mf(0u)'};
  let vn = v * mf(1u) + (g * mf(2u)) * g;
  let denom = sqrt(vn) / mf(3u) + mf(4u);
  pOut[i] = p + (mn * mf(5u)) / denom;
  mOut[i] = mn;
  vOut[i] = vn;
}`;
}

export const fusedAdam =
  (rt: GpuRuntime): NonNullable<FusedKernels['adam']> =>
  (p: View, g: View, m: View, v: View, pOut: Storage, mOut: Storage, vOut: Storage, h: AdamStepArgs): boolean => {
    const views = [p, g, m, v];
    if (!views.every((x) => x.dtype === 'float32') || ![pOut, mOut, vOut].every((s) => s.dtype === 'float32')) return false;
    // Strided and broadcast operands (a gradient that is an expanded scalar, a transposed view) are
    // addressed in the kernel like any elementwise input; the outputs are contiguous in p's shape.
    const a = addressing(p.shape, views, HYPER);
    if (a.meta[0] === 0) return true;
    const lerpFromA = Math.abs(1 - h.beta1) < 0.5;
    const key = `adam:${h.mode}${lerpFromA ? 'a' : 'b'}:${a.key}`;
    const pipeline = rt.pipeline(key, () => adamWgsl(h.mode, lerpFromA, a.wgsl));
    rt.dispatch(pipeline, [...views.map((x) => buf(x.storage)), buf(pOut), buf(mOut), buf(vOut)], [...adamMeta(h, lerpFromA), ...a.meta], Math.ceil(a.meta[0] / WG));
    return true;
  };
