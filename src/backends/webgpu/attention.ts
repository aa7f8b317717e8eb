// webgpu fused causal attention, flash-attention style: a thread per query row holds q and its
// output accumulator in registers while the workgroup streams tiles of K and V through workgroup
// memory; an online softmax rescales the accumulator once per tile. The backward recomputes P from
// the saved logsumexp: one kernel for dQ (a thread per query, also writing D = rowsum(dO∘O)), one
// for dK and dV (a thread per key, streaming tiles of Q and dO). Nothing is accumulated across
// workgroups, so results are deterministic. The composed default is scaledDotProductAttention in
// src/nn/layers/attention.ts; tests/backends/webgpu-fused.test.ts compares them.

import type { FusedKernels, View } from '../backend.js';
import { buf, collapse, prod, u32 } from './layout.js';
import { isContiguous } from '../../tensor/shape.js';
import { f32bits, FLOAT_HELPERS, PRELUDE, type GpuRuntime } from './runtime.js';

/** Threads (query or key rows) per attention workgroup. */
const AT = 64;
/** Largest head dim the attention kernels take (q, k and v rows live in registers). */
const MAX_HEAD = 128;
/** Workgroup memory the kernels stay within (the WebGPU default limit). */
const SHARED_BYTES = 16384;

/**
 * WGSL: the workgroup loads the tile of BC keys from kb into kt and vt (zeros past S), between
 * barriers. Shared by the forward and the dQ kernels.
 */
function kvTiles(BC: number, DK: number, DV: number): string {
  return `    workgroupBarrier();
    for (var u = t; u < ${BC * DK}u; u += ${AT}u) {
      let key = kb + u / ${DK}u;
      kt[u] = select(vec4<f32>(0.0), ld_k(row_k(z, min(key, S - 1u)), (u % ${DK}u) * 4u, E), key < S);
    }
    for (var u = t; u < ${BC * DV}u; u += ${AT}u) {
      let key = kb + u / ${DV}u;
      vt[u] = select(vec4<f32>(0.0), ld_v(row_v(z, min(key, S - 1u)), (u % ${DV}u) * 4u, EV), key < S);
    }
    workgroupBarrier();`;
}

/** Rows per streamed tile: a power of two ≤ 32 whose tiles of `vec4s` vec4 per row (+ extra floats) fit. */
function tileRows(vec4s: number, extraFloats = 0): number {
  let r = 32;
  while (r > 4 && r * (vec4s * 16 + extraFloats * 4) > SHARED_BYTES) r >>= 1;
  return r;
}

/**
 * Meta shared by the attention kernels: sizes, then per operand (q, k, v[, o, g]) its offset, row
 * stride and column stride, then the collapsed batch dims and each operand's batch strides.
 */
const A = { L: 0, S: 1, E: 2, EV: 3, scale: 4, causal: 5, B: 6, rank: 7, ops: 8 } as const;

function attentionMeta(views: View[], scale: number, causal: boolean): { meta: number[]; B: number } {
  const q = views[0],
    k = views[1],
    v = views[2];
  const nd = q.shape.length;
  const L = q.shape[nd - 2],
    E = q.shape[nd - 1],
    S = k.shape[nd - 2],
    EV = v.shape[nd - 1];
  const batch = q.shape.slice(0, nd - 2);
  const c = collapse(
    batch,
    views.map((x) => x.strides.slice(0, nd - 2)),
  );
  const meta = [L, S, E, EV, f32bits(scale), causal ? 1 : 0, prod(batch), c.shape.length];
  for (const x of views) meta.push(u32(x.offset), u32(x.strides[nd - 2]), u32(x.strides[nd - 1]));
  meta.push(...c.shape);
  for (const s of c.strides) meta.push(...s.map(u32));
  return { meta, B: prod(batch) };
}

/**
 * WGSL: the batch offset of operand j for batch z, and a vec4 loader for each operand the kernel
 * binds (`names`, in operand order q, k, v, o, g; null for one it does not read).
 */
