// nn: PyTorch-style modules, layers, initialization and functional ops.

export { Module, type StateDict } from './module.js';
export { Parameter } from './parameter.js';
export { Linear, Identity, Flatten, type LinearOptions } from './layers/linear.js';
export { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, SiLU, Softplus, GELU, Softmax, LogSoftmax } from './layers/activation.js';
export { Dropout } from './layers/dropout.js';
export { Conv1d, Conv2d, ConvTranspose2d, type Conv1dOptions, type Conv2dOptions, type ConvTranspose2dOptions } from './layers/conv.js';
export { MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool2d } from './layers/pooling.js';
export { Embedding, embedding, type EmbeddingOptions, type FromPretrainedOptions } from './layers/embedding.js';
export {
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  LayerNorm,
  RMSNorm,
  GroupNorm,
  batchNorm,
  layerNorm,
  rmsNorm,
  groupNorm,
  type BatchNormOptions,
  type LayerNormOptions,
  type RMSNormOptions,
  type GroupNormOptions,
} from './layers/norm.js';
export { RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, RNNBase, type RNNOptions, type RNNCellOptions } from './layers/rnn.js';
export {
  GCNConv,
  SAGEConv,
  GATConv,
  addSelfLoops,
  degree,
  gcnNorm,
  scatterSoftmax,
  scatter,
  propagate,
  graphOptions,
  type Aggregation,
  type GCNConvOptions,
  type SAGEConvOptions,
  type GATConvOptions,
  type GATForwardOptions,
  type GcnNormOptions,
  type SelfLoopOptions,
  type PropagateOptions,
} from './layers/graph.js';
export { l1Penalty, l2Penalty, l1l2Penalty, type PenaltyOptions } from './regularization.js';
export {
  MultiheadAttention,
  scaledDotProductAttention,
  scaledDotProductAttentionWithWeights,
  multiHeadAttentionForward,
  type ScaledDotProductAttentionOptions,
  type MultiheadAttentionOptions,
  type MultiheadAttentionForwardOptions,
} from './layers/attention.js';
export {
  TransformerEncoderLayer,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerDecoder,
  generateSquareSubsequentMask,
  cloneModule,
  type TransformerLayerOptions,
  type TransformerActivation,
} from './layers/transformer.js';
export * from './lora.js';
export { Sequential, ModuleList } from './layers/container.js';
export * as init from './init.js';
export * as functional from './functional.js';
