// webgpu reductions (sum, max, argmax) and the fused softmax / log-softmax over the last axis.
//
// A reduction sees its input as a matrix [outer, R]: row `o` is an output element (the kept axes,
// row-major, which is the contiguous output order) and `r` runs over the reduced axes; both are
// turned into element offsets from their own collapsed dims and strides (meta), so reduced axes
// that are separated, permuted or broadcast need no copy. Two shapes of kernel:
//  - lanes: L threads (32..256) per row, each summing a strided slice of the row, then a tree in
//    workgroup memory. Adjacent lanes read adjacent elements when the reduced axes end in stride 1.
//  - thread: one thread per row, looping over the row; adjacent threads take adjacent rows, which
//    is coalesced when the reduction is over leading axes (a bias gradient of x·W: [B, C] over 0).
// When rows are long and few, each row is cut into S chunks reduced in parallel into partials
// [outer, S], then a second pass reduces those. Every split depends only on the shapes, and the
// order of additions is fixed: results are deterministic (no atomics).

import type { FusedKernels, Kernel, Storage, View } from '../backend.js';
import { buf, collapse, u32, wgslType } from './layout.js';
import { MAIN_1D, PRELUDE, WG, type GpuBuf, type GpuRuntime } from './runtime.js';

type Op = 'sum' | 'max' | 'argmax';
type WType = 'f32' | 'i32' | 'u32';

/** NaN-aware helpers (NaN and ∞ cannot be WGSL constants; `x != x` may be folded away). */
const HELPERS = /* wgsl */ `
fn nan_() -> f32 { return bitcast<f32>(0x7fc00000u | (prm[0] & 0u)); }
fn inf_() -> f32 { return bitcast<f32>(0x7f800000u | (prm[0] & 0u)); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// max that propagates NaN, as the js kernel (a NaN, once seen, stays)
fn max_(a: f32, b: f32) -> f32 { if (isnan_(a)) { return a; } if (isnan_(b)) { return b; } return max(a, b); }
`;

/** An [outer, R] view of the input: base offset, then kept and reduced dims with their strides. */
interface Rows {
  offset: number;
  outer: number;
  R: number;
  keptShape: number[];
  keptStrides: number[];
  redShape: number[];
  redStrides: number[];
}

function rowsOf(offset: number, keptShape: number[], keptStrides: number[], redShape: number[], redStrides: number[]): Rows {
  const k = collapse(keptShape, [keptStrides]),
    r = collapse(redShape, [redStrides]);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return { offset, outer: size(keptShape), R: size(redShape), keptShape: k.shape, keptStrides: k.strides[0], redShape: r.shape, redStrides: r.strides[0] };
}

/** meta: outer, R, S, chunk, offset, kept dims, kept strides, reduced dims, reduced strides. */
const KEPT_AT = 5;

/**
 * WGSL function `name(i) -> i32`: the element offset of linear index i over dims at meta[at..]
 * (sizes, then strides), peeling coordinates innermost first.
 */
function offsetFn(name: string, rank: number, at: number): string {
  if (rank === 0) return `fn ${name}(i: u32) -> i32 { return 0; }`;
  if (rank === 1) return `fn ${name}(i: u32) -> i32 { return i32(i) * mi(${at + 1}u); }`;
  const body: string[] = ['var rem = i;', 'var o = 0;'];
  for (let d = rank - 1; d > 0; d--) {
    body.push(`{ let n = prm[${at + d}u]; o += i32(rem % n) * mi(${at + rank + d}u); rem = rem / n; }`);
  }
  body.push(`o += i32(rem) * mi(${at + rank}u);`, 'return o;');
  return `fn ${name}(i: u32) -> i32 {\n  ${body.join('\n  ')}\n}`;
}

/**
 * The accumulator of an op over element type T: its WGSL type, identity, and how a value `v` at
 * index `r` is folded into (a, ai). argmax keeps (value, index) and breaks ties by the lower index
 * explicitly, because a tree combines slices whose indices interleave.
 */
