// The convolution family: unfold (im2col) and fold (col2im), each the other's adjoint. Convolution,
// pooling and their gradients are composed from these and matmul (src/nn/functional.ts).

import type { Tensor } from '../tensor/tensor.js';
import type { PrimParams } from '../backends/backend.js';
import { dispatch } from './dispatch.js';
import { fmtShape } from '../tensor/shape.js';
import type { Rules } from './rule.js';

export type WindowParams = Omit<PrimParams['unfold'], 'value'>;

/** Output height and width of windows over an [N, C, H, W] input. */
export function windowOutput(H: number, W: number, p: WindowParams): [number, number] {
  const [kh, kw] = p.kernel,
    [sh, sw] = p.stride,
    [dh, dw] = p.dilation,
    [pt, pb, pl, pr] = p.pads;
  return [Math.floor((H + pt + pb - dh * (kh - 1) - 1) / sh) + 1, Math.floor((W + pl + pr - dw * (kw - 1) - 1) / sw) + 1];
}

export const convRules: Rules<'unfold' | 'fold'> = {
  unfold: {
    shape: ([x], p) => {
      const [N, C, H, W] = x.shape;
      const [Ho, Wo] = windowOutput(H, W, p);
      return { shape: [N, Ho, Wo, C, p.kernel[0], p.kernel[1]], dtype: x.dtype };
    },
    // each patch element is one input element (or padding): the adjoint sums patches back
    vjp: (g, _i, _o, { value: _v, ...p }) => [fold(g, _i[0].shape as [number, number, number, number], p)],
  },
  fold: {
    shape: ([g], { shape }) => ({ shape: [...shape], dtype: g.dtype }),
    // fold is linear and unfold's adjoint, so its adjoint is unfold (padding reads 0)
    vjp: (g, _i, _o, { shape: _s, ...p }) => [unfold(g, { ...p, value: 0 })],
  },
};

/** Patches [N, Ho, Wo, C, kh, kw] of x [N, C, H, W]. */
export function unfold(x: Tensor, p: PrimParams['unfold']): Tensor {
  if (x.ndim !== 4) throw new Error(`unfold: expects input [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [Ho, Wo] = windowOutput(x.shape[2], x.shape[3], p);
  if (Ho <= 0 || Wo <= 0 || [...p.kernel, ...p.stride, ...p.dilation].some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`unfold: kernel ${p.kernel.join('x')} (stride ${p.stride.join('x')}, dilation ${p.dilation.join('x')}) does not fit the padded input ${fmtShape(x.shape)}`);
  }
  return dispatch(convRules, 'unfold', [x], p);
}

/** Sum patches [N, Ho, Wo, C, kh, kw] back into an [N, C, H, W] image of `shape`. */
export function fold(patches: Tensor, shape: [number, number, number, number], p: WindowParams): Tensor {
  const [N, C, H, W] = shape;
  const [Ho, Wo] = windowOutput(H, W, p);
  const want = [N, Ho, Wo, C, p.kernel[0], p.kernel[1]];
  if (patches.ndim !== 6 || patches.shape.some((d, i) => d !== want[i])) {
    throw new Error(`fold: patches ${fmtShape(patches.shape)} do not match ${fmtShape(want)} for output ${fmtShape(shape)}`);
  }
  return dispatch(convRules, 'fold', [patches], { ...p, shape });
}
