// A WebGPU device: `navigator.gpu` in a browser, Dawn's Node binding (the optional npm package
// `webgpu`) in Node, loaded only when the webgpu backend is asked for.
/// <reference types="@webgpu/types" />

import { isNode } from './workers.js';

declare const process: { env: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown; dlopen?: (m: object, f: string, flags: number) => void } | undefined;

/** dlopen flag that keeps a library loaded after the (failed) module registration closes it. */
const RTLD_NODELETE = 0x1000;

export interface GpuHandle {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Where the device came from: 'navigator.gpu' or 'webgpu (Dawn) x.y.z'. */
  source: string;
}

/**
 * Dawn instances created in this process. Dawn's Node binding frees its instance when the GPU
 * object is garbage collected, even with devices alive, and the next event processing crashes
 * the process (a null mutex in CallbackTaskManager::Flush): keep them for the process lifetime.
 */
const instances: GPU[] = [];

/**
 * Preloads a Vulkan loader named by NABLA_VULKAN_LOADER (a path to libvulkan.so.1), for machines
 * without one installed: the dynamic linker reads LD_LIBRARY_PATH only when a process starts, but
 * once a library with that soname is loaded, Dawn's dlopen('libvulkan.so.1') finds it. The software
 * drivers the tests use (SwiftShader, tools/swiftshader.mjs) ship their own loader.
 */
function preloadVulkanLoader(): void {
  const path = process?.env.NABLA_VULKAN_LOADER;
  if (!path || typeof process?.dlopen !== 'function') return;
  const os = process.getBuiltinModule?.('node:os') as { constants: { dlopen: Record<string, number> } } | undefined;
  const flags = (os?.constants.dlopen.RTLD_NOW ?? 2) | (os?.constants.dlopen.RTLD_GLOBAL ?? 256) | RTLD_NODELETE;
  try {
    process.dlopen({ exports: {} }, path, flags);
  } catch (e) {
    // A plain shared library is not a Node addon: "did not self-register" means it loaded.
    if (!/self-register/.test((e as Error).message)) throw new Error(`webgpu: cannot load the Vulkan loader NABLA_VULKAN_LOADER=${path}: ${(e as Error).message}`);
  }
}

async function nodeGpu(): Promise<{ gpu: GPU; source: string }> {
  preloadVulkanLoader();
  let mod: { create(flags: string[]): GPU };
  try {
    mod = (await import('webgpu' as string)) as { create(flags: string[]): GPU };
  } catch (e) {
    throw new Error(
      `webgpu: the optional package 'webgpu' (Dawn for Node) is not installed or does not load here (${(e as Error).message.split('\n')[0]}); install it with npm install webgpu`,
    );
  }
  let version = '';
  try {
    const { createRequire } = process!.getBuiltinModule!('node:module') as { createRequire(u: string): (id: string) => { version: string } };
    version = createRequire(import.meta.url)('webgpu/package.json').version;
  } catch {
    /* version is informational */
  }
  const gpu = mod.create([]);
  instances.push(gpu);
  return { gpu, source: `webgpu (Dawn) ${version}`.trim() };
}

/**
 * The adapter and a device with the adapter's own limits (the defaults cap storage buffers at
 * 128 MiB; a GPT needs more). Throws a clear error when there is no WebGPU or no adapter.
 */
export async function requestGpu(): Promise<GpuHandle> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let gpu: GPU, source: string;
  if (nav?.gpu) ({ gpu, source } = { gpu: nav.gpu, source: 'navigator.gpu' });
  else if (isNode) ({ gpu, source } = await nodeGpu());
  else throw new Error('webgpu: this browser has no navigator.gpu (WebGPU is off or unsupported)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    const hint = isNode ? ' (Dawn found no Vulkan/Metal/D3D12 device; on Linux without a GPU set VK_ICD_FILENAMES to a software driver, see docs/webgpu.md)' : '';
    throw new Error(`webgpu: no GPU adapter available${hint}`);
  }
  const limits: Record<string, number> = {};
  for (const k of [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    limits[k] = adapter.limits[k];
  }
  const features = (['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits: limits, requiredFeatures: features });
  return { adapter, device, source };
}
