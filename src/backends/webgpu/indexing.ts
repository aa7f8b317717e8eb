// webgpu kernels that move elements by index: gather, scatterAdd, concat, pad, random. One thread per
// output element (gather, concat, pad), a deterministic sort-based scatterAdd, and Philox4x32-10
// random numbers bit-identical to the js reference.
//
// Out-of-range indices cannot throw when the kernel is recorded (it never reads back): the kernel
// reports them in the runtime's status words (statusWgsl) and the next read or sync throws the
// error js throws at once. Until then gather writes NaN (0 for integer dtypes) there and scatterAdd
// drops the entry.

import type { Kernel, View } from '../backend.js';
import type { DType } from '../../tensor/dtype.js';
import { addressing, buf, contiguous, prod, u32, wgslType } from './layout.js';
import { f32bits, MAIN_1D, PRELUDE, statusWgsl, WG, type GpuBuf, type GpuRuntime } from './runtime.js';

/** A view's addressing without its storage (addressing() reads only strides and offset). */
const at = (strides: readonly number[], offset: number): View => ({ strides, offset }) as unknown as View;

/** WGSL for "no value": NaN for floats (built at run time: NaN cannot be a WGSL constant), else 0. */
const missing = (t: string): string => (t === 'f32' ? 'bitcast<f32>(0x7fc00000u | (prm[0] & 0u))' : `${t}(0)`);

/**
 * A fill value as its meta word, converted the way the js backend's typed-array stores convert it:
 * float32 rounds, int32 wraps (ToInt32), bool keeps the low byte (ToUint8).
 */
export function valueWord(value: number, dtype: DType): number {
  if (dtype === 'float32') return f32bits(value);
  if (dtype === 'int32') return u32(value | 0);
  return (value | 0) & 0xff;
}
/** WGSL reading that word back as type t. */
export const valueRead = (word: number, t: string): string => (t === 'f32' ? `mf(${word}u)` : t === 'i32' ? `mi(${word}u)` : `prm[${word}u]`);

