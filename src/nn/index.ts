// nn: PyTorch-style modules, layers, initialization and functional ops.

export { Module, type StateDict } from './module.js';
export { Parameter } from './parameter.js';
export { Linear, Identity, Flatten, type LinearOptions } from './layers/linear.js';
export { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, SiLU, Softplus, GELU, Softmax, LogSoftmax } from './layers/activation.js';
export { Dropout } from './layers/dropout.js';
export { Sequential, ModuleList } from './layers/container.js';
export * as init from './init.js';
export * as functional from './functional.js';