function attentionCommon(nOps: number, names: (string | null)[]): string {
  const dimsAt = A.ops + 3 * nOps;
  const loaders = names
    .map((nm, j) =>
      !nm
        ? ''
        : `fn ld_${nm}(row: i32, e0: u32, ne: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  let o = row + i32(e0) * mi(${A.ops + 3 * j + 2}u);
  for (var c = 0u; c < 4u; c++) { if (e0 + c < ne) { r[c] = ${nm}s[o + i32(c) * mi(${A.ops + 3 * j + 2}u)]; } }
  return r;
}
// element offset of row \`row\` of operand ${nm} in batch z
fn row_${nm}(z: u32, row: u32) -> i32 { return mi(${A.ops + 3 * j}u) + boff(z, ${j}u) + i32(row) * mi(${A.ops + 3 * j + 1}u); }`,
    )
    .join('\n');
  return `${PRELUDE}${FLOAT_HELPERS}
fn boff(z: u32, j: u32) -> i32 {
  let r = prm[${A.rank}u];
  var rem = z;
  var o = 0;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let n = prm[${dimsAt}u + u32(d)];
    o += i32(rem % n) * mi(${dimsAt}u + r * (j + 1u) + u32(d));
    rem = rem / n;
  }
  return o;
}
${loaders}`;
}

/** The attention entry point: x = row block, y (and z beyond 65535) = batch. */
const ATT_MAIN = `@compute @workgroup_size(${AT}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let L = prm[${A.L}u];
  let S = prm[${A.S}u];
  let E = prm[${A.E}u];
  let EV = prm[${A.EV}u];
  let scale = mf(${A.scale}u);
  let causal = prm[${A.causal}u] != 0u;
  let zz = wid.y + wid.z * nwg.y;
  let zok = zz < prm[${A.B}u];
  let z = select(0u, zz, zok);`;

/** dot of two rows of `n` vec4s: a[ai + d] · b[bi + d] */
const dotRows = (n: number, a: (d: string) => string, b: (d: string) => string): string =>
  `{ var acc = 0.0; for (var d = 0u; d < ${n}u; d++) { acc += dot(${a('d')}, ${b('d')}); } DOT = acc; }`;

function attentionFwdWgsl(DK: number, DV: number, BC: number): string {
  return `${attentionCommon(3, ['q', 'k', 'v'])}
@group(0) @binding(1) var<storage, read> qs: array<f32>;
@group(0) @binding(2) var<storage, read> ks: array<f32>;
@group(0) @binding(3) var<storage, read> vs: array<f32>;
@group(0) @binding(4) var<storage, read_write> os: array<f32>;
@group(0) @binding(5) var<storage, read_write> lses: array<f32>;
var<workgroup> kt: array<vec4<f32>, ${BC * DK}>;
var<workgroup> vt: array<vec4<f32>, ${BC * DV}>;
${ATT_MAIN}
  let i = wid.x * ${AT}u + t;
  let live = zok && i < L;
  // q·scale in registers (zeros past E or L)
  var q: array<vec4<f32>, ${DK}>;
  let qr = row_q(z, min(i, L - 1u));
  for (var d = 0u; d < ${DK}u; d++) { q[d] = ld_q(qr, d * 4u, E) * scale; }
  var o: array<vec4<f32>, ${DV}>;
  for (var d = 0u; d < ${DV}u; d++) { o[d] = vec4<f32>(0.0); }
  var m = -inf_();
  var l = 0.0;
  // causal: the block's last query sees keys up to itself
  let kEnd = select(S, min(S, wid.x * ${AT}u + ${AT}u), causal);
  for (var kb = 0u; kb < kEnd; kb += ${BC}u) {
${kvTiles(BC, DK, DV)}
    // scores of this tile, and their max
    var sc: array<f32, ${BC}>;
    var mt = -inf_();
    for (var j = 0u; j < ${BC}u; j++) {
      let key = kb + j;
      var DOT = -inf_();
      if (key < S && (!causal || key <= i)) ${dotRows(
        DK,
        (d) => `q[${d}]`,
        (d) => `kt[j * ${DK}u + ${d}]`,
      )}
      sc[j] = DOT;
      mt = max(mt, DOT);
    }
    let mn = max(m, mt);
    if (mn > -inf_()) {
      // rescale what was accumulated under the old max once per tile
      let corr = ex(m - mn);
      l *= corr;
      for (var d = 0u; d < ${DV}u; d++) { o[d] *= corr; }
      for (var j = 0u; j < ${BC}u; j++) {
        let p = ex(sc[j] - mn);
        l += p;
        for (var d = 0u; d < ${DV}u; d++) { o[d] += p * vt[j * ${DV}u + d]; }
      }
      m = mn;
    }
  }
  if (live) {
    let row = z * L + i;
    let ob = row * EV;
    for (var d = 0u; d < ${DV}u; d++) {
      let w = o[d] / l;
      for (var c = 0u; c < 4u; c++) { let e = d * 4u + c; if (e < EV) { os[ob + e] = w[c]; } }
    }
    lses[row] = m + log(l);
  }
}`;
}

