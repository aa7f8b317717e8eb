// Keras loss names resolved to the same nn.functional losses PyTorch users call. When the model ends
// in softmax/sigmoid and the loss is a cross-entropy, the loss is computed from the logits (Keras
// does the same), which is exact and numerically stable.

import type { Tensor } from '../tensor/tensor.js';
import * as F from '../nn/functional.js';
import { cast, log, neg } from '../ops/unary.js';
import { clamp, div, mul } from '../ops/binary.js';
import { mean, sum } from '../ops/reduce.js';
import { reshape, squeeze } from '../ops/movement.js';
import { gather } from '../ops/indexing.js';
import { fmtShape } from '../tensor/shape.js';

/**
 * A custom loss (yTrue, yPred) → a scalar, or one value per sample (which fit averages, or weighs
 * with sample and class weights).
 */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

export type LossName = 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'binary_crossentropy' | 'mean_squared_error' | 'mean_absolute_error' | 'huber';

const ALIASES: Record<string, LossName> = {
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  sparseCategoricalCrossentropy: 'sparse_categorical_crossentropy',
  categorical_crossentropy: 'categorical_crossentropy',
  categoricalCrossentropy: 'categorical_crossentropy',
  binary_crossentropy: 'binary_crossentropy',
  binaryCrossentropy: 'binary_crossentropy',
  mse: 'mean_squared_error',
  mean_squared_error: 'mean_squared_error',
  meanSquaredError: 'mean_squared_error',
  mae: 'mean_absolute_error',
  mean_absolute_error: 'mean_absolute_error',
  meanAbsoluteError: 'mean_absolute_error',
  huber: 'huber',
};

/**
 * The canonical Keras loss name for a name or alias ('mse', 'categoricalCrossentropy', ...); throws
 * for an unknown one.
 */
export function resolveLossName(name: string): LossName {
  const n = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  if (!n) throw new Error(`compile: unknown loss '${name}', expected one of ${Object.keys(ALIASES).join(', ')} or a function`);
  return n;
}

const EPS = 1e-7; // Keras' backend epsilon: probabilities are clipped to [ε, 1-ε]

function sparseLabels(yTrue: Tensor, yPred: Tensor): Tensor {
  let y = yTrue;
  if (y.ndim === yPred.ndim && y.shape[y.ndim - 1] === 1) y = squeeze(y, -1);
  if (y.ndim !== yPred.ndim - 1) {
    throw new Error(`sparse_categorical_crossentropy: labels ${fmtShape(yTrue.shape)} do not fit predictions ${fmtShape(yPred.shape)}`);
  }
  return y.dtype === 'int32' ? y : cast(y, 'int32');
}

/**
 * The training loss as fn(output, y). `fromLogits` says the output is pre-activation (the final
 * softmax/sigmoid was split off by the model).
 */
export function lossFunction(name: LossName, fromLogits: boolean): (output: Tensor, y: Tensor) => Tensor {
  switch (name) {
    case 'sparse_categorical_crossentropy':
      return (out, y) => {
        const t = sparseLabels(y, out);
        if (fromLogits) return F.crossEntropy(out.ndim > 2 ? movedClass(out) : out, out.ndim > 2 ? t : t);
        // Probabilities: renormalize, clip, take -log p[y] (Keras' from_logits=False path).
        const p = clamp(div(out, sum(out, -1, true)), EPS, 1 - EPS);
        return neg(mean(squeeze(gather(log(p), -1, reshape(t, [...t.shape, 1])), -1)));
      };
    case 'categorical_crossentropy':
      return (out, y) => {
        const yf = cast(y, out.dtype);
        if (fromLogits) return F.crossEntropy(out, yf);
        const p = clamp(div(out, sum(out, -1, true)), EPS, 1 - EPS);
        return neg(mean(sum(mul(yf, log(p)), -1)));
      };
    case 'binary_crossentropy':
      return (out, y) => {
        const yf = cast(y.shape.length === out.shape.length ? y : reshape(y, out.shape), out.dtype);
        if (fromLogits) return F.binaryCrossEntropyWithLogits(out, yf);
        return F.binaryCrossEntropy(clamp(out, EPS, 1 - EPS), yf);
      };
    case 'mean_squared_error':
      return (out, y) => F.mseLoss(out, cast(y.shape.length === out.shape.length ? y : reshape(y, out.shape), out.dtype));
    case 'mean_absolute_error':
      return (out, y) => F.l1Loss(out, cast(y.shape.length === out.shape.length ? y : reshape(y, out.shape), out.dtype));
    case 'huber':
      return (out, y) => F.smoothL1Loss(out, cast(y.shape.length === out.shape.length ? y : reshape(y, out.shape), out.dtype));
  }
}

/** [N, ..., C] logits (Keras puts classes last) -> [N, C, ...] for crossEntropy. */
function movedClass(out: Tensor): Tensor {
  const perm = [0, out.ndim - 1, ...Array.from({ length: out.ndim - 2 }, (_, i) => i + 1)];
  return out.permute(perm);
}
