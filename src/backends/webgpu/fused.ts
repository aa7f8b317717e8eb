// webgpu fused kernels for layer norm and cross-entropy (forward and backward); attention is in
// attention.ts. Each has a composed default in src/nn (the op layer falls back to it when a kernel
// here returns false) and a test comparing the two (tests/backends/webgpu-fused.test.ts).
//
// - layer norm: a row per `lanes` threads (two-pass mean and variance, as the composed version, in
//   registers when the row fits), writing y and each row's mean and rstd. Backward: dx per row; dw
//   and db as column sums over fixed chunks of rows, then over the chunks (deterministic, no atomics).
// - cross-entropy: one pass over each row with an online logsumexp (running max and sum per lane,
//   merged in a tree), then loss = log Σe^(x−m) − (x[t] − m). Backward: one thread per logit.
import type { FusedKernels, View } from '../backend.js';
import { buf, u32 } from './layout.js';
import { f32bits, FLOAT_HELPERS, MAIN_1D, PRELUDE, statusWgsl, WG, type GpuBuf, type GpuRuntime } from './runtime.js';
import { attention, attentionBackward } from './attention.js';

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Values of a row each lane keeps in registers, so rows up to lanes × CACHE are read once. */
const CACHE = 8;

/** Lanes per row: ~4 elements per lane, so short rows share a workgroup and long rows get all of it. */
const lanesFor = (n: number): number => Math.max(2, Math.min(WG, nextPow2(Math.ceil(n / 4))));

/**
 * A tree reduction over the `lanes` lanes of each row in workgroup array `arr`; `f` combines
 * arr[t] and arr[t + s]. Leaves `total` (the row's result) and a barrier after reading it.
 */
function tree(lanes: number, arr: string, value: string, f: string, total = 'total'): string {
  return `${arr}[t] = ${value};
  workgroupBarrier();
  for (var s = ${lanes >> 1}u; s > 0u; s >>= 1u) {
    if (lane < s) { ${arr}[t] = ${f}; }
    workgroupBarrier();
  }
  let ${total} = ${arr}[t - lane];
  workgroupBarrier();`;
}

/** The row loop of a row kernel: over cached registers `cache` or over the row in memory. */
function overRow(lanes: number, cached: boolean, body: (j: string, c: string) => string): string {
  return cached
    ? `for (var c = 0u; c < ${CACHE}u; c++) { let j = lane + c * ${lanes}u; if (j < end) { ${body('j', 'c')} } }`
    : `for (var j = lane; j < end; j += ${lanes}u) { ${body('j', '')} }`;
}

/** Entry point of a row kernel: `lanes` threads per row, WG / lanes rows per workgroup. */
function rowMain(lanes: number): string {
  return `@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let lane = t % ${lanes}u;
  let row = (wid.x + wid.y * nwg.x) * ${WG / lanes}u + t / ${lanes}u;`;
}

// ---------------------------------------------------------------------------------------------
// Layer norm

/** meta: R, n, x offset, x row stride, x column stride, w offset, w stride, b offset, b stride, eps */
function layerNormWgsl(lanes: number, cached: boolean, hasW: boolean, hasB: boolean): string {
  let at = 2;
  const bind = [`@group(0) @binding(1) var<storage, read> xs: array<f32>;`];
  if (hasW) bind.push(`@group(0) @binding(${at++}) var<storage, read> ws: array<f32>;`);
  if (hasB) bind.push(`@group(0) @binding(${at++}) var<storage, read> bs: array<f32>;`);
  bind.push(
    `@group(0) @binding(${at++}) var<storage, read_write> ys: array<f32>;`,
    `@group(0) @binding(${at++}) var<storage, read_write> means: array<f32>;`,
    `@group(0) @binding(${at++}) var<storage, read_write> rstds: array<f32>;`,
  );
  const x = (j: string, c: string) => (cached ? `v[${c}]` : `xs[base + i32(${j}) * st]`);
  // y = (x − mean)·rstd·w + b, in the composed version's order
  let y = '(X - mean) * rs';
  if (hasW) y = `(${y}) * ws[mi(5u) + i32(j) * mi(6u)]`;
  if (hasB) y = `${y} + bs[mi(7u) + i32(j) * mi(8u)]`;
  return `${PRELUDE}
${bind.join('\n')}
var<workgroup> sv: array<f32, ${WG}>;
${rowMain(lanes)}
  let n = prm[1];
  let end = select(0u, n, row < prm[0]);
  let base = mi(2u) + i32(row) * mi(3u);
  let st = mi(4u);
  ${
    cached
      ? `var v: array<f32, ${CACHE}>;
  ${overRow(lanes, true, (j, c) => `v[${c}] = xs[base + i32(${j}) * st];`)}`
      : ''
  }
  var acc = 0.0;
  ${overRow(lanes, cached, (j, c) => `acc += ${x(j, c)};`)}
  ${tree(lanes, 'sv', 'acc', 'sv[t] + sv[t + s]', 'sum1')}
  let mean = sum1 / f32(n);
  acc = 0.0;
  ${overRow(lanes, cached, (j, c) => `let d = ${x(j, c)} - mean; acc += d * d;`)}
  ${tree(lanes, 'sv', 'acc', 'sv[t] + sv[t + s]', 'sum2')}
  let rs = 1.0 / sqrt(sum2 / f32(n) + mf(9u));
  let out = row * n;
  ${overRow(lanes, cached, (j, c) => `ys[out + ${j}] = ${y.replace('X', x(j, c))};`)}
  if (lane == 0u && row < prm[0]) { means[row] = mean; rstds[row] = rs; }
}`;
}