function accumulator(op: Op, t: WType) {
  const acc: WType = op === 'sum' && t === 'u32' ? 'i32' : t; // bool sums count into int32
  const lowest = t === 'f32' ? '-inf_()' : t === 'i32' ? 'bitcast<i32>(0x80000000u)' : '0u';
  const id = op === 'sum' ? `${acc}(0)` : lowest;
  // does (bv, bi) replace (av, ai)? NaN wins (the first one), then the larger value, then the lower index
  const better =
    t === 'f32'
      ? 'fn better(av: f32, ai: i32, bv: f32, bi: i32) -> bool { let an = isnan_(av); let bn = isnan_(bv); if (an || bn) { return bn && (!an || bi < ai); } return bv > av || (bv == av && bi < ai); }'
      : `fn better(av: ${t}, ai: i32, bv: ${t}, bi: i32) -> bool { return bv > av || (bv == av && bi < ai); }`;
  const combine =
    op === 'sum'
      ? 'fn comb(a: ACC, b: ACC) -> ACC { return a + b; }'
      : t === 'f32'
        ? 'fn comb(a: f32, b: f32) -> f32 { return max_(a, b); }'
        : `fn comb(a: ${t}, b: ${t}) -> ${t} { return max(a, b); }`;
  return { acc, id, fns: (op === 'argmax' ? better : combine).replace(/ACC/g, acc) };
}

interface Pass {
  op: Op;
  /** element type of the input (and of argmax partial values) */
  t: WType;
  rows: Rows;
  /** chunks per row (partials when > 1) */
  S: number;
  chunk: number;
  /** lanes per row, or 1 for a thread per row */
  lanes: number;
  /** argmax reading partials: the candidate index comes from a second input at the same offset */
  idxIn: boolean;
}

