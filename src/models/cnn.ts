// The convolutional network of the articles' image-recognition example: (Conv-ReLU-MaxPool) × 2 →
// Dense → Dense, as a PyTorch-style module (PyTorch's MNIST example, with padding 1).

import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Conv2d, MaxPool2d, Linear, ReLU, Dropout, Flatten } from '../nn/index.js';
import { div, sub } from '../ops/binary.js';
import { reshape } from '../ops/movement.js';

/**
 * The architecture of a {@link CNN}: input image shape, the two convolutions' filters, the dense
 * width, classes, dropout and the input standardization (`inputStd` its divisor).
 */
export interface CNNConfig {
  /** Input image [channels, height, width]. */
  inputShape: [number, number, number];
  /** Filters of the two 3×3 convolutions (each followed by ReLU and 2×2 max pooling). */
  channels: [number, number];
  /** Width of the hidden dense layer. */
  hidden: number;
  numClasses: number;
  /** Dropout before each dense layer (0 = none). */
  dropout: number;
  /** Inputs are standardized as (x − inputMean) / inputStd inside forward. */
  inputMean: number;
  inputStd: number;
}

/** Named {@link CNNConfig}s; `mnist` is the default of `new CNN()`. */
export const CNN_PRESETS: Record<string, CNNConfig> = {
  /** 28×28 digits: 32 and 64 filters, a 128-wide dense layer, dropout 0.25. */
  mnist: { inputShape: [1, 28, 28], channels: [32, 64], hidden: 128, numClasses: 10, dropout: 0.25, inputMean: 0.1307, inputStd: 0.3081 },
};

/**
 * A small convolutional network: (3×3 Conv, padding 1 → ReLU → 2×2 MaxPool) × 2 → Dropout → Linear
 * →
 * ReLU → Dropout → Linear; images [B, C, H, W] (or flattened) → class logits [B, numClasses]. H and
 * W
 * must be multiples of 4. Unset config fields come from `CNN_PRESETS.mnist`.
 */
export class CNN extends Module {
  readonly config: CNNConfig;
  conv1: Conv2d;
  conv2: Conv2d;
  pool = new MaxPool2d(2);
  act = new ReLU();
  flatten = new Flatten();
  drop1: Dropout;
  fc1: Linear;
  drop2: Dropout;
  fc2: Linear;

  constructor(config: Partial<CNNConfig> = {}) {
    super();
    this.config = { ...CNN_PRESETS.mnist, ...config };
    const {
      inputShape: [c, h, w],
      channels: [c1, c2],
      hidden,
      numClasses,
      dropout,
    } = this.config;
    if (h % 4 !== 0 || w % 4 !== 0) throw new Error(`CNN: input height and width must be multiples of 4 (two 2×2 poolings), got ${h}×${w}`);
    this.conv1 = new Conv2d(c, c1, 3, { padding: 1 });
    this.conv2 = new Conv2d(c1, c2, 3, { padding: 1 });
    this.drop1 = new Dropout(dropout);
    this.fc1 = new Linear(c2 * (h / 4) * (w / 4), hidden);
    this.drop2 = new Dropout(dropout);
    this.fc2 = new Linear(hidden, numClasses);
  }

  /** Class logits [B, numClasses] for images [B, C, H, W] (or flattened [B, C·H·W]). */
  forward(x: Tensor): Tensor {
    const { inputShape, inputMean, inputStd } = this.config;
    let h = reshape(x, [x.shape[0], ...inputShape]); // (B, C, H, W)
    if (inputMean !== 0 || inputStd !== 1) h = div(sub(h, inputMean), inputStd);
    h = this.pool.forward(this.act.forward(this.conv1.forward(h))); // (B, c1, H/2, W/2)
    h = this.pool.forward(this.act.forward(this.conv2.forward(h))); // (B, c2, H/4, W/4)
    h = this.drop1.forward(this.flatten.forward(h)); // (B, c2·H/4·W/4)
    h = this.drop2.forward(this.act.forward(this.fc1.forward(h))); // (B, hidden)
    return this.fc2.forward(h); // (B, numClasses)
  }
}