const layerNorm =
  (rt: GpuRuntime): NonNullable<FusedKernels['layerNorm']> =>
  (x, w, b, eps, out, mean, rstd) => {
    if (x.dtype !== 'float32' || x.shape.length !== 2 || (w && w.dtype !== 'float32') || (b && b.dtype !== 'float32')) return false;
    const [R, n] = x.shape;
    if (n === 0) return false;
    if (R === 0) return true;
    const lanes = lanesFor(n),
      cached = n <= lanes * CACHE;
    const key = `layerNorm:${lanes}:${cached ? 'c' : 'm'}:${w ? 'w' : ''}${b ? 'b' : ''}`;
    const pipeline = rt.pipeline(key, () => layerNormWgsl(lanes, cached, !!w, !!b));
    const meta = [R, n, u32(x.offset), u32(x.strides[0]), u32(x.strides[1]), u32(w?.offset ?? 0), u32(w?.strides[0] ?? 0), u32(b?.offset ?? 0), u32(b?.strides[0] ?? 0), f32bits(eps)];
    const bufs = [buf(x.storage), ...(w ? [buf(w.storage)] : []), ...(b ? [buf(b.storage)] : []), buf(out), buf(mean), buf(rstd)];
    rt.dispatch(pipeline, bufs, meta, Math.ceil(R / (WG / lanes)));
    return true;
  };

/**
 * dx of a row: with gw = g·w and x̂ = (x − mean)·rstd, dx = rstd·(gw − mean(gw) − x̂·mean(gw·x̂)).
 * meta: R, n, x offset, x row / column strides, g offset, g row / column strides, w offset, w stride
 */
function layerNormDxWgsl(lanes: number, cached: boolean, hasW: boolean): string {
  let at = 3;
  const bind = [`@group(0) @binding(1) var<storage, read> xs: array<f32>;`, `@group(0) @binding(2) var<storage, read> gs: array<f32>;`];
  if (hasW) bind.push(`@group(0) @binding(${at++}) var<storage, read> ws: array<f32>;`);
  bind.push(
    `@group(0) @binding(${at++}) var<storage, read> means: array<f32>;`,
    `@group(0) @binding(${at++}) var<storage, read> rstds: array<f32>;`,
    `@group(0) @binding(${at++}) var<storage, read_write> dxs: array<f32>;`,
  );
  // gw and x̂ of element j, from registers or computed from memory
  const gw = `gs[gb + i32(j) * gst]${hasW ? ' * ws[mi(9u) + i32(j) * mi(10u)]' : ''}`;
  const xh = '(xs[xb + i32(j) * xst] - mean) * rs';
  const get = (c: string) => (cached ? `let gwj = vg[${c}]; let xhj = vx[${c}];` : `let gwj = ${gw}; let xhj = ${xh};`);
  return `${PRELUDE}
${bind.join('\n')}
var<workgroup> sv: array<vec2<f32>, ${WG}>;
${rowMain(lanes)}
  let n = prm[1];
  let ok = row < prm[0];
  let end = select(0u, n, ok);
  let r = select(0u, row, ok);
  let xb = mi(2u) + i32(r) * mi(3u);
  let xst = mi(4u);
  let gb = mi(5u) + i32(r) * mi(6u);
  let gst = mi(7u);
  let mean = means[r];
  let rs = rstds[r];
  ${
    cached
      ? `var vg: array<f32, ${CACHE}>;
  var vx: array<f32, ${CACHE}>;
  ${overRow(lanes, true, (j, c) => `vg[${c}] = ${gw.replace(/\bj\b/g, j)}; vx[${c}] = ${xh.replace(/\bj\b/g, j)};`)}`
      : ''
  }
  var acc = vec2<f32>(0.0);
  ${overRow(lanes, cached, (_j, c) => `${get(c)} acc += vec2<f32>(gwj, gwj * xhj);`)}
  ${tree(lanes, 'sv', 'acc', 'sv[t] + sv[t + s]')}
  let a = total.x / f32(n);
  let b = total.y / f32(n);
  let out = row * n;
  ${overRow(lanes, cached, (j, c) => `${get(c)} dxs[out + ${j}] = rs * (gwj - a - xhj * b);`)}
}`;
}

