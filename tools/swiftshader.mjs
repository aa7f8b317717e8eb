// SwiftShader, Google's software Vulkan driver, for running the webgpu backend where there is no GPU
// (CI, this project's tests). It comes from the npm package @sparticuz/chromium (a dev dependency):
// bin/swiftshader.tar.br holds libvk_swiftshader.so, its ICD json and a Vulkan loader. Unpacked once
// into node_modules/.cache/nabla-swiftshader.
//
//   node tools/swiftshader.mjs            prints the environment to export
//   import { swiftshaderEnv } from ...    returns it (vitest.config.ts)
//
// Dawn finds the driver through VK_ICD_FILENAMES and the loader through NABLA_VULKAN_LOADER
// (src/platform/webgpu.ts preloads it: LD_LIBRARY_PATH cannot change after a process starts).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The environment that points Dawn at SwiftShader, or { reason } when it cannot be set up here.
 * @returns {{ VK_ICD_FILENAMES: string; VK_DRIVER_FILES: string; NABLA_VULKAN_LOADER: string } | { reason: string }}
 */
export function swiftshaderEnv() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { reason: `SwiftShader from @sparticuz/chromium is linux-x64 only (this is ${process.platform}-${process.arch})` };
  const dir = join(root, 'node_modules', '.cache', 'nabla-swiftshader');
  const icd = join(dir, 'vk_swiftshader_icd.json'),
    loader = join(dir, 'libvulkan.so.1');
  if (!existsSync(icd) || !existsSync(loader)) {
    const archive = join(root, 'node_modules', '@sparticuz', 'chromium', 'bin', 'swiftshader.tar.br');
    if (!existsSync(archive)) return { reason: 'the dev dependency @sparticuz/chromium (which ships SwiftShader) is not installed' };
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync('tar', ['-x', '-C', tmp], { input: brotliDecompressSync(readFileSync(archive)) });
    try {
      renameSync(tmp, dir); // atomic: an interrupted run never leaves half a directory
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(icd)) throw e; // else another process unpacked it first
    }
  }
  return { VK_ICD_FILENAMES: icd, VK_DRIVER_FILES: icd, NABLA_VULKAN_LOADER: loader };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = swiftshaderEnv();
  if ('reason' in env) {
    console.error(env.reason);
    process.exit(1);
  }
  for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${v}`);
}
