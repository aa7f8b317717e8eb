// Tensor: a strided view over backend storage, with autograd fields, explicit lifetimes and
// PyTorch's methods. The methods call the ops layer through a typed table it binds once
// (bindTensorOps in ops/index.ts; backward through bindBackward in autograd), so this layer imports
// nothing above it.

import type { Backend, Storage, View } from '../backends/backend.js';
import { DTYPES, isFloat, type DType, type TypedArray } from './dtype.js';
import { contiguousStrides, isContiguous, sizeOf } from './shape.js';
import { formatTensor } from './format.js';
import { trackTensor, untrackTensor, type Finalizer } from './memory.js';

/** One recorded operation on the tape: how to turn the output's gradient into the inputs'. */
export interface GradNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Vector-Jacobian product: the gradient of each input (null where it has none). */
  readonly vjp: (g: Tensor) => (Tensor | null)[];
  released: boolean;
}

/** A plain number or boolean where an op takes a tensor (it becomes a scalar tensor beside it). */
export type Scalar = number | boolean;
/** A tensor, or a number or boolean standing for a scalar tensor. */
export type TensorOrScalar = Tensor | Scalar;
/** The dims a reduction runs over: one, several, or all (null or omitted). */
export type Axes = number | readonly number[] | null;
/** Index spec per dim: a number (select), [start, end, step?] (slice; null = open), or null (all). */
export type IndexSpec = number | null | readonly [number | null, (number | null)?, number?];

/** Options of `t.backward(grad, opts)`. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again. */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order derivatives. */
  createGraph?: boolean;
}

/**
 * @internal The operations Tensor's methods call: the ops layer's functions, bound once by
 * `bindTensorOps` (src/ops/index.ts). Declared here so that tensor/ imports nothing above it.
 */
export interface TensorOps {
  add(a: Tensor, b: TensorOrScalar): Tensor;
  sub(a: Tensor, b: TensorOrScalar): Tensor;
  mul(a: Tensor, b: TensorOrScalar): Tensor;
  div(a: Tensor, b: TensorOrScalar): Tensor;
  pow(a: Tensor, b: TensorOrScalar): Tensor;
  maximum(a: Tensor, b: TensorOrScalar): Tensor;
  minimum(a: Tensor, b: TensorOrScalar): Tensor;
  equal(a: Tensor, b: TensorOrScalar): Tensor;
  notEqual(a: Tensor, b: TensorOrScalar): Tensor;
  less(a: Tensor, b: TensorOrScalar): Tensor;
  lessEqual(a: Tensor, b: TensorOrScalar): Tensor;
  greater(a: Tensor, b: TensorOrScalar): Tensor;
  greaterEqual(a: Tensor, b: TensorOrScalar): Tensor;
  clamp(x: Tensor, min?: number | null, max?: number | null): Tensor;
  neg(x: Tensor): Tensor;
  exp(x: Tensor): Tensor;
  log(x: Tensor): Tensor;
  sqrt(x: Tensor): Tensor;
  rsqrt(x: Tensor): Tensor;
  reciprocal(x: Tensor): Tensor;
  sin(x: Tensor): Tensor;
  cos(x: Tensor): Tensor;
  tanh(x: Tensor): Tensor;
  erf(x: Tensor): Tensor;
  floor(x: Tensor): Tensor;
  ceil(x: Tensor): Tensor;
  round(x: Tensor): Tensor;
  abs(x: Tensor): Tensor;
  sign(x: Tensor): Tensor;
  square(x: Tensor): Tensor;
  log1p(x: Tensor): Tensor;
  cast(x: Tensor, dtype: DType): Tensor;
  sigmoid(x: Tensor): Tensor;
  relu(x: Tensor): Tensor;
  gelu(x: Tensor, approximate?: 'none' | 'tanh'): Tensor;
  softmax(x: Tensor, dim?: number): Tensor;
  logSoftmax(x: Tensor, dim?: number): Tensor;
  sum(x: Tensor, dim?: Axes, keepdim?: boolean): Tensor;
  mean(x: Tensor, dim?: Axes, keepdim?: boolean): Tensor;
  max(x: Tensor, dim?: Axes, keepdim?: boolean): Tensor;
  min(x: Tensor, dim?: Axes, keepdim?: boolean): Tensor;
  argmax(x: Tensor, dim?: number, keepdim?: boolean): Tensor;
  argmin(x: Tensor, dim?: number, keepdim?: boolean): Tensor;
  variance(x: Tensor, dim?: Axes, keepdim?: boolean, correction?: number): Tensor;
  std(x: Tensor, dim?: Axes, keepdim?: boolean, correction?: number): Tensor;
  logsumexp(x: Tensor, dim?: Axes, keepdim?: boolean): Tensor;
  prod(x: Tensor, dim?: Axes, keepdim?: boolean): Tensor;
  matmul(a: Tensor, b: Tensor): Tensor;
  reshape(x: Tensor, shape: readonly number[]): Tensor;
  view(x: Tensor, shape: readonly number[]): Tensor;
  flatten(x: Tensor, startDim?: number, endDim?: number): Tensor;
  permute(x: Tensor, dims: readonly number[]): Tensor;
  transpose(x: Tensor, dim0?: number, dim1?: number): Tensor;
  expand(x: Tensor, shape: readonly number[]): Tensor;
  squeeze(x: Tensor, dim?: number | number[]): Tensor;
  unsqueeze(x: Tensor, dim: number): Tensor;
  slice(x: Tensor, dim: number, start?: number, end?: number, step?: number): Tensor;
  narrow(x: Tensor, dim: number, start: number, length: number): Tensor;
  select(x: Tensor, dim: number, index: number): Tensor;
  index(x: Tensor, ...specs: IndexSpec[]): Tensor;
  contiguous(x: Tensor): Tensor;
  clone(x: Tensor): Tensor;
  split(x: Tensor, size: number | readonly number[], dim?: number): Tensor[];
  chunk(x: Tensor, chunks: number, dim?: number): Tensor[];
  gather(x: Tensor, dim: number, index: Tensor): Tensor;
  indexSelect(x: Tensor, dim: number, index: Tensor): Tensor;
  toBackend(t: Tensor, name: string): Tensor;
  toBackendAsync(t: Tensor, name: string): Promise<Tensor>;
}

