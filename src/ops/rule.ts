// The shape-and-gradient rule type that every op family fills in for its primitives.

import type { Prim, PrimParams } from '../backends/backend.js';
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Rule<P extends Prim> {
  /** Output shape and dtype (inputs were already validated and made compatible by the op). */
  shape(inputs: Tensor[], params: PrimParams[P]): { shape: number[]; dtype: DType };
  /**
   * Vector-Jacobian product; absent for primitives with no gradient (comparisons, argmax, random).
   * `needs[i]` says whether input i requires grad, so costly rules (matmul) can skip the others.
   */
  vjp?: (g: Tensor, inputs: Tensor[], out: Tensor, params: PrimParams[P], needs: boolean[]) => (Tensor | null)[];
}

export type Rules<K extends Prim> = { [P in K]: Rule<P> };
