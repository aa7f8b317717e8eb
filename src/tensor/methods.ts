// Tensor methods with PyTorch's names (camelCase), each a thin call of the package function.

import { Tensor } from './tensor.js';
import { DTYPES, type DType } from './dtype.js';
import { toBackend, toBackendAsync } from '../ops/transfer.js';
import * as B from '../ops/binary.js';
import * as U from '../ops/unary.js';
import * as R from '../ops/reduce.js';
import * as M from '../ops/movement.js';
import * as A from '../ops/activation.js';
import { matmul } from '../ops/matmul.js';
import { gather, indexSelect } from '../ops/indexing.js';
import { detach } from '../autograd/tape.js';
import { setRequiresGrad } from './creation.js';
import type { TensorOrScalar } from '../ops/util.js';
import type { IndexSpec } from '../ops/movement.js';

type Axes = number | readonly number[] | null;

declare module './tensor.js' {
  interface Tensor {
    add(b: TensorOrScalar): Tensor; sub(b: TensorOrScalar): Tensor; mul(b: TensorOrScalar): Tensor;
    div(b: TensorOrScalar): Tensor; pow(b: TensorOrScalar): Tensor;
    maximum(b: TensorOrScalar): Tensor; minimum(b: TensorOrScalar): Tensor;
    eq(b: TensorOrScalar): Tensor; ne(b: TensorOrScalar): Tensor; lt(b: TensorOrScalar): Tensor;
    le(b: TensorOrScalar): Tensor; gt(b: TensorOrScalar): Tensor; ge(b: TensorOrScalar): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; sqrt(): Tensor; rsqrt(): Tensor; reciprocal(): Tensor;
    sin(): Tensor; cos(): Tensor; tanh(): Tensor; erf(): Tensor; floor(): Tensor; ceil(): Tensor; round(): Tensor;
    abs(): Tensor; sign(): Tensor; square(): Tensor; log1p(): Tensor;
    sigmoid(): Tensor; relu(): Tensor; gelu(approximate?: 'none' | 'tanh'): Tensor;
    softmax(dim?: number): Tensor; logSoftmax(dim?: number): Tensor;
    sum(dim?: Axes, keepdim?: boolean): Tensor; mean(dim?: Axes, keepdim?: boolean): Tensor;
    max(dim?: Axes, keepdim?: boolean): Tensor; min(dim?: Axes, keepdim?: boolean): Tensor;
    argmax(dim?: number, keepdim?: boolean): Tensor; argmin(dim?: number, keepdim?: boolean): Tensor;
    var(dim?: Axes, keepdim?: boolean, correction?: number): Tensor; std(dim?: Axes, keepdim?: boolean, correction?: number): Tensor;
    logsumexp(dim?: Axes, keepdim?: boolean): Tensor; prod(dim?: Axes, keepdim?: boolean): Tensor;
    matmul(b: Tensor): Tensor;
    reshape(...shape: number[] | [readonly number[]]): Tensor; view(...shape: number[] | [readonly number[]]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    permute(...dims: number[] | [readonly number[]]): Tensor; transpose(dim0?: number, dim1?: number): Tensor;
    /** 2-D transpose (torch.Tensor.t). */
    t(): Tensor;
    expand(...shape: number[] | [readonly number[]]): Tensor; expandAs(other: Tensor): Tensor;
    squeeze(dim?: number | number[]): Tensor; unsqueeze(dim: number): Tensor;
    slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor; select(dim: number, index: number): Tensor;
    index(...specs: IndexSpec[]): Tensor;
    contiguous(): Tensor; clone(): Tensor;
    split(size: number | readonly number[], dim?: number): Tensor[]; chunk(chunks: number, dim?: number): Tensor[];
    gather(dim: number, index: Tensor): Tensor; indexSelect(dim: number, index: Tensor): Tensor;
    /** Cast to a dtype, or copy to another backend by name ('js', 'wasm'): torch's t.to(dtype | device). */
    to(target: DType | string): Tensor; float(): Tensor; double(): Tensor; int(): Tensor; bool(): Tensor;
    /** A copy on another backend from any backend, GPUs included (their reads are asynchronous). */
    toAsync(device: string): Promise<Tensor>;
    detach(): Tensor;
    /** Set requiresGrad on a leaf (torch.Tensor.requires_grad_). */
    requiresGrad_(flag?: boolean): Tensor;
  }
}

const shapeArgs = (a: number[] | [readonly number[]]): readonly number[] => (Array.isArray(a[0]) ? a[0] as readonly number[] : a as number[]);

const methods: ThisType<Tensor> & Record<string, (this: Tensor, ...a: any[]) => unknown> = {
  add(b) { return B.add(this, b); }, sub(b) { return B.sub(this, b); }, mul(b) { return B.mul(this, b); },
  div(b) { return B.div(this, b); }, pow(b) { return B.pow(this, b); },
  maximum(b) { return B.maximum(this, b); }, minimum(b) { return B.minimum(this, b); },
  eq(b) { return B.equal(this, b); }, ne(b) { return B.notEqual(this, b); }, lt(b) { return B.less(this, b); },
  le(b) { return B.lessEqual(this, b); }, gt(b) { return B.greater(this, b); }, ge(b) { return B.greaterEqual(this, b); },
  clamp(lo, hi) { return B.clamp(this, lo, hi); },
  neg() { return U.neg(this); }, exp() { return U.exp(this); }, log() { return U.log(this); },
  sqrt() { return U.sqrt(this); }, rsqrt() { return U.rsqrt(this); }, reciprocal() { return U.reciprocal(this); },
  sin() { return U.sin(this); }, cos() { return U.cos(this); }, tanh() { return U.tanh(this); },
  erf() { return U.erf(this); }, floor() { return U.floor(this); }, ceil() { return U.ceil(this); },
  round() { return U.round(this); }, abs() { return U.abs(this); }, sign() { return U.sign(this); },
  square() { return U.square(this); }, log1p() { return U.log1p(this); },
  sigmoid() { return A.sigmoid(this); }, relu() { return A.relu(this); }, gelu(a) { return A.gelu(this, a); },
  softmax(d) { return A.softmax(this, d); }, logSoftmax(d) { return A.logSoftmax(this, d); },
  sum(d, k) { return R.sum(this, d, k); }, mean(d, k) { return R.mean(this, d, k); },
  max(d, k) { return R.max(this, d, k); }, min(d, k) { return R.min(this, d, k); },
  argmax(d, k) { return R.argmax(this, d, k); }, argmin(d, k) { return R.argmin(this, d, k); },
  var(d, k, c) { return R.variance(this, d, k, c); }, std(d, k, c) { return R.std(this, d, k, c); },
  logsumexp(d, k) { return R.logsumexp(this, d, k); }, prod(d, k) { return R.prod(this, d, k); },
  matmul(b) { return matmul(this, b); },
  reshape(...s) { return M.reshape(this, shapeArgs(s)); }, view(...s) { return M.view(this, shapeArgs(s)); },
  flatten(s, e) { return M.flatten(this, s, e); },
  permute(...d) { return M.permute(this, shapeArgs(d)); }, transpose(a, b) { return M.transpose(this, a, b); },
  t() {
    if (this.ndim > 2) throw new Error(`t: expects a tensor with at most 2 dimensions, got [${this.shape}]; use transpose()`);
    return M.transpose(this, 0, this.ndim - 1);
  },
  expand(...s) { return M.expand(this, shapeArgs(s)); }, expandAs(o) { return M.expand(this, o.shape); },
  squeeze(d) { return M.squeeze(this, d); }, unsqueeze(d) { return M.unsqueeze(this, d); },
  slice(d, s, e, st) { return M.slice(this, d, s, e, st); },
  narrow(d, s, l) { return M.narrow(this, d, s, l); }, select(d, i) { return M.select(this, d, i); },
  index(...s) { return M.index(this, ...s); },
  contiguous() { return M.contiguous(this); }, clone() { return M.clone(this); },
  split(s, d) { return M.split(this, s, d); }, chunk(c, d) { return M.chunk(this, c, d); },
  gather(d, i) { return gather(this, d, i); }, indexSelect(d, i) { return indexSelect(this, d, i); },
  to(target) { return (DTYPES as readonly string[]).includes(target) ? U.cast(this, target) : toBackend(this, target); },
  toAsync(device) { return toBackendAsync(this, device); }, float() { return U.cast(this, 'float32'); },
  double() { return U.cast(this, 'float64'); }, int() { return U.cast(this, 'int32'); }, bool() { return U.cast(this, 'bool'); },
  detach() { return detach(this); },
  requiresGrad_(flag = true) { return setRequiresGrad(this, flag); },
};

Object.assign(Tensor.prototype, methods);
