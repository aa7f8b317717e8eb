// Keras activation names resolved to nabla modules.

import type { Module } from '../nn/module.js';
import { ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax, ELU, LeakyReLU, SiLU, Softplus, Identity } from '../nn/index.js';

export type ActivationName = 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'log_softmax' | 'gelu' | 'elu' | 'leaky_relu' | 'silu' | 'swish' | 'softplus' | 'linear';

const TABLE: Record<ActivationName, () => Module> = {
  relu: () => new ReLU(),
  sigmoid: () => new Sigmoid(),
  tanh: () => new Tanh(),
  softmax: () => new Softmax(-1),
  log_softmax: () => new LogSoftmax(-1),
  gelu: () => new GELU(),
  elu: () => new ELU(),
  leaky_relu: () => new LeakyReLU(0.2), // Keras' default negative slope
  silu: () => new SiLU(),
  swish: () => new SiLU(),
  softplus: () => new Softplus(),
  linear: () => new Identity(),
};

const ALIASES: Record<string, ActivationName> = { leakyRelu: 'leaky_relu', logSoftmax: 'log_softmax' };

/** The module for a Keras activation name; null/undefined/'linear' give null (no activation). */
export function activationModule(name: string | null | undefined): Module | null {
  if (name === null || name === undefined || name === 'linear') return null;
  const key = (Object.hasOwn(ALIASES, name) ? ALIASES[name] : name) as ActivationName;
  const make = Object.hasOwn(TABLE, key) ? TABLE[key] : undefined;
  if (!make) throw new Error(`activation: unknown name '${name}', expected one of ${Object.keys(TABLE).join(', ')}`);
  return make();
}
