// The Wasm heap: one WebAssembly.Memory owned by the host, handed out in 64-byte-aligned blocks of
// a few size classes over a bump pointer. A freed block merges with its free neighbours (or into
// the top), and a merged block that fits a request, found in O(1) in bins by size, is split to it;
// so memory freed at one size serves any other. Small blocks are merged lazily: freed, they wait in
// a list of their class, which the next allocation of that class takes back (a training loop
// repeats its shapes), and merge when the top reaches the end of the memory. The memory grows on
// demand, only when merged free blocks cannot serve, up to the module's maximum (never shrinking).

import type { DType, TypedArray } from '../../tensor/dtype.js';
import { AllocationError } from '../../tensor/memory.js';

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

/**
 * The bin of a block of `u` units: one per size up to 16 units (1 KiB), then four per power of two,
 * rounding down, so every block in bin binOf(c) is at least c for a class size c.
 */
function binOf(u: number): number {
  if (u <= 16) return u - 1;
  const e = 31 - Math.clz32(u);
  return 15 + (e - 4) * 4 + ((u >>> (e - 2)) & 3);
}

/** Bins for blocks up to 2^32 bytes (2^26 units): binOf(2^26) = 103. */
const BINS = 104;
/**
 * Blocks from this size up merge when freed: the kernels on them take tens of microseconds, so the
 * ~0.1 µs of merging is noise. Smaller ones wait in per-class lists (no merging: as fast as a pop).
 */
const MERGE_NOW = 256 * 1024;

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
        case 'float32':
          this.view = new Float32Array(buf, this.ptr, n);
          break;
        case 'float64':
          this.view = new Float64Array(buf, this.ptr, n);
          break;
        case 'int32':
          this.view = new Int32Array(buf, this.ptr, n);
          break;
        case 'bool':
          this.view = new Uint8Array(buf, this.ptr, n);
          break;
      }
      this.epoch = this.heap.epoch;
    }
    return this.view;
  }
}

