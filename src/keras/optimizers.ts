// Keras optimizer names and specs, created with Keras' default hyperparameters once parameters exist.

import type { Parameter } from '../nn/parameter.js';
import { type Optimizer, SGD, Adam, AdamW, RMSprop } from '../optim/index.js';

/**
 * A Keras optimizer by name and hyperparameters, made into an optimizer when the model is built,
 * with Keras' defaults for fields left out (learning rate 0.01 for sgd, 0.001 otherwise; epsilon
 * 1e-7; rho 0.9 for rmsprop; weightDecay 0.004 for adamw).
 */
export interface OptimizerSpec {
  name: 'sgd' | 'adam' | 'adamw' | 'rmsprop';
  learningRate?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  rho?: number;
  weightDecay?: number;
}

/** keras.optimizers.Adam({ learningRate }) etc.: specs bound to the model's parameters at build. */
export const optimizers = {
  SGD: (o: Omit<OptimizerSpec, 'name'> = {}): OptimizerSpec => ({ name: 'sgd', ...o }),
  Adam: (o: Omit<OptimizerSpec, 'name'> = {}): OptimizerSpec => ({ name: 'adam', ...o }),
  AdamW: (o: Omit<OptimizerSpec, 'name'> = {}): OptimizerSpec => ({ name: 'adamw', ...o }),
  RMSprop: (o: Omit<OptimizerSpec, 'name'> = {}): OptimizerSpec => ({ name: 'rmsprop', ...o }),
};

/** Instantiate with Keras' defaults (Adam ε = 1e-7, RMSprop ρ = 0.9, SGD lr = 0.01). */
export function makeOptimizer(spec: string | OptimizerSpec, params: Parameter[]): Optimizer {
  const s: OptimizerSpec = typeof spec === 'string' ? { name: spec.toLowerCase() as OptimizerSpec['name'] } : spec;
  switch (s.name) {
    case 'sgd':
      return new SGD(params, { lr: s.learningRate ?? 0.01, momentum: s.momentum ?? 0, nesterov: s.nesterov ?? false, weightDecay: s.weightDecay ?? 0 });
    case 'adam':
      return new Adam(params, { lr: s.learningRate ?? 0.001, betas: [s.beta1 ?? 0.9, s.beta2 ?? 0.999], eps: s.epsilon ?? 1e-7, weightDecay: s.weightDecay ?? 0 });
    case 'adamw':
      return new AdamW(params, { lr: s.learningRate ?? 0.001, betas: [s.beta1 ?? 0.9, s.beta2 ?? 0.999], eps: s.epsilon ?? 1e-7, weightDecay: s.weightDecay ?? 0.004 });
    case 'rmsprop':
      return new RMSprop(params, { lr: s.learningRate ?? 0.001, alpha: s.rho ?? 0.9, eps: s.epsilon ?? 1e-7, momentum: s.momentum ?? 0 });
    default:
      throw new Error(`compile: unknown optimizer '${(s as { name: string }).name}', expected sgd, adam, adamw or rmsprop`);
  }
}