/**
 * dw = Σ_rows g·x̂ and db = Σ_rows g over a chunk of rows, a thread per (chunk, column): adjacent
 * threads take adjacent columns (coalesced). With one chunk it writes dw, db; else partials [S, n].
 * meta: R, n, S, chunk, x offset, x row / column strides, g offset, g row / column strides
 */
function layerNormDwWgsl(needW: boolean, needB: boolean): string {
  let at = 1;
  const bind: string[] = [];
  if (needW) bind.push(`@group(0) @binding(${at++}) var<storage, read> xs: array<f32>;`);
  bind.push(`@group(0) @binding(${at++}) var<storage, read> gs: array<f32>;`);
  if (needW) {
    bind.push(
      `@group(0) @binding(${at++}) var<storage, read> means: array<f32>;`,
      `@group(0) @binding(${at++}) var<storage, read> rstds: array<f32>;`,
      `@group(0) @binding(${at++}) var<storage, read_write> dws: array<f32>;`,
    );
  }
  if (needB) bind.push(`@group(0) @binding(${at++}) var<storage, read_write> dbs: array<f32>;`);
  return `${PRELUDE}
${bind.join('\n')}
${MAIN_1D}
  let n = prm[1];
  if (i >= n * prm[2]) { return; }
  let col = i % n;
  let chunk = i / n;
  let r0 = chunk * prm[3];
  let r1 = min(prm[0], r0 + prm[3]);
  var sw = 0.0;
  var sb = 0.0;
  for (var r = r0; r < r1; r++) {
    let g = gs[mi(7u) + i32(r) * mi(8u) + i32(col) * mi(9u)];
    ${needW ? 'sw += g * ((xs[mi(4u) + i32(r) * mi(5u) + i32(col) * mi(6u)] - means[r]) * rstds[r]);' : ''}
    sb += g;
  }
  ${needW ? 'dws[i] = sw;' : ''}
  ${needB ? 'dbs[i] = sb;' : ''}
}`;
}

/** out[j] = Σ_c p[c·n + j] over the S chunks, in order. meta: n, S */
const COLSUM_WGSL = `${PRELUDE}
@group(0) @binding(1) var<storage, read> ps: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
${MAIN_1D}
  let n = prm[0];
  if (i >= n) { return; }
  var acc = 0.0;
  for (var c = 0u; c < prm[1]; c++) { acc += ps[c * n + i]; }
  ys[i] = acc;
}`;

