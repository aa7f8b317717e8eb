// The `webgpu` backend: tensors in GPU buffers, every primitive a WGSL compute kernel, dispatches
// batched into few submits (runtime.ts). Loaded only on `setBackend('webgpu')`: in Node through the
// optional package `webgpu` (Dawn), in a browser through navigator.gpu. Reads are asynchronous
// only (`await t.data()`); float64 is not supported (WGSL has no 64-bit floats).

import type { Backend, KernelTable, Storage } from '../backend.js';
import { BINARY_PRIMS, getBackendByName, kernelsFor, registerBackend, UNARY_PRIMS } from '../backend.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { requestGpu } from '../../platform/webgpu.js';
import { GpuRuntime, type GpuBuf, type RuntimeStats } from './runtime.js';
import { wgslType } from './layout.js';
import { binaryKernel, castKernel, copyKernel, fusedGelu, fusedGeluBackward, unaryKernel, whereKernel } from './elementwise.js';
import { argmaxKernel, maxKernel, sumKernel, fusedSoftmax } from './reduce.js';
import { matmulKernel } from './matmul.js';
import { concatKernel, gatherKernel, padKernel, randomKernel, scatterAddKernel } from './indexing.js';
import { foldKernel, unfoldKernel } from './unfold.js';
import { fusedAdam } from './optim.js';
import { fusedKernels } from './fused.js';
import { copyIntoKernel } from './inplace.js';

let nextId = 1;

/**
 * The `webgpu` backend: a {@link Backend} with its GPU runtime, timing sync, statistics and close.
 */
export interface WebGPUBackend extends Backend {
  readonly runtime: GpuRuntime;
  /** Resolves when the GPU has finished all work submitted so far (for timing). */
  sync(): Promise<void>;
  stats(): RuntimeStats;
  /** Frees the device; tensors on it become unusable. */
  close(): void;
}

/**
 * Make a WebGPU backend on the GPU device (navigator.gpu, or the optional `webgpu` package in Node).
 * `name` is the backend's name (its tensors' `device`). Most code calls `setBackend('webgpu')`
 * instead, which makes one under the name 'webgpu'.
 */
export async function createWebGPUBackend(name = 'webgpu'): Promise<WebGPUBackend> {
  const { adapter, device, source } = await requestGpu();
  const rt = new GpuRuntime(device);
  let live = 0;
  const u = (op: Parameters<typeof unaryKernel>[1]) => unaryKernel(rt, op);
  const b = (op: Parameters<typeof binaryKernel>[1]) => binaryKernel(rt, op);
  // A primitive without a kernel is a compile error (the elementwise ones: in the factories' tables).
  const kernels: KernelTable = {
    ...kernelsFor(UNARY_PRIMS, u),
    ...kernelsFor(BINARY_PRIMS, b),
    where: whereKernel(rt),
    sum: sumKernel(rt),
    max: maxKernel(rt),
    argmax: argmaxKernel(rt),
    cast: castKernel(rt),
    copy: copyKernel(rt),
    matmul: matmulKernel(rt),
    gather: gatherKernel(rt),
    scatterAdd: scatterAddKernel(rt),
    concat: concatKernel(rt),
    pad: padKernel(rt),
    random: randomKernel(rt),
    unfold: unfoldKernel(rt),
    fold: foldKernel(rt),
  };
  const info = adapter.info;
  const backend: WebGPUBackend = {
    name,
    runtime: rt,
    dtypes: ['float32', 'int32', 'bool'],
    allocate(size: number, dtype: DType): Storage {
      wgslType(dtype, 'webgpu');
      const handle = rt.acquire(size * 4, `a ${dtype} tensor of ${size} elements`);
      live++;
      return { backend, dtype, size, handle, refs: 0, id: nextId++ };
    },
    free(storage: Storage): void {
      rt.release(storage.handle as GpuBuf);
      storage.handle = null;
      live--;
    },
    write(storage: Storage, data: TypedArray): void {
      // bool is a byte on the host and a u32 on the GPU
      const words = storage.dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : data;
      rt.write(storage.handle as GpuBuf, words);
    },
    async read(storage: Storage): Promise<TypedArray> {
      const bytes = await rt.read(storage.handle as GpuBuf, storage.size * 4);
      switch (storage.dtype) {
        case 'float32':
          return new Float32Array(bytes);
        case 'int32':
          return new Int32Array(bytes);
        case 'bool':
          return Uint8Array.from(new Uint32Array(bytes));
        default:
          throw new Error(`webgpu: cannot read ${storage.dtype}`);
      }
    },
    kernels,
    fused: { softmax: fusedSoftmax(rt), adam: fusedAdam(rt), gelu: fusedGelu(rt), geluBackward: fusedGeluBackward(rt), ...fusedKernels(rt) },
    copyInto: copyIntoKernel(rt),
    liveBuffers: () => live,
    info: () => ({
      source,
      adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description },
      features: [...device.features].sort(),
      limits: {
        maxBufferSize: device.limits.maxBufferSize,
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      },
      ...rt.snapshot(),
    }),
    sync: () => rt.sync(),
    stats: () => rt.snapshot(),
    close: () => rt.destroy(),
  };
  return backend;
}

registerBackend('webgpu', () => createWebGPUBackend());

/** The loaded webgpu backend (after `await setBackend('webgpu')`). */
export function webgpuBackend(): WebGPUBackend {
  const b = getBackendByName('webgpu');
  if (!b) throw new Error("webgpuBackend: not loaded; await setBackend('webgpu') first");
  return b as WebGPUBackend;
}