let ops: TensorOps | null = null;
let backwardImpl: ((root: Tensor, grad: Tensor | undefined, opts: BackwardOptions) => void) | null = null;

/** @internal Called once by the ops layer (src/ops/index.ts) with the functions the methods use. */
export function bindTensorOps(impl: TensorOps): void {
  ops = impl;
}

/** @internal Called once by autograd (src/autograd/backward.ts) with what `t.backward()` runs. */
export function bindBackward(impl: (root: Tensor, grad: Tensor | undefined, opts: BackwardOptions) => void): void {
  backwardImpl = impl;
}

function op(method: string): TensorOps {
  if (!ops) {
    throw new Error(`Tensor.${method}: the ops layer is not loaded yet; import nabla (src/index.ts) or src/ops/index.ts before calling tensor methods`);
  }
  return ops;
}

const shapeArgs = (a: number[] | [readonly number[]]): readonly number[] => (Array.isArray(a[0]) ? (a[0] as readonly number[]) : (a as number[]));

let nextTensorId = 1;

/**
 * An n-dimensional array: a strided view (shape, strides, offset) over reference-counted backend
 * storage, with autograd fields. Make one with `tensor()`, `zeros()`, `randn()` and the like; views
 * (reshape, transpose, slice) share storage. Free it with `dispose()` or inside `scope()`.
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward(); // x.grad = 2x
 */
export class Tensor implements View {
  readonly id = nextTensorId++;
  /** Set when autograd should track operations on this tensor. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** The operation that produced this tensor (null for leaves and for tensors made without grad). */
  gradNode: GradNode | null = null;
  /** Debug name (parameters get their dotted module path). */
  name?: string;

  /** @internal use count from live graph nodes; a dispose waits for it to drop to zero. */
  graphRefs = 0;
  /** @internal */
  disposed = false;
  /** @internal dispose was asked for while the graph still needed this tensor */
  pendingDispose = false;
  /** @internal exempt from scope() clean-up (parameters, optimizer state, gradients) */
  kept = false;
  /** @internal keep the gradient of this non-leaf after backward */
  retainsGrad = false;
  /** @internal what the garbage-collection safety net frees if this is never disposed */
  private finalizer: Finalizer;

