// Layer norm over the trailing dims as a fused op: the composed definition, the backend's kernel
// over rows [R, n] read in place (any row stride), and its backward from the saved row statistics.

import { allocTensor, type Tensor } from '../tensor/tensor.js';
import type { View } from '../backends/backend.js';
import { dispatchFused } from './dispatch.js';
import { add, mul, sub } from './binary.js';
import { reciprocal, sqrt } from './unary.js';
import { mean, sum } from './reduce.js';
import { contiguous, reshape } from './movement.js';
import { isGradEnabled } from './tape.js';
import type { FusedRule } from './rule.js';

/** 1/√(v + eps). */
export const invStd = (v: Tensor, eps: number): Tensor => reciprocal(sqrt(add(v, eps)));

/**
 * (x − mean) / √(var + eps) · weight + bias over the last `k` dims of x (biased variance), with
 * weight and bias (optional) of x's last k dims' shape. The caller (nn.functional.layerNorm) has
 * checked the shapes. A fused op: one kernel pass where the backend has one.
 */
export function layerNormLastDims(x: Tensor, k: number, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const inputs = [x, ...[weight, bias].filter((t): t is Tensor => t !== null)];
  return dispatchFused(layerNormRule, inputs, { k, eps, weight: weight !== null, bias: bias !== null });
}

interface LayerNormParams {
  k: number;
  eps: number;
  weight: boolean;
  bias: boolean;
}

/** Inputs [x, weight?, bias?] by name. */
function unpack(inputs: Tensor[], p: LayerNormParams): { x: Tensor; w: Tensor | null; b: Tensor | null } {
  return { x: inputs[0], w: p.weight ? inputs[1] : null, b: p.bias ? inputs[p.weight ? 2 : 1] : null };
}

/**
 * The stride that walks dims [from, to) of a view as one dim of their total size, or null when
 * they do not merge (size-1 dims are skipped; all of size 1 walk with stride 1).
 */
function mergedStride(v: View, from: number, to: number): number | null {
  let stride: number | null = null,
    span = 1;
  for (let d = to - 1; d >= from; d--) {
    if (v.shape[d] === 1) continue;
    if (stride === null) stride = v.strides[d];
    else if (v.strides[d] !== stride * span) return null;
    span *= v.shape[d];
  }
  return stride ?? 1;
}

/** A view of x as [R, n] over the same storage (no Tensor made), or null when its dims do not merge so. */
function rowsView(x: View, k: number, R: number, n: number): View | null {
  const lead = mergedStride(x, 0, x.shape.length - k),
    row = mergedStride(x, x.shape.length - k, x.shape.length);
  if (lead === null || row === null) return null;
  return { storage: x.storage, dtype: x.dtype, offset: x.offset, shape: [R, n], strides: [lead, row] };
}

/** The kernels' views: x as rows [R, n] and weight and bias as vectors [n] (null: absent, or not mergeable). */
function kernelViews(src: Tensor, w: Tensor | null, b: Tensor | null, k: number, R: number, n: number) {
  const vec = (t: Tensor | null): View | null | undefined => {
    if (!t) return null;
    const v = rowsView(t, k, 1, n);
    return v ? { ...v, shape: [n], strides: [v.strides[1]] } : undefined;
  };
  return { xv: rowsView(src, k, R, n)!, wv: vec(w), bv: vec(b) };
}

/**
 * The backend's fused layer norm over the rows [R, n] of x. It saves each row's mean and rstd
 * for the backward: the backend's fused backward when the backward is not itself recorded, else
 * the composed one with the statistics recomputed, so that the VJP stays differentiable:
 * x̂ = (x − μ)·rstd, gw = g·w: dx = rstd·(gw − mean(gw) − x̂·mean(gw·x̂)), dw = Σ g·x̂, db = Σ g.
 */
