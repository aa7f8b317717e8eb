// optim: optimizers, learning-rate schedules and gradient clipping with PyTorch's definitions.

export {
  Optimizer,
  flattenOptimizerState,
  unflattenOptimizerState,
  type ParamGroup,
  type ResolvedParamGroup,
  type Hyperparams,
  type ParamState,
  type SavedParamGroup,
  type OptimizerState,
  type OptimizerStateMeta,
} from './optimizer.js';
export { SGD, type SGDOptions, type SGDHyperparams } from './sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamWOptions, type AdamHyperparams } from './adam.js';
export { RMSprop, type RMSpropOptions, type RMSpropHyperparams } from './rmsprop.js';
export {
  LRScheduler,
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LambdaLR,
  CosineWarmupLR,
  cosineWithWarmup,
  ReduceLROnPlateau,
  type SchedulerState,
  type WarmupCosineOptions,
  type ReduceLROnPlateauOptions,
  type PlateauState,
} from './lr-scheduler.js';
export { clipGradNorm, clipGradNormOnDevice, clipGrads, clipGradValue, clipGradsWithNorm, getTotalNorm, type NormType } from './clip.js';