  /** @internal — only backends and the op layer construct tensors. */
  constructor(
    public storage: Storage,
    public shape: readonly number[],
    public strides: readonly number[],
    public offset: number,
  ) {
    storage.refs++;
    this.finalizer = trackTensor(this);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  /** The name of the backend holding the data ('js', 'wasm', 'webgpu'). */
  get device(): string {
    return this.storage.backend.name;
  }
  get isLeaf(): boolean {
    return this.gradNode === null;
  }
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** Throws a clear error if the tensor was disposed. */
  assertAlive(where: string): void {
    if (this.disposed) throw new Error(`${where}: tensor ${this.id} ${this.name ?? ''} of shape [${this.shape}] was already disposed`);
  }

  /** The elements in row-major order as a new typed array. */
  async data(): Promise<TypedArray> {
    const { storage, release } = this.contiguousStorage('data');
    try {
      const all = await storage.backend.read(storage);
      return all.length === this.size ? all : all.slice(0, this.size);
    } finally {
      release();
    }
  }

  /** Synchronous read; only where the backend allows it (CPU backends). */
  dataSync(): TypedArray {
    const { storage, release } = this.contiguousStorage('dataSync');
    try {
      if (!storage.backend.readSync) {
        throw new Error(`dataSync: backend '${storage.backend.name}' reads asynchronously; use await t.data()`);
      }
      const all = storage.backend.readSync(storage);
      return all.length === this.size ? all : all.slice(0, this.size);
    } finally {
      release();
    }
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    this.checkScalar('item');
    return (await this.data())[0];
  }

  itemSync(): number {
    this.checkScalar('itemSync');
    return this.dataSync()[0];
  }

  /** Nested JavaScript arrays, like PyTorch's tolist(). */
  async tolist(): Promise<unknown> {
    return nest(await this.data(), this.shape, this.dtype);
  }

  tolistSync(): unknown {
    return nest(this.dataSync(), this.shape, this.dtype);
  }

  toString(): string {
    if (this.disposed) return `tensor(<disposed>, shape=[${this.shape}])`;
    if (!this.storage.backend.readSync) return `tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
    return formatTensor(this.dataSync(), this.shape, this.dtype, this.requiresGrad, this.gradNode?.name);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** Free the backend memory now. Deferred while a live autograd graph still needs the values. */
  dispose(): void {
    if (this.disposed) return;
    if (this.graphRefs > 0) {
      this.pendingDispose = true;
      return;
    }
    this.disposed = true;
    this.pendingDispose = false;
    untrackTensor(this);
    const s = this.storage;
    if (--s.refs === 0) s.backend.free(s);
    // No later node uses this tensor, so nothing can backpropagate through its node any more.
    if (this.gradNode && !this.gradNode.released) releaseNode(this.gradNode);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Exempt from scope() clean-up; returns this. */
  keep(): this {
    this.kept = true;
    return this;
  }

  // ---- methods: thin calls of the package functions, with PyTorch's names (camelCase) ----

  /** this + b, with broadcasting (add). */
  add(b: TensorOrScalar): Tensor {
    return op('add').add(this, b);
  }
  /** this − b, with broadcasting (sub). */
  sub(b: TensorOrScalar): Tensor {
    return op('sub').sub(this, b);
  }
  /** this · b elementwise, with broadcasting (mul). */
  mul(b: TensorOrScalar): Tensor {
    return op('mul').mul(this, b);
  }
  /** this / b, true division (div). */
  div(b: TensorOrScalar): Tensor {
    return op('div').div(this, b);
  }
  /** thisᵇ elementwise (pow). */
  pow(b: TensorOrScalar): Tensor {
    return op('pow').pow(this, b);
  }
  /** Elementwise max(this, b) (maximum). */
  maximum(b: TensorOrScalar): Tensor {
    return op('maximum').maximum(this, b);
  }
  /** Elementwise min(this, b) (minimum). */
  minimum(b: TensorOrScalar): Tensor {
    return op('minimum').minimum(this, b);
  }
  /** this == b elementwise; a bool tensor (equal). */
  eq(b: TensorOrScalar): Tensor {
    return op('eq').equal(this, b);
  }
  /** this ≠ b elementwise; a bool tensor (notEqual). */
  ne(b: TensorOrScalar): Tensor {
    return op('ne').notEqual(this, b);
  }
  /** this < b elementwise; a bool tensor (less). */
  lt(b: TensorOrScalar): Tensor {
    return op('lt').less(this, b);
  }
  /** this ≤ b elementwise; a bool tensor (lessEqual). */
  le(b: TensorOrScalar): Tensor {
    return op('le').lessEqual(this, b);
  }
  /** this > b elementwise; a bool tensor (greater). */
  gt(b: TensorOrScalar): Tensor {
    return op('gt').greater(this, b);
  }
  /** this ≥ b elementwise; a bool tensor (greaterEqual). */
  ge(b: TensorOrScalar): Tensor {
    return op('ge').greaterEqual(this, b);
  }
  /** Clip to [min, max]; a null or missing bound is not applied (clamp). */
  clamp(min?: number | null, max?: number | null): Tensor {
    return op('clamp').clamp(this, min, max);
  }

  /** Elementwise −x. */
  neg(): Tensor {
    return op('neg').neg(this);
  }
  /** Elementwise eˣ. */
  exp(): Tensor {
    return op('exp').exp(this);
  }
  /** Elementwise ln x. */
  log(): Tensor {
    return op('log').log(this);
  }
  /** Elementwise √x. */
  sqrt(): Tensor {
    return op('sqrt').sqrt(this);
  }
  /** Elementwise 1/√x. */
  rsqrt(): Tensor {
    return op('rsqrt').rsqrt(this);
  }
  /** Elementwise 1/x. */
  reciprocal(): Tensor {
    return op('reciprocal').reciprocal(this);
  }
  /** Elementwise sine. */
  sin(): Tensor {
    return op('sin').sin(this);
  }
  /** Elementwise cosine. */
  cos(): Tensor {
    return op('cos').cos(this);
  }
  /** Elementwise hyperbolic tangent. */
  tanh(): Tensor {
    return op('tanh').tanh(this);
  }
  /** Elementwise error function. */
  erf(): Tensor {
    return op('erf').erf(this);
  }
  /** Elementwise ⌊x⌋. */
  floor(): Tensor {
    return op('floor').floor(this);
  }
  /** Elementwise ⌈x⌉. */
  ceil(): Tensor {
    return op('ceil').ceil(this);
  }
  /** Round half to even (torch.round). */
  round(): Tensor {
    return op('round').round(this);
  }
  /** Elementwise |x|. */
  abs(): Tensor {
    return op('abs').abs(this);
  }
  /** −1, 0 or 1 elementwise (no gradient). */
  sign(): Tensor {
    return op('sign').sign(this);
  }
  /** Elementwise x². */
  square(): Tensor {
    return op('square').square(this);
  }
  /** Elementwise ln(1 + x). */
  log1p(): Tensor {
    return op('log1p').log1p(this);
  }
  /** 1 / (1 + e⁻ˣ) (sigmoid). */
  sigmoid(): Tensor {
    return op('sigmoid').sigmoid(this);
  }
  /** max(x, 0) (relu). */
  relu(): Tensor {
    return op('relu').relu(this);
  }
  /** GELU, exact or with GPT-2's tanh approximation (gelu). */
  gelu(approximate?: 'none' | 'tanh'): Tensor {
    return op('gelu').gelu(this, approximate);
  }
  /** Softmax along dim (the last by default). */
  softmax(dim?: number): Tensor {
    return op('softmax').softmax(this, dim);
  }
  /** Log-softmax along dim (the last by default). */
  logSoftmax(dim?: number): Tensor {
    return op('logSoftmax').logSoftmax(this, dim);
  }

  /** Sum over dim (all dims when omitted). */
  sum(dim?: Axes, keepdim?: boolean): Tensor {
    return op('sum').sum(this, dim, keepdim);
  }
  /** Mean over dim (all dims when omitted). */
  mean(dim?: Axes, keepdim?: boolean): Tensor {
    return op('mean').mean(this, dim, keepdim);
  }
  /** Largest value over dim (torch.amax). */
  max(dim?: Axes, keepdim?: boolean): Tensor {
    return op('max').max(this, dim, keepdim);
  }
  /** Smallest value over dim (torch.amin). */
  min(dim?: Axes, keepdim?: boolean): Tensor {
    return op('min').min(this, dim, keepdim);
  }
  /** Index of the largest value along dim (over the flattened tensor when omitted). */
  argmax(dim?: number, keepdim?: boolean): Tensor {
    return op('argmax').argmax(this, dim, keepdim);
  }
  /** Index of the smallest value along dim (over the flattened tensor when omitted). */
  argmin(dim?: number, keepdim?: boolean): Tensor {
    return op('argmin').argmin(this, dim, keepdim);
  }
  /** Variance, with Bessel's correction by default (torch.var). */
  var(dim?: Axes, keepdim?: boolean, correction?: number): Tensor {
    return op('var').variance(this, dim, keepdim, correction);
  }
  /** Standard deviation, with Bessel's correction by default (torch.std). */
  std(dim?: Axes, keepdim?: boolean, correction?: number): Tensor {
    return op('std').std(this, dim, keepdim, correction);
  }
  /** log Σ exp over dim, stable. */
  logsumexp(dim?: Axes, keepdim?: boolean): Tensor {
    return op('logsumexp').logsumexp(this, dim, keepdim);
  }
  /** Product over dim. */
  prod(dim?: Axes, keepdim?: boolean): Tensor {
    return op('prod').prod(this, dim, keepdim);
  }
  /** Matrix product with NumPy/PyTorch semantics (matmul). */
  matmul(b: Tensor): Tensor {
    return op('matmul').matmul(this, b);
  }

  /** Same data, new shape (one dim may be −1): a view where the strides allow, else a copy. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return op('reshape').reshape(this, shapeArgs(shape));
  }
  /** Same data, new shape, never copying (torch.Tensor.view). */
  view(...shape: number[] | [readonly number[]]): Tensor {
    return op('view').view(this, shapeArgs(shape));
  }
  /** Merge dims startDim..endDim into one (torch.flatten). */
  flatten(startDim?: number, endDim?: number): Tensor {
    return op('flatten').flatten(this, startDim, endDim);
  }
  /** Reorder dims, as a view. */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return op('permute').permute(this, shapeArgs(dims));
  }
  /** Swap two dims (the last two by default), as a view. */
  transpose(dim0?: number, dim1?: number): Tensor {
    return op('transpose').transpose(this, dim0, dim1);
  }
  /** 2-D transpose (torch.Tensor.t). */
  t(): Tensor {
    if (this.ndim > 2) throw new Error(`t: expects a tensor with at most 2 dimensions, got [${this.shape}]; use transpose()`);
    return op('t').transpose(this, 0, this.ndim - 1);
  }
  /** Broadcast to a larger shape without copying; −1 keeps a dim. */
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return op('expand').expand(this, shapeArgs(shape));
  }
  /** Broadcast to other's shape without copying. */
  expandAs(other: Tensor): Tensor {
    return op('expandAs').expand(this, other.shape);
  }
  /** Drop size-1 dims (all, or those listed), as a view. */
  squeeze(dim?: number | number[]): Tensor {
    return op('squeeze').squeeze(this, dim);
  }
  /** Insert a size-1 dim at dim, as a view. */
  unsqueeze(dim: number): Tensor {
    return op('unsqueeze').unsqueeze(this, dim);
  }
  /** this[start:end:step] along one dim, as a view. */
  slice(dim: number, start?: number, end?: number, step?: number): Tensor {
    return op('slice').slice(this, dim, start, end, step);
  }
  /** `length` elements of dim from `start`, as a view. */
  narrow(dim: number, start: number, length: number): Tensor {
    return op('narrow').narrow(this, dim, start, length);
  }
  /** Index `index` of dim, removing that dim. */
  select(dim: number, index: number): Tensor {
    return op('select').select(this, dim, index);
  }
  /** Basic indexing, like Python's x[1, 2:5, :, ::2]. */
  index(...specs: IndexSpec[]): Tensor {
    return op('index').index(this, ...specs);
  }
  /** A contiguous tensor with the same values (this when already contiguous). */
  contiguous(): Tensor {
    return op('contiguous').contiguous(this);
  }
  /** A contiguous copy that never shares storage (torch.clone). */
  clone(): Tensor {
    return op('clone').clone(this);
  }
  /** Pieces of `size` along dim, or of the given sizes. */
  split(size: number | readonly number[], dim?: number): Tensor[] {
    return op('split').split(this, size, dim);
  }
  /** `chunks` nearly equal pieces along dim. */
  chunk(chunks: number, dim?: number): Tensor[] {
    return op('chunk').chunk(this, chunks, dim);
  }
  /** torch.gather along dim with int32 indices. */
  gather(dim: number, index: Tensor): Tensor {
    return op('gather').gather(this, dim, index);
  }
  /** Rows (or slices along dim) picked by int32 indices (torch.index_select). */
  indexSelect(dim: number, index: Tensor): Tensor {
    return op('indexSelect').indexSelect(this, dim, index);
  }

  /** Cast to a dtype, or copy to another backend by name ('js', 'wasm'): torch's t.to(dtype | device). */
  to(target: DType | string): Tensor {
    return (DTYPES as readonly string[]).includes(target) ? op('to').cast(this, target as DType) : op('to').toBackend(this, target);
  }
  /** A copy on another backend from any backend, GPUs included (their reads are asynchronous). */
  toAsync(device: string): Promise<Tensor> {
    return op('toAsync').toBackendAsync(this, device);
  }
  /** Cast to float32. */
  float(): Tensor {
    return op('float').cast(this, 'float32');
  }
  /** Cast to float64. */
  double(): Tensor {
    return op('double').cast(this, 'float64');
  }
  /** Cast to int32. */
  int(): Tensor {
    return op('int').cast(this, 'int32');
  }
  /** Cast to bool. */
  bool(): Tensor {
    return op('bool').cast(this, 'bool');
  }

  /** The same values, cut from the tape: no gradient flows back through the result. */
  detach(): Tensor {
    this.assertAlive('detach');
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /** Set requiresGrad on a leaf (torch.Tensor.requires_grad_); only floating-point tensors can. */
  requiresGrad_(flag = true): Tensor {
    if (flag && !isFloat(this.dtype)) throw new Error(`requiresGrad: only floating-point tensors can require gradients, got ${this.dtype}`);
    if (!this.isLeaf) throw new Error('requiresGrad: can only be changed on leaf tensors; use detach() first');
    this.requiresGrad = flag;
    return this;
  }

  /** Compute gradients of this (scalar) tensor into the `.grad` of the leaves (loss.backward()). */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    if (!backwardImpl) throw new Error('backward: autograd is not loaded yet; import nabla (src/index.ts) or src/autograd/backward.ts first');
    backwardImpl(this, grad, opts);
  }

  /** Keep `.grad` on this non-leaf tensor after backward. */
  retainGrad(): Tensor {
    this.retainsGrad = true;
    return this;
  }

  /**
   * @internal replace the data with another tensor's, used by optimizers and initializers.
   * The shape must match; the dtype and backend too, unless `convert` (module.to(dtype or device)).
   */
  assignStorage(src: Tensor, convert = false): void {
    if (src.shape.length !== this.shape.length || src.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assignStorage: source shape [${src.shape}] does not match target shape [${this.shape}]`);
    }
    if (!convert && src.dtype !== this.dtype) {
      throw new Error(`assignStorage: source dtype ${src.dtype} does not match target dtype ${this.dtype}`);
    }
    if (!convert && src.storage.backend !== this.storage.backend) {
      throw new Error(`assignStorage: source is on backend '${src.device}', target on '${this.device}'`);
    }
    const s = src.storage;
    s.refs++;
    const old = this.storage;
    if (--old.refs === 0) old.backend.free(old);
    this.storage = s;
    this.finalizer.storage = s;
    this.strides = src.strides;
    this.offset = src.offset;
  }

  private checkScalar(where: string): void {
    if (this.size !== 1) throw new Error(`${where}: only a tensor with one element has an item, got shape [${this.shape}]`);
  }

  /** A contiguous storage with exactly this tensor's elements (a copy for strided views). */
  private contiguousStorage(where: string): { storage: Storage; release: () => void } {
    this.assertAlive(where);
    if (this.isContiguous && this.offset === 0 && this.storage.size === this.size) {
      return { storage: this.storage, release: () => {} };
    }
    const b = this.storage.backend;
    const out = b.allocate(this.size, this.dtype);
    const view: View = { storage: this.storage, shape: this.shape, strides: this.strides, offset: this.offset, dtype: this.dtype };
    b.kernels.copy([view], {}, out, this.shape);
    return { storage: out, release: () => b.free(out) };
  }
}

/** A fresh contiguous tensor on `backend` (contents undefined until a kernel or write fills it). */
export function allocTensor(backend: Backend, shape: readonly number[], dtype: DType): Tensor {
  const storage = backend.allocate(sizeOf(shape), dtype);
  return new Tensor(storage, [...shape], contiguousStrides(shape), 0);
}

/** Drop a node's hold on its inputs; inputs whose dispose was waiting go now, and so on upstream. */
export function releaseNode(node: GradNode): void {
  if (node.released) return;
  node.released = true;
  for (const t of node.inputs) {
    t.graphRefs--;
    if (t.graphRefs === 0 && t.pendingDispose) t.dispose();
  }
}

function nest(flat: TypedArray, shape: readonly number[], dtype: DType): unknown {
  const conv = (v: number) => (dtype === 'bool' ? v !== 0 : v);
  if (shape.length === 0) return conv(flat[0]);
  const strides = contiguousStrides(shape);
  const build = (d: number, off: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < shape[d]; i++) {
      out.push(d === shape.length - 1 ? conv(flat[off + i]) : build(d + 1, off + i * strides[d]));
    }
    return out;
  };
  return build(0, 0);
}
