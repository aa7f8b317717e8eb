// nabla: the one public entry point.

import './backends/js/index.js';
import './backends/wasm/index.js';
import './backends/webgpu/index.js';

export { Tensor, type TensorOrScalar, type Scalar, type Axes, type IndexSpec, type BackwardOptions } from './tensor/tensor.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export {
  tensor,
  full,
  zeros,
  ones,
  zerosLike,
  onesLike,
  fullLike,
  scalar,
  arange,
  linspace,
  eye,
  type TensorOptions,
  type TensorLike,
  type NestedArray,
} from './tensor/creation.js';
export { scope, dispose, setDebugMemory, leakReport, type LeakRecord } from './tensor/memory.js';
export {
  registerBackend,
  setBackend,
  loadBackend,
  getBackend,
  listBackends,
  supportsDType,
  type Backend,
  type Storage,
  type View,
  type Prim,
  type PrimParams,
  type KernelTable,
} from './backends/backend.js';
export { webgpuBackend, createWebGPUBackend, type WebGPUBackend } from './backends/webgpu/index.js';
export { setThreads, getThreads, wasmBackend, wasmBackendByName, createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backends/wasm/index.js';

export * from './ops/index.js';

export { noGrad, enableGrad } from './autograd/grad-mode.js';
export { detach } from './autograd/tape.js';
export { grad, valueAndGrad, gradOf } from './autograd/functional.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as keras from './keras/index.js';
export * as metrics from './metrics/index.js';
export * as io from './io/index.js';
export * as models from './models/index.js';
export * as viz from './viz/index.js';
export * as text from './text/index.js';
export { Trainer, type TrainerOptions } from './train/trainer.js';
export { fitLoop, evaluateLoop, classSampleWeights, weightedMeanLoss, type ClassWeight, type Batches, type StepFns, type FitLoopOptions } from './train/supervised.js';
export { NonFiniteLossError, DivergedLossError, LossGuard } from './train/loss-guard.js';
export { trainMnist, evalMnist, type MnistTrainOptions } from './recipes/mnist.js';
