// The in-place write of the webgpu backend (Backend.copyInto): one thread per element reads the
// source through its strides and writes the destination through its own (layout.ts addressing of
// both views), into the destination's existing buffer.

import type { View } from '../backend.js';
import { addressing, buf, wgslType } from './layout.js';
import { MAIN_1D, PRELUDE, WG, type GpuRuntime } from './runtime.js';

export function copyIntoKernel(rt: GpuRuntime): (src: View, dst: View) => void {
  return (src, dst) => {
    const t = wgslType(dst.dtype, 'copyInto');
    const a = addressing(dst.shape, [src, dst]);
    if (a.meta[0] === 0) return;
    const pipeline = rt.pipeline(
      `copyInto:${t}:${a.key}`,
      () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> x0s: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  ${a.wgsl}
  y[o1] = x0s[o0];
}`,
    );
    rt.dispatch(pipeline, [buf(src.storage), buf(dst.storage)], a.meta, Math.ceil(a.meta[0] / WG));
  };
}
