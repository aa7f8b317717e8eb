// The ops layer's public surface: every op family's functions, the switches of dispatch, and the
// one binding of Tensor's methods to these functions (tensor.ts declares what its methods call).

import { bindTensorOps } from '../tensor/tensor.js';
import { add, sub, mul, div, pow, maximum, minimum, equal, notEqual, less, lessEqual, greater, greaterEqual, clamp } from './binary.js';
import { neg, exp, log, sqrt, rsqrt, reciprocal, sin, cos, tanh, erf, floor, ceil, round, abs, sign, square, log1p, cast } from './unary.js';
import { sum, mean, max, min, argmax, argmin, variance, std, logsumexp, prod } from './reduce.js';
import { reshape, view, flatten, permute, transpose, expand, squeeze, unsqueeze, slice, narrow, select, index, contiguous, clone, split, chunk } from './movement.js';
import { sigmoid, relu, gelu, softmax, logSoftmax } from './activation.js';
import { matmul } from './matmul.js';
import { gather, indexSelect } from './indexing.js';
import { toBackend, toBackendAsync } from './transfer.js';

export * from './unary.js';
export * from './binary.js';
export * from './reduce.js';
export * from './movement.js';
export * from './matmul.js';
export * from './indexing.js';
export * from './activation.js';
export { toBackend, toBackendAsync } from './transfer.js';
export { unfold, fold } from './conv.js';
export {
  Generator,
  defaultGenerator,
  manualSeed,
  rand,
  randn,
  randint,
  uniform,
  normal,
  bernoulli,
  randpermArray,
  type RandomOptions,
} from './random.js';
export { isGradEnabled } from './tape.js';
export { startProfiling, stopProfiling, setFusedMode, getFusedMode, type FusedMode, type OpStats } from './dispatch.js';

bindTensorOps({
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  equal,
  notEqual,
  less,
  lessEqual,
  greater,
  greaterEqual,
  clamp,
  neg,
  exp,
  log,
  sqrt,
  rsqrt,
  reciprocal,
  sin,
  cos,
  tanh,
  erf,
  floor,
  ceil,
  round,
  abs,
  sign,
  square,
  log1p,
  cast,
  sigmoid,
  relu,
  gelu,
  softmax,
  logSoftmax,
  sum,
  mean,
  max,
  min,
  argmax,
  argmin,
  variance,
  std,
  logsumexp,
  prod,
  matmul,
  reshape,
  view,
  flatten,
  permute,
  transpose,
  expand,
  squeeze,
  unsqueeze,
  slice,
  narrow,
  select,
  index,
  contiguous,
  clone,
  split,
  chunk,
  gather,
  indexSelect,
  toBackend,
  toBackendAsync,
});
