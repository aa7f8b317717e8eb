// The webgpu backend's runtime: GPU buffers from a pool, a pipeline cache, and dispatches recorded
// into one command encoder that is submitted in batches (a submit costs ~0.1 ms with the wait, a
// dispatch ~11 µs on an H100 through Dawn: batching decides small ops).
//
// Every kernel takes its small parameters (sizes, strides, offsets, scalars) from `meta`, a
// read-only storage binding at @binding(0): each dispatch appends its words to a host staging
// array and binds its own aligned slice of one GPU buffer, which is uploaded once per submit.
// queue.writeBuffer runs on the queue timeline before the submit that follows it, so the buffer is
// safely reused by the next batch.
/// <reference types="@webgpu/types" />

/** GPUBufferUsage / GPUMapMode bits (numbers, so nothing depends on the globals being installed). */
export const Usage = { MAP_READ: 0x1, MAP_WRITE: 0x2, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;

/** Threads per workgroup of the 1-D kernels (elementwise, copies, gathers). */
export const WG = 256;

/** Words of meta one batch may hold, and dispatches per batch before a submit. */
const META_WORDS = 1 << 16;
const MAX_BATCH = 512;

/** A pooled GPU buffer and the batch (epoch) that last used it. */
export interface GpuBuf {
  buffer: GPUBuffer;
  bytes: number;
  epoch: number;
}

export interface RuntimeStats {
  dispatches: number;
  submits: number;
  pipelines: number;
  liveBytes: number;
  pooledBytes: number;
}

const f32v = new Float32Array(1),
  u32v = new Uint32Array(f32v.buffer);
/** The bits of a float32, for a float parameter in meta (read with bitcast<f32>). */
export function f32bits(x: number): number {
  f32v[0] = x;
  return u32v[0];
}

/**
 * WGSL prelude shared by the 1-D kernels: the meta binding and the linear invocation index over a
 * 2-D grid of workgroups (one dimension is limited to 65535 workgroups).
 */
export const PRELUDE = /* wgsl */ `
@group(0) @binding(0) var<storage, read> prm: array<u32>;
fn lin(wid: vec3u, nwg: vec3u, li: u32) -> u32 { return (wid.x + wid.y * nwg.x) * ${WG}u + li; }
fn mi(k: u32) -> i32 { return bitcast<i32>(prm[k]); }
fn mf(k: u32) -> f32 { return bitcast<f32>(prm[k]); }
`;
/**
 * WGSL float helpers of the fused kernels (fused.ts, attention.ts): ∞ and NaN built at run time
 * (they cannot be constants), a NaN test the compiler cannot fold away, e^d with e^(−∞) = 0 exactly.
 */
export const FLOAT_HELPERS = /* wgsl */ `
fn inf_() -> f32 { return bitcast<f32>(0x7f800000u | (prm[0] & 0u)); }
fn nan_() -> f32 { return bitcast<f32>(0x7fc00000u | (prm[0] & 0u)); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn ex(d: f32) -> f32 { return select(exp(d), 0.0, d < -3.0e38); }
`;
/**
 * WGSL of the status words at `binding` (GpuRuntime.status) and `report(kind, axis, index, size)`,
 * which a kernel calls where the CPU backends would throw (an index out of range). The first report
 * since the last check keeps its details; the host reads them with the next read or sync and throws.
 */
export const statusWgsl = (binding: number): string => `
@group(0) @binding(${binding}) var<storage, read_write> status: array<atomic<u32>, 4>;
fn report(kind: u32, axis: u32, index: i32, size: u32) {
  if (atomicExchange(&status[0], kind) == 0u) {
    atomicStore(&status[1], axis); atomicStore(&status[2], bitcast<u32>(index)); atomicStore(&status[3], size);
  }
}`;
/** What a nonzero status[0] names (the op whose CPU kernel throws the same message). */
export const STATUS_KINDS = ['', 'gather', 'scatterAdd'] as const;

/** The entry-point header of a 1-D kernel; the body sees `i`, the linear index. */
export const MAIN_1D = `@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = lin(wid, nwg, li);`;

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly maxBufferBytes: number;
  readonly maxWorkgroups: number;
  private readonly align: number;
  private epoch = 1;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly meta = new Uint32Array(META_WORDS);
  private metaUsed = 0;
  private metaBuf: GPUBuffer;
  private batched = 0;
  private readonly pool = new Map<number, GpuBuf[]>();
  private pooledBytes = 0;
  private liveBytes = 0;
  /** Pool bytes kept for reuse before buffers are destroyed. */
  private readonly poolLimit: number;
  /** Buffers to destroy or staging buffers to drop once the current batch is submitted. */
  private afterSubmit: GPUBuffer[] = [];
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly readPool: GPUBuffer[] = [];
  private errors: string[] = [];
  /** Pipeline compilations whose error scope has not resolved yet (their errors come first). */
  private compiling: Promise<void>[] = [];
  private lost: string | null = null;
  readonly stats: RuntimeStats = { dispatches: 0, submits: 0, pipelines: 0, liveBytes: 0, pooledBytes: 0 };
  /** Four status words kernels write where the CPU would throw (statusWgsl); checked by read and sync. */
  private readonly statusBuf: GpuBuf;
  /** Whether a kernel bound the status words since they were last read. */
  private statusArmed = false;

  constructor(device: GPUDevice) {
    this.device = device;
    const L = device.limits;
    this.maxBufferBytes = Math.min(L.maxBufferSize, L.maxStorageBufferBindingSize);
    this.maxWorkgroups = L.maxComputeWorkgroupsPerDimension;
    this.align = L.minStorageBufferOffsetAlignment;
    this.poolLimit = Math.min(2 ** 31, this.maxBufferBytes * 2);
    this.metaBuf = device.createBuffer({ size: META_WORDS * 4, usage: Usage.STORAGE | Usage.COPY_DST });
    this.statusBuf = { buffer: device.createBuffer({ size: 16, usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST }), bytes: 16, epoch: 0 };
    device.addEventListener?.('uncapturederror', (e) => this.errors.push((e as GPUUncapturedErrorEvent).error.message));
    void device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
  }

  /** Waits for pending compilations, then throws the first GPU error seen since the last check. */
  private async settle(where: string): Promise<void> {
    if (this.compiling.length) {
      const c = this.compiling;
      this.compiling = [];
      await Promise.all(c);
    }
    this.checkErrors(where);
  }

  /** Throws the first GPU error seen since the last check (validation, out of memory, lost device). */
  checkErrors(where: string): void {
    if (this.lost) throw new Error(`webgpu: device lost (${this.lost}) before ${where}`);
    if (this.errors.length) {
      const e = this.errors;
      this.errors = [];
      throw new Error(`webgpu: ${e[0]}${e.length > 1 ? ` (and ${e.length - 1} more errors)` : ''} (reported at ${where})`);
    }
  }

  /** A storage buffer of at least `bytes` bytes, reused from the pool when one of that size is free. */
  acquire(bytes: number, what: string): GpuBuf {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (size > this.maxBufferBytes) {
      throw new Error(`webgpu: ${what} needs a buffer of ${bytes} bytes, over this device's limit of ${this.maxBufferBytes} bytes (maxStorageBufferBindingSize)`);
    }
    const free = this.pool.get(size);
    let b = free?.pop();
    if (b) this.pooledBytes -= size;
    else {
      b = { buffer: this.device.createBuffer({ size, usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST }), bytes: size, epoch: 0 };
    }
    this.liveBytes += size;
    return b;
  }

  /** Back to the pool; destroyed instead (after the batch that may still use it) when the pool is full. */
  release(b: GpuBuf): void {
    this.liveBytes -= b.bytes;
    if (this.pooledBytes + b.bytes > this.poolLimit) {
      if (b.epoch === this.epoch) this.afterSubmit.push(b.buffer);
      else b.buffer.destroy();
      return;
    }
    let list = this.pool.get(b.bytes);
    if (!list) this.pool.set(b.bytes, (list = []));
    list.push(b);
    this.pooledBytes += b.bytes;
  }

  /** Destroys every pooled buffer (memory pressure, or before closing). */
  trim(): void {
    this.flush();
    for (const list of this.pool.values()) for (const b of list) b.buffer.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
  }

  /** The compute pipeline for `key`, compiled from `code()` on first use. */
  pipeline(key: string, code: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const src = code();
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ code: src, label: key });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      this.compiling.push(
        this.device.popErrorScope().then((e) => {
          if (e) this.errors.unshift(`kernel '${key}' does not compile: ${e.message}`);
        }),
      );
      this.pipelines.set(key, p);
      this.stats.pipelines++;
    }
    return p;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    return this.pass;
  }

  private endPass(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  /** Workgroup counts [x, y] covering `groups` workgroups of a 1-D kernel (see PRELUDE's lin()). */
  grid(groups: number): [number, number] {
    if (groups <= this.maxWorkgroups) return [Math.max(1, groups), 1];
    const y = Math.ceil(groups / this.maxWorkgroups);
    if (y > this.maxWorkgroups) throw new Error(`webgpu: ${groups} workgroups exceed this device's grid`);
    return [Math.ceil(groups / y), y];
  }

  /**
   * Records one dispatch: `meta` words go to binding 0, `buffers` to bindings 1.. in order.
   * `groups` is a workgroup count (1-D kernels, laid out by grid()) or explicit [x, y, z].
   */
  dispatch(pipeline: GPUComputePipeline, buffers: GpuBuf[], meta: ArrayLike<number>, groups: number | [number, number, number]): void {
    const words = Math.max(1, meta.length);
    const alignWords = this.align / 4;
    let at = Math.ceil(this.metaUsed / alignWords) * alignWords;
    if (at + words > META_WORDS || this.batched >= MAX_BATCH) {
      this.flush();
      at = 0;
    }
    for (let k = 0; k < meta.length; k++) this.meta[at + k] = meta[k];
    this.metaUsed = at + words;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.metaBuf, offset: at * 4, size: words * 4 } }];
    for (let k = 0; k < buffers.length; k++) {
      buffers[k].epoch = this.epoch;
      entries.push({ binding: k + 1, resource: { buffer: buffers[k].buffer } });
    }
    const bind = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    if (typeof groups === 'number') {
      const [x, y] = this.grid(groups);
      pass.dispatchWorkgroups(x, y);
    } else pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.batched++;
    this.stats.dispatches++;
  }

  /** Records a buffer-to-buffer copy (byte offsets and size are multiples of 4). */
  copy(src: GpuBuf, srcByte: number, dst: GpuBuf, dstByte: number, bytes: number): void {
    if (bytes <= 0) return;
    src.epoch = dst.epoch = this.epoch;
    this.endPass().copyBufferToBuffer(src.buffer, srcByte, dst.buffer, dstByte, bytes);
  }

  /**
   * Uploads host data. A buffer no unsubmitted command touched takes queue.writeBuffer directly;
   * one the current batch used (a pooled buffer that held another tensor) goes through a staging
   * copy recorded in order, so earlier commands still see what they should.
   */
  write(dst: GpuBuf, data: ArrayBufferView): void {
    const bytes = data.byteLength;
    if (bytes === 0) return;
    const padded = Math.ceil(bytes / 4) * 4;
    const src =
      padded === bytes
        ? data
        : (() => {
            const p = new Uint8Array(padded);
            p.set(new Uint8Array(data.buffer, data.byteOffset, bytes));
            return p;
          })();
    if (dst.epoch !== this.epoch) {
      this.device.queue.writeBuffer(dst.buffer, 0, src.buffer, src.byteOffset, padded);
      return;
    }
    const staging = this.device.createBuffer({ size: padded, usage: Usage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(src.buffer, src.byteOffset, padded));
    staging.unmap();
    this.endPass().copyBufferToBuffer(staging, 0, dst.buffer, 0, padded);
    this.afterSubmit.push(staging);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    const enc = this.endPass();
    if (this.metaUsed) this.device.queue.writeBuffer(this.metaBuf, 0, this.meta.buffer, 0, this.metaUsed * 4);
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
    this.metaUsed = 0;
    this.batched = 0;
    this.epoch++;
    this.stats.submits++;
    for (const b of this.afterSubmit) b.destroy();
    this.afterSubmit = [];
  }

  /** The status words for a kernel that may report (statusWgsl); bind it as that binding's buffer. */
  status(): GpuBuf {
    this.statusArmed = true;
    return this.statusBuf;
  }

  /**
   * Copies `bytes` from the start of `src` to the host, after everything recorded before it. When
   * a kernel that can report ran since the last check, the status words come back in the same
   * copy, and a report throws the error the CPU backends would have thrown.
   */
  async read(src: GpuBuf | null, bytes: number, where = 'read'): Promise<ArrayBuffer> {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const withStatus = this.statusArmed;
    this.statusArmed = false;
    const total = size + (withStatus ? 16 : 0);
    const i = this.readPool.findIndex((b) => b.size === total);
    const staging = i >= 0 ? this.readPool.splice(i, 1)[0] : this.device.createBuffer({ size: total, usage: Usage.MAP_READ | Usage.COPY_DST });
    const dst = { buffer: staging, bytes: total, epoch: 0 };
    if (src) this.copy(src, 0, dst, 0, Math.min(size, src.bytes));
    if (withStatus) this.copy(this.statusBuf, 0, dst, size, 16);
    this.flush();
    await this.settle(where);
    try {
      await staging.mapAsync(MAP_READ_MODE, 0, total);
    } catch (e) {
      await this.settle(where);
      throw e;
    }
    const mapped = staging.getMappedRange(0, total);
    const out = mapped.slice(0, bytes);
    const status = withStatus ? new Uint32Array(mapped.slice(size, size + 16)) : null;
    staging.unmap();
    if (this.readPool.length < 8) this.readPool.push(staging);
    else staging.destroy();
    this.checkErrors(where);
    if (status && status[0] !== 0) {
      this.device.queue.writeBuffer(this.statusBuf.buffer, 0, new Uint32Array(4));
      const op = STATUS_KINDS[status[0]] ?? `kernel ${status[0]}`;
      throw new Error(`${op}: index ${status[2] | 0} is out of range for dimension ${status[1]} of size ${status[3]} (found on the GPU, reported at ${where})`);
    }
    return out;
  }

  /** Resolves when the GPU has finished everything submitted (for timing); throws what a kernel reported. */
  async sync(): Promise<void> {
    if (this.statusArmed) {
      await this.read(null, 0, 'sync');
      return;
    }
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.settle('sync');
  }

  snapshot(): RuntimeStats {
    return { ...this.stats, liveBytes: this.liveBytes, pooledBytes: this.pooledBytes };
  }

  destroy(): void {
    this.trim();
    for (const b of this.readPool) b.destroy();
    this.metaBuf.destroy();
    this.statusBuf.buffer.destroy();
    this.device.destroy();
  }
}