/** dQ (and D = rowsum(dO∘O)): a thread per query row, streaming tiles of K and V. */
function attentionDqWgsl(DK: number, DV: number, BC: number): string {
  return `${attentionCommon(5, ['q', 'k', 'v', 'o', 'g'])}
@group(0) @binding(1) var<storage, read> qs: array<f32>;
@group(0) @binding(2) var<storage, read> ks: array<f32>;
@group(0) @binding(3) var<storage, read> vs: array<f32>;
@group(0) @binding(4) var<storage, read> os: array<f32>;
@group(0) @binding(5) var<storage, read> gs: array<f32>;
@group(0) @binding(6) var<storage, read> lses: array<f32>;
@group(0) @binding(7) var<storage, read_write> Ds: array<f32>;
@group(0) @binding(8) var<storage, read_write> dqs: array<f32>;
var<workgroup> kt: array<vec4<f32>, ${BC * DK}>;
var<workgroup> vt: array<vec4<f32>, ${BC * DV}>;
${ATT_MAIN}
  let i = wid.x * ${AT}u + t;
  let live = zok && i < L;
  let ic = min(i, L - 1u);
  var q: array<vec4<f32>, ${DK}>;
  var dq: array<vec4<f32>, ${DK}>;
  let qr = row_q(z, ic);
  for (var d = 0u; d < ${DK}u; d++) { q[d] = ld_q(qr, d * 4u, E) * scale; dq[d] = vec4<f32>(0.0); }
  var g: array<vec4<f32>, ${DV}>;
  let gr = row_g(z, ic);
  let orow = row_o(z, ic);
  var Di = 0.0;
  for (var d = 0u; d < ${DV}u; d++) { g[d] = ld_g(gr, d * 4u, EV); Di += dot(g[d], ld_o(orow, d * 4u, EV)); }
  let lse = lses[z * L + ic];
  let kEnd = select(S, min(S, wid.x * ${AT}u + ${AT}u), causal);
  for (var kb = 0u; kb < kEnd; kb += ${BC}u) {
${kvTiles(BC, DK, DV)}
    for (var j = 0u; j < ${BC}u; j++) {
      let key = kb + j;
      if (key < S && (!causal || key <= i)) {
        var DOT = 0.0;
        ${dotRows(
          DK,
          (d) => `q[${d}]`,
          (d) => `kt[j * ${DK}u + ${d}]`,
        )}
        let p = ex(DOT - lse);
        ${dotRows(
          DV,
          (d) => `g[${d}]`,
          (d) => `vt[j * ${DV}u + ${d}]`,
        )}
        let ds = p * (DOT - Di);
        for (var d = 0u; d < ${DK}u; d++) { dq[d] += ds * kt[j * ${DK}u + d]; }
      }
    }
  }
  if (live) {
    let row = z * L + i;
    Ds[row] = Di;
    let ob = row * E;
    for (var d = 0u; d < ${DK}u; d++) {
      let w = dq[d] * scale;
      for (var c = 0u; c < 4u; c++) { let e = d * 4u + c; if (e < E) { dqs[ob + e] = w[c]; } }
    }
  }
}`;
}

