// keras: the Keras-style facade (Sequential, layers, compile/fit/evaluate/predict) over nabla's nn.

export { Sequential, loadModel, type CompileOptions, type FitOptions } from './sequential.js';
export { Layer, Input, Dense, Flatten, Dropout, Activation, regularizers, layerFromConfig, type DenseOptions, type Regularizer } from './layers.js';
export { optimizers, type OptimizerSpec } from './optimizers.js';
export { resolveLossName, type LossFn } from './losses.js';
export {
  Callback, History, EarlyStopping, ModelCheckpoint, CSVLogger, JSONLinesLogger, LearningRateScheduler,
  type Logs, type EarlyStoppingOptions, type ModelCheckpointOptions,
} from '../train/callbacks.js';
export { ProgressBar } from '../train/progress.js';
export * as layers from './layers.js';
export * as callbacks from '../train/callbacks.js';
