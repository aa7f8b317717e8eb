// Tensor: a strided view over backend storage, with autograd fields and explicit lifetimes.

import type { Storage, View } from '../backends/backend.js';
import type { DType, TypedArray } from './dtype.js';
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

  get dtype(): DType { return this.storage.dtype; }
  get ndim(): number { return this.shape.length; }
  get size(): number { return sizeOf(this.shape); }
  /** The name of the backend holding the data ('js', 'wasm', 'webgpu'). */
  get device(): string { return this.storage.backend.name; }
  get isLeaf(): boolean { return this.gradNode === null; }
  get isContiguous(): boolean { return isContiguous(this.shape, this.strides); }

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