/** dK and dV: a thread per key row, streaming tiles of Q·scale, dO, lse and D. */
function attentionDkvWgsl(DK: number, DV: number, BQ: number): string {
  return `${attentionCommon(5, ['q', 'k', 'v', null, 'g'])}
@group(0) @binding(1) var<storage, read> qs: array<f32>;
@group(0) @binding(2) var<storage, read> ks: array<f32>;
@group(0) @binding(3) var<storage, read> vs: array<f32>;
@group(0) @binding(4) var<storage, read> gs: array<f32>;
@group(0) @binding(5) var<storage, read> lses: array<f32>;
@group(0) @binding(6) var<storage, read> Ds: array<f32>;
@group(0) @binding(7) var<storage, read_write> dks: array<f32>;
@group(0) @binding(8) var<storage, read_write> dvs: array<f32>;
var<workgroup> qt: array<vec4<f32>, ${BQ * DK}>;
var<workgroup> gt: array<vec4<f32>, ${BQ * DV}>;
var<workgroup> lt: array<f32, ${BQ}>;
var<workgroup> dt: array<f32, ${BQ}>;
${ATT_MAIN}
  let j = wid.x * ${AT}u + t;
  let live = zok && j < S;
  let jc = min(j, S - 1u);
  var k: array<vec4<f32>, ${DK}>;
  var dk: array<vec4<f32>, ${DK}>;
  let kr = row_k(z, jc);
  for (var d = 0u; d < ${DK}u; d++) { k[d] = ld_k(kr, d * 4u, E); dk[d] = vec4<f32>(0.0); }
  var v: array<vec4<f32>, ${DV}>;
  var dv: array<vec4<f32>, ${DV}>;
  let vr = row_v(z, jc);
  for (var d = 0u; d < ${DV}u; d++) { v[d] = ld_v(vr, d * 4u, EV); dv[d] = vec4<f32>(0.0); }
  // causal: queries before the block's first key see none of its keys
  let qStart = select(0u, wid.x * ${AT}u, causal);
  for (var qb = qStart; qb < L; qb += ${BQ}u) {
    workgroupBarrier();
    for (var u = t; u < ${BQ * DK}u; u += ${AT}u) {
      let qi = qb + u / ${DK}u;
      qt[u] = select(vec4<f32>(0.0), ld_q(row_q(z, min(qi, L - 1u)), (u % ${DK}u) * 4u, E) * scale, qi < L);
    }
    for (var u = t; u < ${BQ * DV}u; u += ${AT}u) {
      let qi = qb + u / ${DV}u;
      gt[u] = select(vec4<f32>(0.0), ld_g(row_g(z, min(qi, L - 1u)), (u % ${DV}u) * 4u, EV), qi < L);
    }
    for (var u = t; u < ${BQ}u; u += ${AT}u) {
      let qi = min(qb + u, L - 1u);
      lt[u] = lses[z * L + qi];
      dt[u] = Ds[z * L + qi];
    }
    workgroupBarrier();
    for (var r = 0u; r < ${BQ}u; r++) {
      let qi = qb + r;
      if (qi < L && (!causal || j <= qi)) {
        var DOT = 0.0;
        ${dotRows(
          DK,
          (d) => `qt[r * ${DK}u + ${d}]`,
          (d) => `k[${d}]`,
        )}
        let p = ex(DOT - lt[r]);
        ${dotRows(
          DV,
          (d) => `gt[r * ${DV}u + ${d}]`,
          (d) => `v[${d}]`,
        )}
        let ds = p * (DOT - dt[r]);
        for (var d = 0u; d < ${DV}u; d++) { dv[d] += p * gt[r * ${DV}u + d]; }
        for (var d = 0u; d < ${DK}u; d++) { dk[d] += ds * qt[r * ${DK}u + d]; }
      }
    }
  }
  if (live) {
    let row = z * S + j;
    for (var d = 0u; d < ${DK}u; d++) {
      for (var c = 0u; c < 4u; c++) { let e = d * 4u + c; if (e < E) { dks[row * E + e] = dk[d][c]; } }
    }
    for (var d = 0u; d < ${DV}u; d++) {
      for (var c = 0u; c < 4u; c++) { let e = d * 4u + c; if (e < EV) { dvs[row * EV + e] = dv[d][c]; } }
    }
  }
}`;
}