const layerNormRule: FusedRule<Tensor[], LayerNormParams> = {
  name: 'layerNorm',
  kernel: 'layerNorm',
  composed: (inputs, p) => {
    const { x, w, b } = unpack(inputs, p);
    const axes = Array.from({ length: p.k }, (_, i) => x.ndim - p.k + i);
    const d = sub(x, mean(x, axes, true));
    let y = mul(d, invStd(mean(mul(d, d), axes, true), p.eps));
    if (w) y = mul(y, w);
    if (b) y = add(y, b);
    return y;
  },
  forward: (fused, backend, inputs, p) => {
    const { x, w, b } = unpack(inputs, p);
    if ([w, b].some((t) => t && t.dtype !== x.dtype)) return null;
    const n = x.shape.slice(x.ndim - p.k).reduce((a, c) => a * c, 1);
    if (n === 0 || x.size === 0) return null;
    const R = x.size / n;
    // Plain views for the kernel (no tensors to free); a copy only when x's dims do not merge.
    const src = rowsView(x, p.k, R, n) ? x : contiguous(x);
    const { xv, wv, bv } = kernelViews(src, w, b, p.k, R, n);
    const out = allocTensor(backend, x.shape, x.dtype);
    const mu = allocTensor(backend, [R], x.dtype),
      rstd = allocTensor(backend, [R], x.dtype);
    if (wv === undefined || bv === undefined || !fused.layerNorm!(xv, wv, bv, p.eps, out.storage, mu.storage, rstd.storage)) {
      for (const t of [out, mu, rstd]) t.dispose();
      if (src !== x) src.dispose();
      return null;
    }
    return { out, saved: src === x ? [mu, rstd] : [mu, rstd, src] };
  },
  vjp: (gOut, inputs, _out, [mu, rstd, copy], p, fused) => {
    const { x, w, b } = unpack(inputs, p);
    const src = copy ?? x,
      k = p.k,
      R = mu.shape[0],
      n = x.size / R;
    const shaped = (dx: Tensor, dw: Tensor | null, db: Tensor | null) => [reshape(dx, x.shape), ...(w ? [dw && reshape(dw, w.shape)] : []), ...(b ? [db && reshape(db, b.shape)] : [])];
    if (fused?.layerNormBackward) {
      const backend = x.storage.backend,
        { xv, wv } = kernelViews(src, w, b, k, R, n);
      const dx = allocTensor(backend, [R, n], x.dtype);
      const dw = w?.requiresGrad ? allocTensor(backend, [n], x.dtype) : null;
      const db = b?.requiresGrad ? allocTensor(backend, [n], x.dtype) : null;
      const g = rowsView(gOut, k, R, n) ?? rowsView(contiguous(gOut), k, R, n)!;
      if (fused.layerNormBackward(g, xv, wv ?? null, mu, rstd, dx.storage, dw?.storage ?? null, db?.storage ?? null)) return shaped(dx, dw, db);
      for (const t of [dx, dw, db]) t?.dispose();
    }
    // Composed: the saved statistics when nothing records, else recomputed (differentiable in x).
    const recording = isGradEnabled();
    const x2 = reshape(recording ? x : src, [R, n]),
      g = reshape(gOut, [R, n]);
    let m: Tensor, rs: Tensor;
    if (recording) {
      m = mean(x2, -1, true);
      const d = sub(x2, m);
      rs = invStd(mean(mul(d, d), -1, true), p.eps);
    } else {
      m = reshape(mu, [R, 1]);
      rs = reshape(rstd, [R, 1]);
    }
    const xhat = mul(sub(x2, m), rs);
    const gw = w ? mul(g, reshape(w, [n])) : g;
    const dx = mul(rs, sub(sub(gw, mean(gw, -1, true)), mul(xhat, mean(mul(gw, xhat), -1, true))));
    return shaped(dx, w ? sum(mul(g, xhat), 0) : null, b ? sum(g, 0) : null);
  },
};