/** The kernel of one pass; see the file comment for the two shapes. */
function passWgsl(p: Pass): string {
  const { op, t, rows, lanes } = p;
  const a = accumulator(op, t);
  const k = rows.keptShape.length,
    q = rows.redShape.length,
    redAt = KEPT_AT + 2 * k;
  const arg = op === 'argmax';
  const partial = p.S > 1;
  // bindings: x, [x indices], y, [y indices]
  const outT = arg && !partial ? 'i32' : a.acc;
  let bind = 1;
  const decl = [`@group(0) @binding(${bind++}) var<storage, read> xs: array<${t}>;`];
  if (p.idxIn) decl.push(`@group(0) @binding(${bind++}) var<storage, read> xis: array<i32>;`);
  decl.push(`@group(0) @binding(${bind++}) var<storage, read_write> ys: array<${outT}>;`);
  if (arg && partial) decl.push(`@group(0) @binding(${bind++}) var<storage, read_write> yis: array<i32>;`);
  const load = op === 'sum' ? `${a.acc}(xs[o])` : 'xs[o]';
  const index = p.idxIn ? 'xis[o]' : 'i32(r)';
  const fold = arg ? `{ let v = xs[o]; let vi = ${index}; if (better(a, ai, v, vi)) { a = v; ai = vi; } }` : `a = comb(a, ${load});`;
  const write = arg ? (partial ? 'ys[at] = A; yis[at] = AI;' : 'ys[at] = AI;') : 'ys[at] = A;';
  const head = `${PRELUDE}${HELPERS}
${decl.join('\n')}
${a.fns}
${offsetFn('rowOff', k, KEPT_AT)}
${offsetFn('redOff', q, redAt)}`;
  // The chunk of row `row` this invocation reduces: [start, end) of the R reduced elements.
  const span = `let S = prm[2];
  let row = u / S;
  let split = u % S;
  let start = split * prm[3];
  var end = min(prm[1], start + prm[3]);
  let base = mi(4u) + rowOff(row);
  var a = ${a.id};
  var ai = 0x7fffffff;`;
  if (lanes === 1) {
    // One thread per (row, chunk), chunk-major so that adjacent threads take adjacent rows.
    return `${head}
${MAIN_1D}
  let units = prm[0] * prm[2];
  if (i >= units) { return; }
  let u = (i % prm[0]) * prm[2] + i / prm[0];
  ${span}
  for (var r = start; r < end; r++) {
    let o = base + redOff(r);
    ${fold}
  }
  let at = u;
  ${write.replace(/\bAI\b/g, 'ai').replace(/\bA\b/g, 'a')}
}`;
  }
  // `lanes` threads per (row, chunk): strided partial results, then a tree in workgroup memory.
  // The tree's shape is fixed by `lanes`, so the order of additions is too.
  return `${head}
var<workgroup> sv: array<${a.acc}, ${WG}>;
${arg ? `var<workgroup> si: array<i32, ${WG}>;` : ''}
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let lane = t % ${lanes}u;
  let u = (wid.x + wid.y * nwg.x) * ${WG / lanes}u + t / ${lanes}u;
  let live = u < prm[0] * prm[2];
  ${span}
  if (!live) { end = 0u; }
  for (var r = start + lane; r < end; r += ${lanes}u) {
    let o = base + redOff(r);
    ${fold}
  }
  sv[t] = a;
  ${arg ? 'si[t] = ai;' : ''}
  workgroupBarrier();
  for (var s = ${lanes >> 1}u; s > 0u; s >>= 1u) {
    if (lane < s) {
      ${arg ? 'if (better(sv[t], si[t], sv[t + s], si[t + s])) { sv[t] = sv[t + s]; si[t] = si[t + s]; }' : 'sv[t] = comb(sv[t], sv[t + s]);'}
    }
    workgroupBarrier();
  }
  if (lane == 0u && live) {
    let at = u;
    ${write.replace(/\bAI\b/g, 'si[t]').replace(/\bA\b/g, 'sv[t]')}
  }
}`;
}

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Lanes per row (1: a thread per row), and chunks per row. */
function schedule(rows: Rows, allowSplit: boolean): { lanes: number; S: number; chunk: number } {
  const { outer, R } = rows;
  const redInner = rows.redStrides.length ? Math.abs(rows.redStrides[rows.redStrides.length - 1]) : 1;
  const keptInner = rows.keptStrides.length ? Math.abs(rows.keptStrides[rows.keptStrides.length - 1]) : 0;
  // Lanes when rows are long enough to share, unless the rows are strided while neighbouring rows
  // are adjacent in memory (a reduction over leading axes): then a thread per row reads coalesced,
  // as soon as there are rows enough for a warp (chunks add parallelism below).
  const wide = R >= 64 && (redInner === 1 || keptInner !== 1 || outer < 32);
  let S = 1;
  if (allowSplit) {
    // Enough parallel work for a large GPU (~1024 workgroups, or ~32k threads), but chunks of at
    // least 4096 elements per workgroup (16 per lane) or 256 per thread.
    S = wide ? Math.min(Math.ceil(R / 4096), Math.ceil(1024 / outer)) : Math.min(Math.ceil(R / 256), Math.ceil(32768 / outer));
    S = Math.max(1, S);
  }
  const chunk = Math.ceil(R / S);
  S = Math.ceil(R / chunk); // no empty chunk
  const lanes = wide ? Math.min(WG, Math.max(32, nextPow2(Math.ceil(chunk / 8)))) : 1;
  return { lanes, S, chunk };
}

function runPass(rt: GpuRuntime, p: Pass, inputs: GpuBuf[], outputs: GpuBuf[]): void {
  const { rows } = p;
  const k = rows.keptShape.length,
    q = rows.redShape.length;
  const key = `reduce:${p.op}:${p.t}:${k},${q}:${p.lanes}:${p.S > 1 ? 'p' : 'f'}${p.idxIn ? 'i' : ''}`;
  const pipeline = rt.pipeline(key, () => passWgsl(p));
  const meta = [rows.outer, rows.R, p.S, p.chunk, u32(rows.offset), ...rows.keptShape, ...rows.keptStrides.map(u32), ...rows.redShape, ...rows.redStrides.map(u32)];
  const units = rows.outer * p.S;
  const groups = p.lanes === 1 ? Math.ceil(units / WG) : Math.ceil(units / (WG / p.lanes));
  rt.dispatch(pipeline, [...inputs, ...outputs], meta, groups);
}

