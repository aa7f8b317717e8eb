// nn: PyTorch-style modules, layers, initialization and functional ops.

export { Module, type StateDict } from './module.js';
export { Parameter } from './parameter.js';
export { Linear, Identity, Flatten, type LinearOptions } from './layers/linear.js';
export { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, SiLU, Softplus, GELU, Softmax, LogSoftmax } from './layers/activation.js';
export { Dropout } from './layers/dropout.js';
export { Conv1d, Conv2d, type Conv1dOptions, type Conv2dOptions } from './layers/conv.js';
export { MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool2d } from './layers/pooling.js';
export { Embedding, embedding, type EmbeddingOptions, type FromPretrainedOptions } from './layers/embedding.js';
export {
  BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, RMSNorm, GroupNorm, batchNorm, layerNorm, rmsNorm, groupNorm,
  type BatchNormOptions, type LayerNormOptions, type RMSNormOptions, type GroupNormOptions,
} from './layers/norm.js';
export { Sequential, ModuleList } from './layers/container.js';
export * as init from './init.js';
export * as functional from './functional.js';
