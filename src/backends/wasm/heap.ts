// The Wasm heap: one WebAssembly.Memory owned by the host. Buffers come from size-class free lists
// over a bump pointer; memory grows on demand up to the module's maximum. Freed blocks are reused
// by later allocations of the same class, so a training loop that repeats its shapes stops growing
// after its first steps.

import type { DType, TypedArray } from '../../tensor/dtype.js';

const ALIGN = 64;
const PAGE = 65536;
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Round a request up to its size class: four classes per power of two (at most 25% slack). */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 1024) return b;
  const step = 2 ** (Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / step) * step;
}

/** A buffer in the heap: its address, and a typed-array view rebuilt if the memory's buffer changed. */
export class HeapBuffer {
  private view: TypedArray | null = null;
  private epoch = -1;
  constructor(
    private readonly heap: Heap,
    readonly ptr: number,
    readonly cls: number,
    readonly dtype: DType,
    readonly length: number,
  ) {}

  /** The elements as a typed array over the heap (valid until the next allocation that grows it). */
  get array(): TypedArray {
    if (this.epoch !== this.heap.epoch || this.view === null) {
      const buf = this.heap.memory.buffer;
      const n = this.length;
      switch (this.dtype) {
        case 'float32': this.view = new Float32Array(buf, this.ptr, n); break;
        case 'float64': this.view = new Float64Array(buf, this.ptr, n); break;
        case 'int32': this.view = new Int32Array(buf, this.ptr, n); break;
        case 'bool': this.view = new Uint8Array(buf, this.ptr, n); break;
      }
      this.epoch = this.heap.epoch;
    }
    return this.view;
  }
}

export class Heap {
  /** Bumped whenever memory grows (views over a non-shared buffer are detached by growth). */
  epoch = 0;
  private top: number;
  private readonly free = new Map<number, number[]>();
  private liveBytes = 0;
  private live = 0;

  constructor(readonly memory: WebAssembly.Memory, base: number, private readonly maxPages: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Reserve `bytes` (64-byte aligned); throws a clear error when the heap cannot grow. */
  alloc(bytes: number): { ptr: number; cls: number } {
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.top;
      const end = ptr + cls;
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        // Grow by at least a quarter of the current size, so growth is rare.
        const need = Math.ceil((end - have) / PAGE);
        const pages = Math.min(Math.max(need, Math.ceil(have / PAGE / 4)), this.maxPages - have / PAGE);
        if (pages < need) throw this.oom(bytes);
        try {
          this.memory.grow(pages);
        } catch {
          throw this.oom(bytes);
        }
        this.epoch++;
      }
      this.top = end;
    }
    this.live++;
    this.liveBytes += cls;
    return { ptr, cls };
  }

  release(ptr: number, cls: number): void {
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    list.push(ptr);
    this.live--;
    this.liveBytes -= cls;
  }

  buffer(dtype: DType, length: number): HeapBuffer {
    const { ptr, cls } = this.alloc(Math.max(1, length) * BYTES[dtype]);
    return new HeapBuffer(this, ptr, cls, dtype, length);
  }

  stats(): { liveBuffers: number; liveBytes: number; heapBytes: number; highWater: number } {
    return { liveBuffers: this.live, liveBytes: this.liveBytes, heapBytes: this.memory.buffer.byteLength, highWater: this.top };
  }

  private oom(bytes: number): Error {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    return new Error(`wasm: out of memory allocating ${bytes} bytes (${mib(bytes)}); the heap holds ${mib(this.liveBytes)} in ${this.live} live buffers, `
      + `${mib(this.memory.buffer.byteLength)} reserved of at most ${mib(this.maxPages * PAGE)}. Free tensors with scope() or dispose(), or use smaller batches`);
  }
}