/** The value an empty reduction gives, as the js kernels (max: −∞, which an int32 stores as 0). */
function fillEmpty(rt: GpuRuntime, op: Op, out: Storage): void {
  const n = out.size;
  const data = out.dtype === 'float32' ? new Float32Array(n).fill(op === 'max' ? -Infinity : 0) : out.dtype === 'int32' ? new Int32Array(n) : new Uint32Array(n);
  rt.write(buf(out), data);
}

function reduce(rt: GpuRuntime, op: Op, x: View, axes: readonly number[], out: Storage): void {
  const t = wgslType(x.dtype, op);
  if (out.size === 0) return;
  const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  let red = [...axes].sort((a, b) => a - b);
  if (red.some((d) => x.shape[d] === 0)) return fillEmpty(rt, op, out);
  // sum and max may visit the reduced elements in any fixed order: smallest stride innermost, so
  // the lanes of a row read adjacent elements even in a permuted view. (argmax has one axis.)
  if (op !== 'argmax') red = red.sort((a, b) => Math.abs(x.strides[b]) - Math.abs(x.strides[a]));
  const rows = rowsOf(
    x.offset,
    kept.map((d) => x.shape[d]),
    kept.map((d) => x.strides[d]),
    red.map((d) => x.shape[d]),
    red.map((d) => x.strides[d]),
  );
  const s = schedule(rows, true);
  const first: Pass = { op, t, rows, ...s, idxIn: false };
  if (s.S === 1) return runPass(rt, first, [buf(x.storage)], [buf(out)]);
  // Two passes: partials [outer, S] (argmax: values and indices), then their rows.
  const acc = accumulator(op, t).acc;
  const n = rows.outer * s.S;
  const vals = rt.acquire(n * 4, `${op} partials`);
  const idx = op === 'argmax' ? rt.acquire(n * 4, `${op} partial indices`) : null;
  try {
    runPass(rt, first, [buf(x.storage)], idx ? [vals, idx] : [vals]);
    const rows2 = rowsOf(0, [rows.outer], [s.S], [s.S], [1]);
    const s2 = schedule(rows2, false);
    runPass(rt, { op, t: op === 'sum' ? acc : t, rows: rows2, ...s2, idxIn: !!idx }, idx ? [vals, idx] : [vals], [buf(out)]);
  } finally {
    // back to the pool at once: later commands that reuse them are recorded after these
    rt.release(vals);
    if (idx) rt.release(idx);
  }
}

export const sumKernel =
  (rt: GpuRuntime): Kernel<'sum'> =>
  ([x], { axes }, out) =>
    reduce(rt, 'sum', x, axes, out);
export const maxKernel =
  (rt: GpuRuntime): Kernel<'max'> =>
  ([x], { axes }, out) =>
    reduce(rt, 'max', x, axes, out);
export const argmaxKernel =
  (rt: GpuRuntime): Kernel<'argmax'> =>
  ([x], { axis }, out) =>
    reduce(rt, 'argmax', x, [axis], out);

/** Values of a row each lane keeps in registers, so rows up to lanes × CACHE are read once. */
const CACHE = 8;

/**
 * softmax / log-softmax over the last axis, `lanes` threads per row: max (a tree), Σ e^(x − max)
 * (a tree), then the outputs. The formulas and their order are the composed versions'
 * (e / Σe; (x − max) − log Σe), with one difference that keeps masked entries exact: a row whose
 * max is −∞ uses 0 instead, so e^(−∞ − 0) = 0 and the row still comes out NaN (0/0, −∞ + ∞).
 */