export class Heap {
  /** Bumped whenever memory grows (views over a non-shared buffer are detached by growth). */
  epoch = 0;
  /** The bump pointer (bytes): everything from here up is unused; no merged free block ends here. */
  private top: number;
  private highWater: number;
  private readonly maxBytes: number;
  /** Small blocks freed since the last merge, by class: the next allocation of that class takes one back. */
  private readonly recent = new Map<number, number[]>();
  private recentBytes = 0;
  // Merged free blocks are records r ≥ 1 (start and size in 64-byte units, index in its bin), reused
  // through `spare`. Boundary tags find a block's free neighbours: the record starting and the one
  // ending at an address (0 where none: entries are zeroed, not deleted, as a Map's delete costs a
  // rehash). The bins hold records; a bitmap marks the non-empty ones.
  private readonly recStart = [0];
  private readonly recSize = [0];
  private readonly recPos = [0];
  private readonly spare: number[] = [];
  private byStart = new Map<number, number>();
  private byEnd = new Map<number, number>();
  private readonly bins: number[][] = Array.from({ length: BINS }, () => []);
  private readonly nonEmpty = new Uint32Array(Math.ceil(BINS / 32));
  private freeBlocks = 0;
  private freeUnits = 0;
  private liveBytes = 0;
  private live = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxPages: number,
  ) {
    this.top = this.highWater = Math.ceil(base / ALIGN) * ALIGN;
    this.maxBytes = maxPages * PAGE;
  }

  /** Reserve `bytes` (64-byte aligned); throws a clear error when the heap cannot hold them. */
  alloc(bytes: number): { ptr: number; cls: number } {
    if (!(bytes <= this.maxBytes)) {
      throw new AllocationError('wasm', bytes, `the wasm heap's maximum of ${this.maxBytes / 2 ** 20} MiB`);
    }
    const cls = sizeClass(bytes);
    // The common case of a loop that repeats its shapes: a small block of this class freed lately.
    let ptr = cls < MERGE_NOW ? this.recent.get(cls)?.pop() : undefined;
    if (ptr === undefined) ptr = this.fit(cls, bytes);
    else this.recentBytes -= cls;
    this.live++;
    this.liveBytes += cls;
    return { ptr, cls };
  }

  /** Give back a block from alloc (`cls` is the size it returned). */
  release(ptr: number, cls: number): void {
    this.live--;
    this.liveBytes -= cls;
    if (cls >= MERGE_NOW) return this.merge(ptr / ALIGN, cls / ALIGN);
    let list = this.recent.get(cls);
    if (!list) this.recent.set(cls, (list = []));
    list.push(ptr);
    this.recentBytes += cls;
  }

  /**
   * A block of `cls` bytes when no recent one has that class: a merged free block that fits (split),
   * else the same after merging the recent small blocks if the top has no room left in the memory,
   * else from the top, growing the memory.
   */
  private fit(cls: number, bytes: number): number {
    const u = cls / ALIGN;
    let b = this.firstBin(binOf(u));
    if (b < 0 && this.recentBytes > 0 && this.top + cls > this.memory.buffer.byteLength) {
      this.mergeRecent();
      b = this.firstBin(binOf(u));
    }
    if (b >= 0) {
      // Any block in a bin at or above the class's own fits; the rest of it stays free.
      const r = this.bins[b][this.bins[b].length - 1];
      const s = this.recStart[r],
        n = this.recSize[r];
      this.unlink(r);
      if (n > u) this.link(s + u, n - u);
      return s * ALIGN;
    }
    const ptr = this.top,
      end = ptr + cls;
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
    if (end > this.highWater) this.highWater = end;
    return ptr;
  }

  /** Merge every recently freed block with its free neighbours (or into the top). */
  private mergeRecent(): void {
    for (const [cls, list] of this.recent) {
      for (const ptr of list) this.merge(ptr / ALIGN, cls / ALIGN);
      list.length = 0;
    }
    this.recentBytes = 0;
  }

  /** Free the block [s, s + n) (units): joined with the free blocks on either side, or given to the top. */
  private merge(s: number, n: number): void {
    const before = this.byEnd.get(s);
    if (before) {
      s = this.recStart[before];
      n += this.recSize[before];
      this.unlink(before);
    }
    const after = this.byStart.get(s + n);
    if (after) {
      n += this.recSize[after];
      this.unlink(after);
    }
    if ((s + n) * ALIGN === this.top) this.top = s * ALIGN;
    else this.link(s, n);
  }

  buffer(dtype: DType, length: number): HeapBuffer {
    const { ptr, cls } = this.alloc(Math.max(1, length) * BYTES[dtype]);
    return new HeapBuffer(this, ptr, cls, dtype, length);
  }

  /**
   * Live buffers and bytes (class sizes), the memory's size, the highest address ever handed out,
   * and the free bytes below the bump pointer (reusable at any size).
   */
  stats(): { liveBuffers: number; liveBytes: number; heapBytes: number; highWater: number; freeBytes: number } {
    const freeBytes = this.freeUnits * ALIGN + this.recentBytes;
    return { liveBuffers: this.live, liveBytes: this.liveBytes, heapBytes: this.memory.buffer.byteLength, highWater: this.highWater, freeBytes };
  }

  /** The first non-empty bin at or above `b`, or -1. */
  private firstBin(b: number): number {
    for (let w = b >>> 5; w < this.nonEmpty.length; w++) {
      const bits = w === b >>> 5 ? this.nonEmpty[w] & (~0 << (b & 31)) : this.nonEmpty[w];
      if (bits !== 0) return (w << 5) + 31 - Math.clz32(bits & -bits);
    }
    return -1;
  }

  /** Add the free block [s, s + n) (units) to its bin. */
  private link(s: number, n: number): void {
    const r = this.spare.pop() ?? this.recStart.length;
    const b = binOf(n),
      bin = this.bins[b];
    this.recStart[r] = s;
    this.recSize[r] = n;
    this.recPos[r] = bin.length;
    bin.push(r);
    this.nonEmpty[b >>> 5] |= 1 << (b & 31);
    this.byStart.set(s, r);
    this.byEnd.set(s + n, r);
    this.freeBlocks++;
    this.freeUnits += n;
    if (this.byStart.size > 4096 && this.byStart.size > 8 * this.freeBlocks) this.compact();
  }

  /** Take free block r out of its bin. */
  private unlink(r: number): void {
    const s = this.recStart[r],
      n = this.recSize[r];
    const b = binOf(n),
      bin = this.bins[b];
    const last = bin.pop()!;
    if (last !== r) {
      bin[this.recPos[r]] = last;
      this.recPos[last] = this.recPos[r];
    }
    if (bin.length === 0) this.nonEmpty[b >>> 5] &= ~(1 << (b & 31));
    this.byStart.set(s, 0);
    this.byEnd.set(s + n, 0);
    this.spare.push(r);
    this.freeBlocks--;
    this.freeUnits -= n;
  }

  /** Rebuild the boundary tags from the bins, dropping the zeroed entries of addresses no longer free. */
  private compact(): void {
    this.byStart = new Map();
    this.byEnd = new Map();
    for (const bin of this.bins) {
      for (const r of bin) {
        this.byStart.set(this.recStart[r], r);
        this.byEnd.set(this.recStart[r] + this.recSize[r], r);
      }
    }
  }

  private oom(bytes: number): Error {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    return new Error(
      `wasm: out of memory allocating ${bytes} bytes (${mib(bytes)}); the heap holds ${mib(this.liveBytes)} in ${this.live} live buffers, ` +
        `${mib(this.memory.buffer.byteLength)} reserved of at most ${mib(this.maxBytes)}` +
        `${this.freeUnits ? ` (${mib(this.freeUnits * ALIGN)} of it free, in smaller pieces)` : ''}. Free tensors with scope() or dispose(), or use smaller batches`,
    );
  }
}
