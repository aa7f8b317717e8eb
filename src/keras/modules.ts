// Small nn modules the Keras facade builds around PyTorch-layout layers: Keras keeps channels last
// (NHWC, NWC) and recurrent layers return only their outputs.

import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { permute, contiguous, select, pad } from '../ops/movement.js';
import { mean } from '../ops/reduce.js';

/**
 * Runs a channels-first module (Conv2d, MaxPool2d, BatchNorm2d ...) on a channels-last input:
 * [B, ...spatial, C] → [B, C, ...spatial] → inner → back to [B, ...spatial', C'].
 */
export class ChannelsLast extends Module {
  constructor(public inner: Module) {
    super();
  }
  forward(x: Tensor): Tensor {
    const n = x.ndim;
    const toFirst = [0, n - 1, ...Array.from({ length: n - 2 }, (_, i) => i + 1)];
    const y: Tensor = this.inner.forward(permute(x, toFirst)); // (B, C, ...spatial)
    const toLast = [0, ...Array.from({ length: n - 2 }, (_, i) => i + 2), 1];
    return contiguous(permute(y, toLast)); // (B, ...spatial', C')
  }
}

/** Keeps a recurrent layer's output sequence [B, T, H] (returnSequences) or its last step [B, H]. */
export class RecurrentOutput extends Module {
  constructor(
    public rnn: Module,
    readonly returnSequences: boolean,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    const [out] = this.rnn.forward(x) as [Tensor, unknown]; // (B, T, H·dirs)
    return this.returnSequences ? out : select(out, 1, out.shape[1] - 1);
  }
}

/** Constant padding of the spatial dims of a channels-first input (Keras 'same' with strides > 1). */
export class SpatialPad extends Module {
  /** pads: [before, after] per spatial dim. */
  constructor(
    readonly pads: [number, number][],
    readonly value = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return pad(x, [[0, 0], [0, 0], ...this.pads], this.value);
  }
}

/** Mean over the given axes (global pooling). */
export class MeanOver extends Module {
  constructor(readonly axes: number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return mean(x, this.axes);
  }
}