function softmaxWgsl(rank: number, lanes: number, cached: boolean, log: boolean): string {
  const G = WG / lanes;
  const tree = (f: string) => `sv[t] = acc;
  workgroupBarrier();
  for (var s = ${lanes >> 1}u; s > 0u; s >>= 1u) {
    if (lane < s) { sv[t] = ${f}; }
    workgroupBarrier();
  }
  let total = sv[t - lane];
  workgroupBarrier(); // everyone has read the total before sv is reused`;
  const x = (j: string) => `xs[base + i32(${j}) * st]`;
  // Each pass over the row: from registers when cached, else from memory again.
  const over = (body: (v: string) => string) =>
    cached
      ? `for (var c = 0u; c < ${CACHE}u; c++) { let j = lane + c * ${lanes}u; if (j < end) { ${body('v[c]')} } }`
      : `for (var j = lane; j < end; j += ${lanes}u) { ${body(x('j'))} }`;
  const result = (v: string) => (log ? `(${v} - m) - ls` : `ex(${v} - m) / total`);
  return `${PRELUDE}${HELPERS}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
var<workgroup> sv: array<f32, ${WG}>;
// e^d with e^(−∞) = 0 exactly, whatever the driver's exp does at −∞
fn ex(d: f32) -> f32 { return select(exp(d), 0.0, d < -3.0e38); }
fn log_(x: f32) -> f32 { if (x == 0.0) { return -inf_(); } return log(x); }
${offsetFn('rowOff', rank, 4)}
// meta: rows, n, offset, stride of the last axis, leading dims, their strides
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let lane = t % ${lanes}u;
  let row = (wid.x + wid.y * nwg.x) * ${G}u + t / ${lanes}u;
  let n = prm[1];
  let end = select(0u, n, row < prm[0]);
  let base = mi(2u) + rowOff(row);
  let st = mi(3u);
  ${
    cached
      ? `var v: array<f32, ${CACHE}>;
  for (var c = 0u; c < ${CACHE}u; c++) { let j = lane + c * ${lanes}u; if (j < end) { v[c] = ${x('j')}; } }`
      : ''
  }
  var acc = -inf_();
  ${over((v) => `acc = max_(acc, ${v});`)}
  ${tree('max_(sv[t], sv[t + s])')}
  let m = select(total, 0.0, total == -inf_());
  acc = 0.0;
  ${over((v) => `acc += ex(${v} - m);`)}
  {
  ${tree('sv[t] + sv[t + s]')}
  ${log ? 'let ls = log_(total);' : ''}
  let out = row * n;
  ${over((v) => `ys[out + j] = ${result(v)};`)}
  }
}`;
}

export const fusedSoftmax =
  (rt: GpuRuntime): NonNullable<FusedKernels['softmax']> =>
  (x: View, out: Storage, log: boolean): boolean => {
    if (x.dtype !== 'float32' || x.shape.length === 0) return false;
    const r = x.shape.length - 1,
      n = x.shape[r];
    if (n === 0) return false;
    if (out.size === 0) return true;
    const lead = collapse(x.shape.slice(0, r), [x.strides.slice(0, r)]);
    const rows = out.size / n;
    // ~4 elements per lane: short rows share a workgroup, long rows get all of it
    const lanes = Math.min(WG, nextPow2(Math.ceil(n / 4)));
    const cached = n <= lanes * CACHE;
    const rank = lead.shape.length;
    const key = `softmax:${log ? 'log' : 'exp'}:${rank}:${lanes}:${cached ? 'c' : 'm'}`;
    const pipeline = rt.pipeline(key, () => softmaxWgsl(rank, lanes, cached, log));
    const meta = [rows, n, u32(x.offset), u32(x.strides[r]), ...lead.shape, ...lead.strides[0].map(u32)];
    rt.dispatch(pipeline, [buf(x.storage), buf(out)], meta, Math.ceil(rows / (WG / lanes)));
    return true;
  };