/** Whether q, k, v are attention operands the kernels take; returns their dims. */
function attentionDims(rt: GpuRuntime, q: View, k: View, v: View): { L: number; S: number; E: number; EV: number } | null {
  const nd = q.shape.length;
  if (nd < 2 || k.shape.length !== nd || v.shape.length !== nd) return null;
  if ([q, k, v].some((x) => x.dtype !== 'float32')) return null;
  for (let d = 0; d < nd - 2; d++) if (k.shape[d] !== q.shape[d] || v.shape[d] !== q.shape[d]) return null;
  const L = q.shape[nd - 2],
    E = q.shape[nd - 1],
    S = k.shape[nd - 2],
    EV = v.shape[nd - 1];
  if (k.shape[nd - 1] !== E || v.shape[nd - 2] !== S) return null;
  if (L === 0 || S === 0 || E === 0 || EV === 0 || E > MAX_HEAD || EV > MAX_HEAD) return null;
  if (prod(q.shape.slice(0, nd - 2)) > rt.maxWorkgroups ** 2) return null;
  return { L, S, E, EV };
}

function attentionGrid(rt: GpuRuntime, rows: number, B: number): [number, number, number] {
  const y = Math.min(B, rt.maxWorkgroups);
  return [Math.ceil(rows / AT), y, Math.ceil(B / y)];
}

/** An output view the kernels write: contiguous from the start of its storage (they write rows densely from element 0). */
const denseOut = (x: View): boolean => x.offset === 0 && isContiguous(x.shape, x.strides);

export const attention =
  (rt: GpuRuntime): NonNullable<FusedKernels['attention']> =>
  (q, k, v, scale, causal, out, lse) => {
    const dims = attentionDims(rt, q, k, v);
    if (!dims || !denseOut(out)) return false;
    const DK = Math.ceil(dims.E / 4),
      DV = Math.ceil(dims.EV / 4),
      BC = tileRows(DK + DV);
    const pipeline = rt.pipeline(`attention:${DK}:${DV}:${BC}`, () => attentionFwdWgsl(DK, DV, BC));
    const { meta, B } = attentionMeta([q, k, v], scale, causal);
    if (B === 0) return true;
    rt.dispatch(pipeline, [buf(q.storage), buf(k.storage), buf(v.storage), buf(out.storage), buf(lse)], meta, attentionGrid(rt, dims.L, B));
    return true;
  };

export const attentionBackward =
  (rt: GpuRuntime): NonNullable<FusedKernels['attentionBackward']> =>
  (q, k, v, o, lse, g, scale, causal, dq, dk, dv) => {
    const dims = attentionDims(rt, q, k, v);
    if (!dims || o.dtype !== 'float32' || g.dtype !== 'float32' || lse.offset !== 0 || ![dq, dk, dv].every(denseOut)) return false;
    const DK = Math.ceil(dims.E / 4),
      DV = Math.ceil(dims.EV / 4);
    const { meta, B } = attentionMeta([q, k, v, o, g], scale, causal);
    if (B === 0) return true;
    const BC = tileRows(DK + DV),
      BQ = tileRows(DK + DV, 2);
    const D = rt.acquire(B * dims.L * 4, 'attention backward row sums');
    try {
      const dqPipe = rt.pipeline(`attentionDq:${DK}:${DV}:${BC}`, () => attentionDqWgsl(DK, DV, BC));
      rt.dispatch(dqPipe, [buf(q.storage), buf(k.storage), buf(v.storage), buf(o.storage), buf(g.storage), buf(lse.storage), D, buf(dq.storage)], meta, attentionGrid(rt, dims.L, B));
      const dkvPipe = rt.pipeline(`attentionDkv:${DK}:${DV}:${BQ}`, () => attentionDkvWgsl(DK, DV, BQ));
      rt.dispatch(dkvPipe, [buf(q.storage), buf(k.storage), buf(v.storage), buf(g.storage), buf(lse.storage), D, buf(dk.storage), buf(dv.storage)], meta, attentionGrid(rt, dims.S, B));
    } finally {
      rt.release(D);
    }
    return true;
  };
