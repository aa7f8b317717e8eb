// The webgpu test files' common start: load the backend (without making it current) or say why it
// cannot run here; each file skips its suite with that reason, visibly.
import * as nb from '../../src/index.js';

/** Why webgpu cannot run here, or '' when it can (it is then loaded: device 'webgpu' works). */
export async function webgpuUnavailable(): Promise<string> {
  if (process.env.NABLA_WEBGPU_SKIP) return process.env.NABLA_WEBGPU_SKIP;
  try {
    await nb.loadBackend('webgpu');
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}