/** torch.gather: out[p] = x[p with p[axis] replaced by index[p]]. */
export function gatherKernel(rt: GpuRuntime): Kernel<'gather'> {
  return ([x, index], { axis }, out, outShape) => {
    const t = wgslType(x.dtype, 'gather');
    // x read over the output's shape with the gathered axis contributing nothing: o0 is x's offset
    // of the row, o1 the index element; the index then moves o0 along the axis.
    const a = addressing(outShape, [
      at(
        x.strides.map((s, d) => (d === axis ? 0 : s)),
        x.offset,
      ),
      index,
    ]);
    if (a.meta[0] === 0) return;
    const L = a.meta.length;
    const meta = [...a.meta, x.shape[axis], u32(x.strides[axis]), axis];
    const pipeline = rt.pipeline(
      `gather:${t}:${a.key}:${L}`,
      () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<${t}>;
${statusWgsl(4)}
${MAIN_1D}
  if (i >= prm[0]) { return; }
  ${a.wgsl}
  let k = idx[o1];
  var v = ${missing(t)};
  if (k >= 0 && k < mi(${L}u)) { v = x[o0 + k * mi(${L + 1}u)]; } else { report(1u, prm[${L + 2}u], k, prm[${L}u]); }
  y[i] = v;
}`,
    );
    rt.dispatch(pipeline, [buf(x.storage), buf(index.storage), buf(out), rt.status()], meta, Math.ceil(a.meta[0] / WG));
  };
}

/** Index entries along the scatter axis up to which scatterAdd loops per output element (no sort). */
const DIRECT_MAX = 32;

/**
 * zeros(shape).scatter_add_(axis, index, src).
 *
 * Determinism: bit-identical to the js reference, run to run and whatever the adapter. Every output
 * element is written by one thread that adds its contributions in the order js does (row-major order
 * of the index, starting from 0), so no atomics touch floats. Two formulations:
 * - direct: when the index is short along the axis (≤ DIRECT_MAX, e.g. a cross-entropy backward
 *   with one target per row), each output element scans its column of the index.
 * - sorted: otherwise (an embedding backward: thousands of token ids into a 50k-row table) the
 *   index "rows" are stably sorted by their target output row with an LSD radix sort, each output
 *   row finds its segment by binary search, and each of its elements sums the segment's sources in
 *   order. A row is one index position over the leading dims up to the last one along which the
 *   index varies (at least through the axis); the trailing dims, where the index is broadcast
 *   (stride 0, as indexSelect makes it), are spread over threads. Cost: O(rows · passes) to sort,
 *   O(out + entries) to sum, where passes = ⌈log2(output rows + 1) / 8⌉.
 *
 * src is addressed at the index's coordinates (torch's semantics).
 */
export function scatterAddKernel(rt: GpuRuntime): Kernel<'scatterAdd'> {
  return ([index, src], { axis, shape }, out) => {
    if (out.size === 0) return;
    const t = wgslType(src.dtype, 'scatterAdd');
    const A = index.shape[axis];
    if (A <= DIRECT_MAX || prod(index.shape) === 0) scatterDirect(rt, index, src, axis, shape, out.handle as GpuBuf, out.size, t);
    else scatterSorted(rt, index, src, axis, shape, out.handle as GpuBuf, out.size, t);
  };
}

function scatterDirect(rt: GpuRuntime, index: View, src: View, axis: number, shape: readonly number[], out: GpuBuf, n: number, t: string): void {
  const r = shape.length;
  const meta = [n, r, axis, index.shape[axis], index.offset, src.offset];
  for (let d = 0; d < r; d++) meta.push(shape[d], index.shape[d], u32(index.strides[d]), u32(src.strides[d]));
  const pipeline = rt.pipeline(
    `scatterAdd.direct:${t}`,
    () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read> src: array<${t}>;
@group(0) @binding(3) var<storage, read_write> y: array<${t}>;
${statusWgsl(4)}
${MAIN_1D}
  if (i >= prm[0]) { return; }
  let ax = prm[2];
  // Output coordinates: the axis coordinate is the index value to match; the others locate the
  // column of the index (and of src) this element reads, when the index reaches that far.
  var io = mi(4u); var so = mi(5u); var k = 0; var inside = true; var rem = i;
  for (var d = i32(prm[1]) - 1; d >= 0; d--) {
    let w = 6u + u32(d) * 4u;
    let c = rem % prm[w]; rem = rem / prm[w];
    if (u32(d) == ax) { k = i32(c); continue; }
    if (c >= prm[w + 1u]) { inside = false; }
    io += i32(c) * mi(w + 2u); so += i32(c) * mi(w + 3u);
  }
  var acc = ${t}(0);
  if (inside) {
    let wa = 6u + ax * 4u;
    let is = mi(wa + 2u); let ss = mi(wa + 3u);
    let len = i32(prm[wa]);
    for (var j = 0; j < i32(prm[3]); j++) {
      let v = idx[io + j * is];
      if (v == k) { acc += src[so + j * ss]; }
      // The column's first output element also checks the range (every column has one).
      if (k == 0 && (v < 0 || v >= len)) { report(2u, ax, v, u32(len)); }
    }
  }
  y[i] = acc;
}`,
  );
  rt.dispatch(pipeline, [buf(index.storage), buf(src.storage), out, rt.status()], meta, Math.ceil(n / WG));
}