const layerNormBackward =
  (rt: GpuRuntime): NonNullable<FusedKernels['layerNormBackward']> =>
  (g, x, w, mean, rstd, dx, dw, db) => {
    const f32 = (v: View | null) => !v || v.dtype === 'float32';
    if (!f32(g) || !f32(x) || !f32(w) || x.shape.length !== 2 || g.shape.length !== 2) return false;
    if (mean.strides[0] !== 1 || rstd.strides[0] !== 1 || mean.offset !== 0 || rstd.offset !== 0) return false;
    const [R, n] = x.shape;
    if (n === 0) return false;
    if (R === 0) {
      for (const s of [dw, db]) if (s?.size) rt.write(buf(s), new Float32Array(s.size));
      return true;
    }
    const lanes = lanesFor(n),
      cached = n <= lanes * CACHE;
    const dxPipe = rt.pipeline(`layerNormDx:${lanes}:${cached ? 'c' : 'm'}:${w ? 'w' : ''}`, () => layerNormDxWgsl(lanes, cached, !!w));
    rt.dispatch(
      dxPipe,
      [buf(x.storage), buf(g.storage), ...(w ? [buf(w.storage)] : []), buf(mean.storage), buf(rstd.storage), buf(dx)],
      [R, n, u32(x.offset), u32(x.strides[0]), u32(x.strides[1]), u32(g.offset), u32(g.strides[0]), u32(g.strides[1]), 0, u32(w?.offset ?? 0), u32(w?.strides[0] ?? 0)],
      Math.ceil(R / (WG / lanes)),
    );
    if (!dw && !db) return true;
    // Chunks of ≥ 32 rows, enough of them for ~16k threads in all.
    const S = Math.max(1, Math.min(Math.ceil(R / 32), Math.ceil(16384 / n)));
    const chunk = Math.ceil(R / S),
      S2 = Math.ceil(R / chunk);
    const needW = !!dw,
      needB = !!db;
    const pipe = rt.pipeline(`layerNormDw:${needW ? 'w' : ''}${needB ? 'b' : ''}`, () => layerNormDwWgsl(needW, needB));
    const meta = [R, n, S2, chunk, u32(x.offset), u32(x.strides[0]), u32(x.strides[1]), u32(g.offset), u32(g.strides[0]), u32(g.strides[1])];
    const partW = needW && S2 > 1 ? rt.acquire(S2 * n * 4, 'layerNorm dw partials') : null;
    const partB = needB && S2 > 1 ? rt.acquire(S2 * n * 4, 'layerNorm db partials') : null;
    try {
      const outs: GpuBuf[] = [];
      if (needW) outs.push(buf(x.storage), buf(g.storage), buf(mean.storage), buf(rstd.storage), partW ?? buf(dw!));
      else outs.push(buf(g.storage));
      if (needB) outs.push(partB ?? buf(db!));
      rt.dispatch(pipe, outs, meta, Math.ceil((S2 * n) / WG));
      const colsum = rt.pipeline('layerNormColsum', () => COLSUM_WGSL);
      if (partW) rt.dispatch(colsum, [partW, buf(dw!)], [n, S2], Math.ceil(n / WG));
      if (partB) rt.dispatch(colsum, [partB, buf(db!)], [n, S2], Math.ceil(n / WG));
    } finally {
      if (partW) rt.release(partW);
      if (partB) rt.release(partB);
    }
    return true;
  };

// ---------------------------------------------------------------------------------------------
// Cross-entropy

/**
 * Per row: an online logsumexp (each lane keeps a running max m and Σe^(x − m), merged pairwise),
 * then loss = log Σ − (x[t] − m), 0 for ignored rows; a class out of range is reported as the js
 * backend's gather error (statusWgsl: thrown at the next read) and its loss is NaN.
 * meta: N, C, x offset, x row / column strides, t offset, t stride, ignoreIndex
 */
function crossEntropyWgsl(lanes: number): string {
  return `${PRELUDE}${FLOAT_HELPERS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> ts: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> lses: array<f32>;
${statusWgsl(5)}
var<workgroup> sm: array<f32, ${WG}>;
var<workgroup> ss: array<f32, ${WG}>;
// s scaled from max mi to max m ≥ mi (unchanged when equal, which covers m = mi = −∞)
fn rescale(s: f32, mi: f32, m: f32) -> f32 { if (mi == m) { return s; } return s * ex(mi - m); }
${rowMain(lanes)}
  let C = prm[1];
  let ok = row < prm[0];
  let end = select(0u, C, ok);
  let base = mi(2u) + i32(select(0u, row, ok)) * mi(3u);
  let st = mi(4u);
  var m = -inf_();
  var s = 0.0;
  for (var j = lane; j < end; j += ${lanes}u) {
    let x = xs[base + i32(j) * st];
    if (isnan_(x)) { s = x; }
    else if (x > m) { s = rescale(s, m, x) + 1.0; m = x; }
    else if (x > -inf_()) { s += ex(x - m); }
  }
  sm[t] = m;
  ss[t] = s;
  workgroupBarrier();
  for (var h = ${lanes >> 1}u; h > 0u; h >>= 1u) {
    if (lane < h) {
      let m2 = max(sm[t], sm[t + h]);
      ss[t] = rescale(ss[t], sm[t], m2) + rescale(ss[t + h], sm[t + h], m2);
      sm[t] = m2;
    }
    workgroupBarrier();
  }
  if (lane == 0u && ok) {
    let M = sm[t];
    let ls = log(ss[t]);
    lses[row] = M + ls;
    let c = ts[mi(5u) + i32(row) * mi(6u)];
    if (c == mi(7u)) { loss[row] = 0.0; }
    else if (c < 0 || u32(c) >= C) { loss[row] = nan_(); report(1u, 1u, c, C); }
    else { loss[row] = ls - (xs[base + c * st] - M); }
  }
}`;
}

