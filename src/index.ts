// nabla: the one public entry point.

import './backends/js/index.js';
import './backends/wasm/index.js';
import './backends/webgpu/index.js';
import './tensor/methods.js';
import './autograd/backward.js';

export { Tensor } from './tensor/tensor.js';
export type { DType, TypedArray } from './tensor/dtype.js';
export {
  tensor, full, zeros, ones, zerosLike, onesLike, fullLike, scalar, arange, linspace, eye,
  type TensorOptions, type TensorLike, type NestedArray,
} from './tensor/creation.js';
export { scope, dispose, setDebugMemory, leakReport, type LeakRecord } from './tensor/memory.js';
export {
  registerBackend, setBackend, loadBackend, getBackend, listBackends, supportsDType,
  type Backend, type Storage, type View, type Prim, type PrimParams, type KernelTable,
} from './backends/backend.js';
export { startProfiling, stopProfiling } from './backends/dispatch.js';
export { webgpuBackend, createWebGPUBackend, type WebGPUBackend } from './backends/webgpu/index.js';
export { setThreads, getThreads, wasmBackend, wasmBackendByName, createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backends/wasm/index.js';

export * from './ops/unary.js';
export * from './ops/binary.js';
export * from './ops/reduce.js';
export * from './ops/movement.js';
export * from './ops/matmul.js';
export * from './ops/indexing.js';
export * from './ops/activation.js';
export { toBackend, toBackendAsync } from './ops/transfer.js';
export { unfold, fold } from './ops/conv.js';
export {
  Generator, defaultGenerator, manualSeed, rand, randn, randint, uniform, normal, bernoulli, randpermArray,
  type RandomOptions,
} from './ops/random.js';

export { noGrad, enableGrad, isGradEnabled } from './autograd/grad-mode.js';
export { detach } from './autograd/tape.js';
export { grad, valueAndGrad, gradOf } from './autograd/functional.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';
export type { BackwardOptions } from './autograd/backward.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as keras from './keras/index.js';
export * as metrics from './train/metrics.js';
export * as io from './io/index.js';
export * as models from './models/index.js';
export * as viz from './viz/index.js';
export * as text from './text/index.js';
export { fitLoop, evaluateLoop, NonFiniteLossError, DivergedLossError, LossGuard, classSampleWeights, weightedMeanLoss, type ClassWeight, type Batches, type StepFns, type FitLoopOptions } from './train/loop.js';
export { trainMnist, evalMnist, type MnistTrainOptions } from './train/mnist.js';