function scatterSorted(rt: GpuRuntime, index: View, src: View, axis: number, shape: readonly number[], out: GpuBuf, n: number, t: string): void {
  const r = shape.length;
  // Rows are the index positions over dims [0, c); dims [c, r) are broadcast in the index.
  let c = r;
  while (c > axis + 1 && (index.strides[c - 1] === 0 || index.shape[c - 1] === 1)) c--;
  const M = prod(index.shape.slice(0, c)),
    R = prod(shape.slice(0, c)),
    inner = n / R;
  const ors = contiguous(shape.slice(0, c));

  // 1. Each row's key (its target output row, R when its index is out of range) and value (src's
  //    offset of the row's first element).
  const keys = [rt.acquire(M * 4, 'scatterAdd keys'), rt.acquire(M * 4, 'scatterAdd keys')];
  const vals = [rt.acquire(M * 4, 'scatterAdd values'), rt.acquire(M * 4, 'scatterAdd values')];
  const km = [M, c, axis, shape[axis], R, index.offset, src.offset];
  for (let d = 0; d < c; d++) km.push(index.shape[d], u32(index.strides[d]), u32(src.strides[d]), ors[d]);
  const keyPipe = rt.pipeline(
    'scatterAdd.keys',
    () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;
@group(0) @binding(3) var<storage, read_write> vals: array<u32>;
${statusWgsl(4)}
${MAIN_1D}
  if (i >= prm[0]) { return; }
  let ax = prm[2];
  var io = mi(5u); var so = mi(6u); var key = 0u; var rem = i;
  for (var d = i32(prm[1]) - 1; d >= 0; d--) {
    let w = 7u + u32(d) * 4u;
    let q = rem % prm[w]; rem = rem / prm[w];
    io += i32(q) * mi(w + 1u); so += i32(q) * mi(w + 2u);
    if (u32(d) != ax) { key += q * prm[w + 3u]; }
  }
  let k = idx[io];
  let ok = k >= 0 && u32(k) < prm[3];
  keys[i] = select(prm[4], key + u32(k) * prm[7u + ax * 4u + 3u], ok);
  vals[i] = u32(so);
  if (!ok) { report(2u, ax, k, prm[3]); }
}`,
  );
  rt.dispatch(keyPipe, [buf(index.storage), keys[0], vals[0], rt.status()], km, Math.ceil(M / WG));

  // 2. Stable LSD radix sort by key, 8 bits a pass.
  const passes = Math.max(1, Math.ceil((32 - Math.clz32(R)) / 8));
  const cur = radixSort(rt, keys, vals, M, passes);

  // 3. Segment starts: starts[k] = first sorted row with key ≥ k, for k in [0, R].
  const starts = rt.acquire((R + 1) * 4, 'scatterAdd segments');
  const boundPipe = rt.pipeline(
    'scatterAdd.bounds',
    () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> starts: array<u32>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  var lo = 0u; var hi = prm[1];
  while (lo < hi) { let mid = (lo + hi) / 2u; if (keys[mid] < i) { lo = mid + 1u; } else { hi = mid; } }
  starts[i] = lo;
}`,
  );
  rt.dispatch(boundPipe, [keys[cur], starts], [R + 1, M], Math.ceil((R + 1) / WG));

  // 4. Each output element sums its row's segment in sorted (= original row) order.
  const om = [n, inner, r - c];
  for (let d = c; d < r; d++) om.push(shape[d], index.shape[d], u32(src.strides[d]));
  const sumPipe = rt.pipeline(
    `scatterAdd.sum:${t}`,
    () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> starts: array<u32>;
@group(0) @binding(2) var<storage, read> vals: array<u32>;
@group(0) @binding(3) var<storage, read> src: array<${t}>;
@group(0) @binding(4) var<storage, read_write> y: array<${t}>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  let row = i / prm[1];
  var q = i % prm[1]; var so = 0; var inside = true;
  for (var d = i32(prm[2]) - 1; d >= 0; d--) {
    let w = 3u + u32(d) * 3u;
    let c = q % prm[w]; q = q / prm[w];
    if (c >= prm[w + 1u]) { inside = false; }
    so += i32(c) * mi(w + 2u);
  }
  var acc = ${t}(0);
  if (inside) {
    let end = starts[row + 1u];
    for (var e = starts[row]; e < end; e++) { acc += src[i32(vals[e]) + so]; }
  }
  y[i] = acc;
}`,
  );
  rt.dispatch(sumPipe, [starts, vals[cur], buf(src.storage), out], om, Math.ceil(n / WG));
  for (const b of [...keys, ...vals, starts]) rt.release(b);
}

/** Elements per radix-sort block: one per thread of a 256-thread workgroup. */
const RADIX_BLOCK = 256;

/**
 * Stable LSD radix sort of (keys[0], vals[0]) by key, 8 bits per pass, ping-ponging between the two
 * buffers of each pair; returns which pair holds the result. Per pass: a per-block histogram
 * (workgroup atomics on integers: deterministic), an exclusive scan of it laid out digit-major (so
 * it gives each block's first slot for each digit), and a scatter where each element's rank among
 * its block's equal digits is counted over the earlier elements of the block (stable).
 */
function radixSort(rt: GpuRuntime, keys: GpuBuf[], vals: GpuBuf[], M: number, passes: number): number {
  const nb = Math.ceil(M / RADIX_BLOCK);
  const hist = rt.acquire(256 * nb * 4, 'radix sort histogram');
  const header = `${PRELUDE}
