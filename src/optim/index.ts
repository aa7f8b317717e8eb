// optim: optimizers, learning-rate schedules and gradient clipping with PyTorch's definitions.

export { Optimizer, flattenOptimizerState, unflattenOptimizerState, type ParamGroup, type ParamState, type OptimizerState, type GroupInput } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export {
  LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, CosineWarmupLR, cosineWithWarmup,
  ReduceLROnPlateau, type WarmupCosineOptions, type ReduceLROnPlateauOptions,
} from './lr-scheduler.js';
export { clipGradNorm, clipGradValue } from './clip.js';
