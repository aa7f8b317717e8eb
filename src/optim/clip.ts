// Gradient clipping by global norm and by value (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).

import type { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { scalar } from '../tensor/creation.js';
import { abs, cast, reciprocal, sqrt } from '../ops/unary.js';
import { add, clamp, mul, notEqual, pow } from '../ops/binary.js';
import { max, min, sum } from '../ops/reduce.js';
import { stack } from '../ops/movement.js';
import { isTensor } from '../ops/util.js';

/**
 * The order p of the norm used for clipping: any number (2 by default; 1, 0, ±Infinity allowed), or
 * 'inf' for the max norm.
 */
export type NormType = number | 'inf';

/** The p-norm of all elements of t as a scalar tensor of t's dtype (torch.linalg.vector_norm). */
function vectorNorm(t: Tensor, p: number): Tensor {
  if (t.size === 0) return scalar(0, t.dtype, t.device);
  if (p === 2) return sqrt(sum(mul(t, t)));
  if (p === 1) return sum(abs(t));
  if (p === Infinity) return max(abs(t));
  if (p === -Infinity) return min(abs(t));
  if (p === 0) return cast(sum(notEqual(t, 0)), t.dtype); // number of nonzeros
  return pow(sum(pow(abs(t), p)), 1 / p);
}

function normOrder(where: string, normType: NormType): number {
  const p = normType === 'inf' ? Infinity : normType;
  if (typeof p !== 'number' || Number.isNaN(p)) throw new Error(`${where}: normType must be a number or 'inf', got ${String(normType)}`);
  return p;
}

function gradsOf(params: Tensor | Iterable<Tensor>): Tensor[] {
  const list = isTensor(params) ? [params] : [...params];
  return list.filter((p) => p.grad).map((p) => p.grad!);
}

/** Rounding to the dtype PyTorch computes the clip coefficient in (the norm's). */
const rounder = (dtype: DType) => (dtype === 'float32' ? Math.fround : (x: number) => x);

/**
 * The norm of the per-tensor norms, i.e. the p-norm of all elements together
 * (torch.nn.utils.get_total_norm), read to the host.
 * @example const norm = getTotalNorm(model.parameters().map((p) => p.grad!))
 */
export function getTotalNorm(tensors: Iterable<Tensor>, normType: NormType = 2, errorIfNonfinite = false): number {
  const p = normOrder('getTotalNorm', normType);
  const ts = [...tensors];
  if (ts.length === 0) return 0;
  const dtype: DType = ts.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
  const total = noGrad(() => scope(() => vectorNorm(stack(ts.map((t) => cast(vectorNorm(t, p), dtype))), p).itemSync()));
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `clipGradNorm: the total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped; pass errorIfNonfinite = false to scale them by it anyway`,
    );
  }
  return total;
}

/**
 * Scale gradients by min(1, maxNorm / (totalNorm + 1e-6)) (torch.nn.utils.clip_grads_with_norm_),
 * computing the coefficient as PyTorch does: reciprocal(total + 1e-6)·maxNorm in the grads' dtype.
 */
export function clipGradsWithNorm(params: Tensor | Iterable<Tensor>, maxNorm: number, totalNorm: number): void {
  const grads = gradsOf(params);
  if (grads.length === 0) return;
  const r = rounder(grads.some((g) => g.dtype === 'float64') ? 'float64' : 'float32');
  const coef = Math.min(r(r(1 / r(totalNorm + r(1e-6))) * r(maxNorm)), 1); // NaN stays NaN, as torch.clamp
  if (coef === 1) return; // multiplying by 1 changes nothing
  noGrad(() => {
    for (const g of grads) scope(() => g.assignStorage(mul(g, coef)));
  });
}

/**
 * Rescale all gradients together so their global p-norm is at most maxNorm
 * (torch.nn.utils.clip_grad_norm_); returns the norm before clipping. A gradient-free parameter
 * list returns 0. With errorIfNonfinite, a NaN or infinite norm throws instead of scaling.
 * @example const norm = clipGradNorm(model.parameters(), 1.0)
 */
export function clipGradNorm(params: Tensor | Iterable<Tensor>, maxNorm: number, normType: NormType = 2, errorIfNonfinite = false): number {
  const list = isTensor(params) ? [params] : [...params];
  const grads = gradsOf(list);
  if (grads.length === 0) return 0;
  if (grads.some((g) => !g.storage.backend.readSync)) {
    throw new Error(
      `clipGradNorm: gradients on '${grads.find((g) => !g.storage.backend.readSync)!.device}' cannot be read synchronously; use clipGradNormOnDevice (or clipGrads, which picks)`,
    );
  }
  const total = getTotalNorm(grads, normType, errorIfNonfinite);
  clipGradsWithNorm(list, maxNorm, total);
  return total;
}

/**
 * clipGradNorm without reading the norm to the host (a GPU stays busy): the coefficient
 * min(1, maxNorm / (total + 1e-6)) is a 0-d tensor that every gradient is multiplied by, as
 * PyTorch's foreach path does. Returns the total norm as a 0-d tensor (the caller owns it).
 */
export function clipGradNormOnDevice(params: Tensor | Iterable<Tensor>, maxNorm: number, normType: NormType = 2): Tensor | null {
  const list = isTensor(params) ? [params] : [...params];
  const grads = gradsOf(list);
  if (grads.length === 0) return null;
  const p = normOrder('clipGradNormOnDevice', normType);
  return noGrad(() =>
    scope(() => {
      const total = vectorNorm(stack(grads.map((g) => vectorNorm(g, p))), p);
      const coef = clamp(mul(reciprocal(add(total, 1e-6)), maxNorm), null, 1);
      for (const g of grads) scope(() => g.assignStorage(mul(g, cast(coef, g.dtype))));
      return total;
    }),
  );
}

/** clipGradNorm where gradients read synchronously, else clipGradNormOnDevice (the training loops). */
export function clipGrads(params: Tensor | Iterable<Tensor>, maxNorm: number): void {
  const list = isTensor(params) ? [params] : [...params];
  if (list.every((t) => t.storage.backend.readSync)) clipGradNorm(list, maxNorm);
  else clipGradNormOnDevice(list, maxNorm)?.dispose();
}

/**
 * Clamp every gradient element to [−clipValue, clipValue] (torch.nn.utils.clip_grad_value_).
 * @example clipGradValue(model.parameters(), 0.5)
 */
export function clipGradValue(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  const grads = gradsOf(params);
  noGrad(() => {
    for (const g of grads) scope(() => g.assignStorage(clamp(g, -clipValue, clipValue)));
  });
}