@compute @workgroup_size(${RADIX_BLOCK}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let b = wid.x + wid.y * nwg.x;
  let nb = prm[2];
  if (b >= nb) { return; }
  let i = b * ${RADIX_BLOCK}u + li;`;
  const histPipe = rt.pipeline(
    'radix.hist',
    () => `
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> hist: array<u32>;
var<workgroup> cnt: array<atomic<u32>, 256>;
${header}
  atomicStore(&cnt[li], 0u);
  workgroupBarrier();
  if (i < prm[0]) { atomicAdd(&cnt[(keys[i] >> prm[1]) & 255u], 1u); }
  workgroupBarrier();
  hist[li * nb + b] = atomicLoad(&cnt[li]);
}`,
  );
  const scatterPipe = rt.pipeline(
    'radix.scatter',
    () => `
@group(0) @binding(1) var<storage, read> keysIn: array<u32>;
@group(0) @binding(2) var<storage, read> valsIn: array<u32>;
@group(0) @binding(3) var<storage, read> hist: array<u32>;
@group(0) @binding(4) var<storage, read_write> keysOut: array<u32>;
@group(0) @binding(5) var<storage, read_write> valsOut: array<u32>;
var<workgroup> dig: array<u32, ${RADIX_BLOCK}>;
${header}
  var key = 0u; var d = 256u;
  if (i < prm[0]) { key = keysIn[i]; d = (key >> prm[1]) & 255u; }
  dig[li] = d;
  workgroupBarrier();
  if (i >= prm[0]) { return; }
  var rank = 0u;
  for (var j = 0u; j < li; j++) { rank += u32(dig[j] == d); }
  let dst = hist[d * nb + b] + rank;
  keysOut[dst] = key;
  valsOut[dst] = valsIn[i];
}`,
  );
  let cur = 0;
  for (let p = 0; p < passes; p++) {
    const meta = [M, 8 * p, nb];
    rt.dispatch(histPipe, [keys[cur], hist], meta, nb);
    scanExclusive(rt, hist, 256 * nb);
    rt.dispatch(scatterPipe, [keys[cur], vals[cur], hist, keys[1 - cur], vals[1 - cur]], meta, nb);
    cur = 1 - cur;
  }
  rt.release(hist);
  return cur;
}

/** Elements one workgroup scans: four per thread. */
const SCAN_BLOCK = 1024;

/** In-place exclusive prefix sum of n u32: scan each block, scan the block totals (recursively), add. */
function scanExclusive(rt: GpuRuntime, data: GpuBuf, n: number): void {
  const nb = Math.ceil(n / SCAN_BLOCK);
  const sums = rt.acquire(nb * 4, 'scan block sums');
  const blockPipe = rt.pipeline(
    'scan.blocks',
    () => `${PRELUDE}
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;
var<workgroup> s: array<u32, 256>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= prm[1]) { return; }
  let n = prm[0];
  let base = b * ${SCAN_BLOCK}u + li * 4u;
  var v = vec4u(0u);
  for (var k = 0u; k < 4u; k++) { if (base + k < n) { v[k] = data[base + k]; } }
  let t = v.x + v.y + v.z + v.w;
  // Hillis-Steele inclusive scan of the 256 thread totals.
  s[li] = t;
  workgroupBarrier();
  for (var off = 1u; off < 256u; off = off * 2u) {
    var add = 0u;
    if (li >= off) { add = s[li - off]; }
    workgroupBarrier();
    s[li] += add;
    workgroupBarrier();
  }
  var run = s[li] - t;
  for (var k = 0u; k < 4u; k++) { if (base + k < n) { data[base + k] = run; } run += v[k]; }
  if (li == 255u) { sums[b] = s[255]; }
}`,
  );
  rt.dispatch(blockPipe, [data, sums], [n, nb], nb);
  if (nb > 1) {
    scanExclusive(rt, sums, nb);
    const addPipe = rt.pipeline(
      'scan.add',
      () => `${PRELUDE}
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read> sums: array<u32>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  data[i] += sums[i / ${SCAN_BLOCK}u];
}`,
    );
    rt.dispatch(addPipe, [data, sums], [n], Math.ceil(n / WG));
  }
  rt.release(sums);
}

/** Joins the inputs along an axis: one dispatch per input, each copying into its slice of out. */
export function concatKernel(rt: GpuRuntime): Kernel<'concat'> {
  return (inputs, { axis }, out, outShape) => {
    const t = wgslType(out.dtype, 'concat');
    const ostr = contiguous(outShape);
    let pos = 0;
    for (const x of inputs) {
      // o0: x's element, o1: where it goes in out (out's strides over x's shape, from the slice start)
      const a = addressing(x.shape, [x, at(ostr, pos * ostr[axis])]);
      pos += x.shape[axis];
      if (a.meta[0] === 0) continue;
      const pipeline = rt.pipeline(
        `concat:${t}:${a.key}`,
        () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  ${a.wgsl}
  y[o1] = x[o0];
}`,
      );
      rt.dispatch(pipeline, [buf(x.storage), buf(out)], a.meta, Math.ceil(a.meta[0] / WG));
    }
  };
}

