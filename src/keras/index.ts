// keras: the Keras-style facade (Sequential, layers, compile/fit/evaluate/predict) over nabla's nn.

export { Sequential, loadModel, type CompileOptions, type FitOptions } from './sequential.js';
export {
  Layer,
  Input,
  Dense,
  Flatten,
  Dropout,
  Activation,
  Conv1D,
  Conv2D,
  MaxPooling1D,
  MaxPooling2D,
  AveragePooling1D,
  AveragePooling2D,
  GlobalAveragePooling2D,
  BatchNormalization,
  LayerNormalization,
  Embedding,
  SimpleRNN,
  LSTM,
  GRU,
  regularizers,
  layerFromConfig,
  clearSession,
  type DenseOptions,
  type ConvOptions,
  type PoolOptions,
  type RecurrentOptions,
  type Regularizer,
} from './layers.js';
export { optimizers, type OptimizerSpec } from './optimizers.js';
export { resolveLossName, type LossFn } from './losses.js';
export {
  Callback,
  History,
  EarlyStopping,
  ModelCheckpoint,
  CSVLogger,
  JSONLinesLogger,
  LearningRateScheduler,
  type Logs,
  type EarlyStoppingOptions,
  type ModelCheckpointOptions,
} from '../train/callbacks.js';
export { ProgressBar } from '../train/progress.js';
export * as layers from './layers.js';
export * as callbacks from '../train/callbacks.js';
export * as metrics from '../metrics/index.js';
