// The multilayer perceptron of the articles' MNIST example: 784 → 512 (ReLU) → 10, as a PyTorch-style module.

import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Linear, ReLU, Tanh, Sigmoid, GELU, Dropout, Flatten } from '../nn/index.js';
import { div, sub } from '../ops/binary.js';

/**
 * The architecture of an {@link MLP}; `activation` is the hidden layers' nonlinearity, `inputStd`
 * the divisor of the input standardization.
 */
export interface MLPConfig {
  /** Features per example after flattening (784 for 28×28 images). */
  inputSize: number;
  /** Widths of the hidden layers. */
  hidden: number[];
  /** Output width (classes). */
  numClasses: number;
  activation: 'relu' | 'tanh' | 'sigmoid' | 'gelu';
  /** Dropout after each hidden activation (0 = none). */
  dropout: number;
  /** Inputs are standardized as (x − inputMean) / inputStd inside forward, so the model takes raw [0, 1] pixels. */
  inputMean: number;
  inputStd: number;
}

/** Named {@link MLPConfig}s; `mnist` is the default of `new MLP()`. */
export const MLP_PRESETS: Record<string, MLPConfig> = {
  /**
   * The articles' network: 784-512-10, ReLU. Dropout 0.2 as in Keras' MNIST example; inputs
   * standardized with the training set's pixel mean and std (0.1307, 0.3081), as PyTorch's example does.
   */
  mnist: { inputSize: 784, hidden: [512], numClasses: 10, activation: 'relu', dropout: 0.2, inputMean: 0.1307, inputStd: 0.3081 },
};

const ACTIVATIONS = { relu: ReLU, tanh: Tanh, sigmoid: Sigmoid, gelu: GELU } as const;

/**
 * A multilayer perceptron: flatten, standardize, then Linear → activation (→ Dropout) per hidden
 * width,
 * and a final Linear; input [B, ...] → class logits [B, numClasses]. Unset config fields come from
 * `MLP_PRESETS.mnist` (784-512-10, ReLU).
 * @example const model = new MLP({ hidden: [256, 128] })
 */
export class MLP extends Module {
  readonly config: MLPConfig;
  flatten = new Flatten();
  layers: Module[] = [];

  constructor(config: Partial<MLPConfig> = {}) {
    super();
    this.config = { ...MLP_PRESETS.mnist, ...config };
    const { inputSize, hidden, numClasses, activation, dropout } = this.config;
    const Act = Object.hasOwn(ACTIVATIONS, activation) ? ACTIVATIONS[activation] : undefined;
    if (!Act) throw new Error(`MLP: unknown activation '${activation}', expected one of ${Object.keys(ACTIVATIONS).join(', ')}`);
    let width = inputSize;
    for (const h of hidden) {
      this.layers.push(new Linear(width, h), new Act());
      if (dropout > 0) this.layers.push(new Dropout(dropout));
      width = h;
    }
    this.layers.push(new Linear(width, numClasses));
  }

  /** Class logits [B, numClasses] for inputs [B, ...] (flattened). */
  forward(x: Tensor): Tensor {
    let h = this.flatten.forward(x); // (B, inputSize)
    const { inputMean, inputStd } = this.config;
    if (inputMean !== 0 || inputStd !== 1) h = div(sub(h, inputMean), inputStd);
    for (const m of this.layers) h = m.forward(h);
    return h; // (B, numClasses)
  }
}
