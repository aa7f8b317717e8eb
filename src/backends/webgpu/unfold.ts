// webgpu unfold (im2col) and fold (col2im) over [N, C, H, W] images and [N, Ho, Wo, C, kh, kw]
// patches: one thread per output element, both as gathers, so neither needs atomics and fold sums
// in the same order as the js reference (bit-identical in float32).

import type { Kernel } from '../backend.js';
import { buf, u32, wgslType } from './layout.js';
import { MAIN_1D, PRELUDE, WG, type GpuRuntime } from './runtime.js';
import { valueRead, valueWord } from './indexing.js';

/**
 * im2col: one thread per patch element (consecutive threads walk the kernel window's columns, then
 * channels, then output pixels, so writes are coalesced). x may be any strided view; positions in
 * the padding read `value` (−∞ for max pooling: passed as float bits, WGSL has no ∞ constant).
 */
export function unfoldKernel(rt: GpuRuntime): Kernel<'unfold'> {
  return ([x], p, out, outShape) => {
    const t = wgslType(x.dtype, 'unfold');
    const n = out.size;
    if (n === 0) return;
    const [, , H, W] = x.shape;
    const [, Ho, Wo, C, kh, kw] = outShape;
    const meta = [n, Ho, Wo, C, kh, kw, H, W, ...p.stride, ...p.dilation, p.pads[0], p.pads[2], x.offset, ...x.strides.map(u32), valueWord(p.value, x.dtype)];
    const pipeline = rt.pipeline(
      `unfold:${t}`,
      () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  // i → (n, oy, ox, c, ki, kj), innermost last
  var q = i;
  let kj = q % prm[5]; q = q / prm[5];
  let ki = q % prm[4]; q = q / prm[4];
  let c = q % prm[3]; q = q / prm[3];
  let ox = q % prm[2]; q = q / prm[2];
  let oy = q % prm[1]; let n = q / prm[1];
  let yy = i32(oy * prm[8] + ki * prm[10]) - mi(12u);
  let xx = i32(ox * prm[9] + kj * prm[11]) - mi(13u);
  var v = ${valueRead(19, t)};
  if (yy >= 0 && yy < mi(6u) && xx >= 0 && xx < mi(7u)) {
    v = x[mi(14u) + i32(n) * mi(15u) + i32(c) * mi(16u) + yy * mi(17u) + xx * mi(18u)];
  }
  y[i] = v;
}`,
    );
    rt.dispatch(pipeline, [buf(x.storage), buf(out)], meta, Math.ceil(n / WG));
  };
}

/**
 * col2im as a gather: each image pixel sums the patch entries that cover it. For pixel row y, the
 * window row ki covers it from patch row oy = (y + pt − ki·dh) / sh when that divides exactly and
 * lands in [0, Ho). Walking ki and kj downwards visits (oy, ox) in increasing order, the order in
 * which js adds them, so the float32 sums are bit-identical.
 */
export function foldKernel(rt: GpuRuntime): Kernel<'fold'> {
  return ([g], p, out) => {
    const t = wgslType(g.dtype, 'fold');
    const n = out.size;
    if (n === 0) return;
    const [, C, H, W] = p.shape;
    const [, Ho, Wo, , kh, kw] = g.shape;
    const meta = [n, C, H, W, Ho, Wo, kh, kw, ...p.stride, ...p.dilation, p.pads[0], p.pads[2], g.offset, ...g.strides.map(u32)];
    const pipeline = rt.pipeline(
      `fold:${t}`,
      () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> g: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  var q = i;
  let px = i32(q % prm[3]); q = q / prm[3];
  let py = i32(q % prm[2]); q = q / prm[2];
  let c = i32(q % prm[1]); let n = i32(q / prm[1]);
  let Ho = mi(4u); let Wo = mi(5u); let sh = mi(8u); let sw = mi(9u); let dh = mi(10u); let dw = mi(11u);
  // g strides: [N, Ho, Wo, C, kh, kw] at words 15..20
  let base = mi(14u) + n * mi(15u) + c * mi(18u);
  var acc = ${t}(0);
  for (var ki = mi(6u) - 1; ki >= 0; ki--) {
    let ty = py + mi(12u) - ki * dh;
    if (ty < 0 || ty % sh != 0 || ty / sh >= Ho) { continue; }
    let rowOff = base + (ty / sh) * mi(16u) + ki * mi(19u);
    for (var kj = mi(7u) - 1; kj >= 0; kj--) {
      let tx = px + mi(13u) - kj * dw;
      if (tx < 0 || tx % sw != 0 || tx / sw >= Wo) { continue; }
      acc += g[rowOff + (tx / sw) * mi(17u) + kj * mi(20u)];
    }
  }
  y[i] = acc;
}`,
    );
    rt.dispatch(pipeline, [buf(g.storage), buf(out)], meta, Math.ceil(n / WG));
  };
}