const crossEntropy =
  (rt: GpuRuntime): NonNullable<FusedKernels['crossEntropy']> =>
  (x, t, ignoreIndex, loss, lse) => {
    if (x.dtype !== 'float32' || t.dtype !== 'int32' || x.shape.length !== 2 || t.shape.length !== 1) return false;
    const [N, C] = x.shape;
    if (C === 0 || t.shape[0] !== N || !Number.isInteger(ignoreIndex) || Math.abs(ignoreIndex) > 2 ** 31 - 1) return false;
    if (N === 0) return true;
    const lanes = lanesFor(C);
    const pipeline = rt.pipeline(`crossEntropy:${lanes}`, () => crossEntropyWgsl(lanes));
    rt.dispatch(
      pipeline,
      [buf(x.storage), buf(t.storage), buf(loss), buf(lse), rt.status()],
      [N, C, u32(x.offset), u32(x.strides[0]), u32(x.strides[1]), u32(t.offset), u32(t.strides[0]), u32(ignoreIndex)],
      Math.ceil(N / (WG / lanes)),
    );
    return true;
  };

/** One thread per logit. meta: N, C, x offset, x strides, t offset, t stride, g offset, g stride, ignoreIndex */
const CE_BACKWARD_WGSL = `${PRELUDE}${FLOAT_HELPERS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> ts: array<i32>;
@group(0) @binding(3) var<storage, read> lses: array<f32>;
@group(0) @binding(4) var<storage, read> gs: array<f32>;
@group(0) @binding(5) var<storage, read_write> dxs: array<f32>;
${MAIN_1D}
  let C = prm[1];
  if (i >= prm[0] * C) { return; }
  let r = i / C;
  let j = i % C;
  let c = ts[mi(5u) + i32(r) * mi(6u)];
  if (c == mi(9u)) { dxs[i] = 0.0; return; }
  let p = ex(xs[mi(2u) + i32(r) * mi(3u) + i32(j) * mi(4u)] - lses[r]);
  dxs[i] = gs[mi(7u) + i32(r) * mi(8u)] * (p - select(0.0, 1.0, i32(j) == c));
}`;

const crossEntropyBackward =
  (rt: GpuRuntime): NonNullable<FusedKernels['crossEntropyBackward']> =>
  (x, t, lse, g, ignoreIndex, dx) => {
    if (x.dtype !== 'float32' || g.dtype !== 'float32' || x.shape.length !== 2 || lse.strides[0] !== 1 || lse.offset !== 0) return false;
    const [N, C] = x.shape;
    if (N * C === 0) return true;
    const pipeline = rt.pipeline('crossEntropyBackward', () => CE_BACKWARD_WGSL);
    rt.dispatch(
      pipeline,
      [buf(x.storage), buf(t.storage), buf(lse.storage), buf(g.storage), buf(dx)],
      [N, C, u32(x.offset), u32(x.strides[0]), u32(x.strides[1]), u32(t.offset), u32(t.strides[0]), u32(g.offset), u32(g.strides[0]), u32(ignoreIndex)],
      Math.ceil((N * C) / WG),
    );
    return true;
  };

/** The fused kernels of this file, for the backend's `fused` table. */
export const fusedKernels = (rt: GpuRuntime): FusedKernels => ({
  layerNorm: layerNorm(rt),
  layerNormBackward: layerNormBackward(rt),
  crossEntropy: crossEntropy(rt),
  crossEntropyBackward: crossEntropyBackward(rt),
  attention: attention(rt),
  attentionBackward: attentionBackward(rt),
});
