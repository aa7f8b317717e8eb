// The rule types: a primitive's shape-and-gradient rule, which every op family fills in for its
// primitives, and a fused op's rule (composed definition, backend kernel, backward).

import type { Backend, FusedKernels, Prim, PrimParams } from '../backends/backend.js';
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

/** How dispatch runs primitive P: the output's shape and dtype, and the gradient rule. */
export interface Rule<P extends Prim> {
  /** Output shape and dtype (inputs were already validated and made compatible by the op). */
  shape(inputs: Tensor[], params: PrimParams[P]): { shape: number[]; dtype: DType };
  /**
   * Vector-Jacobian product, required: `'none'` marks a primitive with no gradient (comparisons,
   * argmax, floor, random), so a forgotten rule does not compile. `needs[i]` says whether input i
   * requires grad, so costly rules (matmul) can skip the others.
   */
  vjp: ((g: Tensor, inputs: Tensor[], out: Tensor, params: PrimParams[P], needs: boolean[]) => (Tensor | null)[]) | 'none';
}

/** The rules of an op family's primitives, keyed by primitive name. */
export type Rules<K extends Prim> = { [P in K]: Rule<P> };

/**
 * A fused op: a composite that a backend may run as one kernel (softmax, GELU, layer norm,
 * cross-entropy, attention, the Adam step). `dispatchFused` runs `forward` where the backend has
 * `kernel` and the fused mode allows it, else `composed`; it profiles and records the fused run
 * under `name`, like a primitive.
 */
export interface FusedRule<I extends Tensor[], P, O extends Tensor | Tensor[] = Tensor> {
  /** What the profiler and the tape call it. */
  readonly name: string;
  /** The backend's fused kernel it takes (an entry of FusedKernels); where absent, `composed` runs. */
  readonly kernel: keyof FusedKernels;
  /** The definition in differentiable ops: what runs wherever the kernel does not, and the tests' reference. */
  composed(inputs: I, params: P): O;
  /**
   * Run the kernel (called with recording off): the output and the tensors the backward needs, or
   * null where the kernel declines the case (with nothing left allocated).
   */
  forward(fused: FusedKernels, backend: Backend, inputs: I, params: P): { out: O; saved: Tensor[] } | null;
  /**
   * The inputs' gradients from the output's gradient `g` and what forward saved. `fused` is the
   * backend's fused kernels where a fused backward may run (nothing records this backward, and the
   * fused mode allows it), else null: compose it, in differentiable ops, so that a second
   * derivative works. `'none'` for an op without gradients (an optimizer step).
   */
  readonly vjp: ((g: Tensor, inputs: I, out: O, saved: Tensor[], params: P, fused: FusedKernels | null) => (Tensor | null)[]) | 'none';
}