/** Constant padding in one pass: each output element reads x when inside it, else the value. */
export function padKernel(rt: GpuRuntime): Kernel<'pad'> {
  return ([x], { pads, value }, out, outShape) => {
    const t = wgslType(out.dtype, 'pad');
    const n = out.size;
    if (n === 0) return;
    const r = outShape.length;
    const meta = [n, r, x.offset, valueWord(value, out.dtype)];
    for (let d = 0; d < r; d++) meta.push(outShape[d], pads[d][0], x.shape[d], u32(x.strides[d]));
    const pipeline = rt.pipeline(
      `pad:${t}`,
      () => `${PRELUDE}
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
${MAIN_1D}
  if (i >= prm[0]) { return; }
  var rem = i; var off = mi(2u); var inside = true;
  for (var d = i32(prm[1]) - 1; d >= 0; d--) {
    let w = 4u + u32(d) * 4u;
    let c = i32(rem % prm[w]) - mi(w + 1u); rem = rem / prm[w];
    if (c < 0 || c >= mi(w + 2u)) { inside = false; }
    off += c * mi(w + 3u);
  }
  var v = ${valueRead(3, t)};
  if (inside) { v = x[off]; }
  y[i] = v;
}`,
    );
    rt.dispatch(pipeline, [buf(x.storage), buf(out)], meta, Math.ceil(n / WG));
  };
}

/**
 * Philox4x32-10 uniforms, bit-identical to tensor/philox.ts: value g (= counter + output index) is lane
 * g % 4 of the block with 64-bit counter g / 4, converted as (bits >> 8) · 2^-24 (exact in
 * float32). One thread per block, writing the up to four of its lanes that fall in the output.
 */
export function randomKernel(rt: GpuRuntime): Kernel<'random'> {
  return (_inputs, { key, counter, dtype }, out) => {
    if (wgslType(dtype, 'random') !== 'f32') throw new Error(`random: webgpu draws float32 only, got ${dtype}`);
    const n = out.size;
    if (n === 0) return;
    const block = Math.floor(counter / 4),
      lane0 = counter - block * 4;
    const threads = Math.ceil((lane0 + n) / 4);
    const meta = [n, lane0, threads, block >>> 0, Math.floor(block / 4294967296) >>> 0, key[0] >>> 0, key[1] >>> 0];
    const pipeline = rt.pipeline(
      'random:f32',
      () => `${PRELUDE}
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
// High 32 bits of the 64-bit product a·b from 16-bit halves (WGSL has no 64-bit integers).
fn mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl; let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
${MAIN_1D}
  if (i >= prm[2]) { return; }
  // 64-bit block counter: base + i with the carry into the high word.
  var c0 = prm[3] + i; var c1 = prm[4] + select(0u, 1u, c0 < prm[3]); var c2 = 0u; var c3 = 0u;
  var k0 = prm[5]; var k1 = prm[6];
  for (var r = 0; r < 10; r++) {
    let hi0 = mulhi(0xd2511f53u, c0); let lo0 = 0xd2511f53u * c0;
    let hi1 = mulhi(0xcd9e8d57u, c2); let lo1 = 0xcd9e8d57u * c2;
    c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0;
    k0 += 0x9e3779b9u; k1 += 0xbb67ae85u;
  }
  let v = vec4u(c0, c1, c2, c3);
  for (var l = 0u; l < 4u; l++) {
    let o = i * 4u + l; // position from the first lane of the first block
    if (o >= prm[1] && o - prm[1] < prm[0]) { y[o - prm[1]] = f32(v[l] >> 8u) * 5.9604644775390625e-8; }
  }
}`,
    );
    rt.dispatch(pipeline, [buf(out)], meta, Math.ceil(threads / WG));
  };
}
