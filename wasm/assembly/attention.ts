// Fused scaled-dot-product attention, forward and backward, one (batch·head) matrix at a time (the
// unit a thread takes in tasks.ts). The L×S scores of a unit sit in the thread's scratch; the
// forward saves each row's logsumexp and the backward recomputes P from it, so no L×S tensor is
// kept between them:
//   S = Q·Kᵀ·scale (+ causal mask), P = softmax(S), O = P·V, lse = m + log Σe^(S − m)
//   dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(dP∘P))·scale, dQ = dS·K, dK = dSᵀ·Q
// Causal is the top-left triangle (query i sees keys 0..i), as the composed path's mask.
//
// The products are small (a head is T×D, D ≤ 128 or so), so they skip GEMM's packing: a 4×8
// register tile reads A through any strides (one broadcast load per element) and B from rows with
// contiguous columns (Kᵀ and Vᵀ are transposed into scratch once per unit; an operand whose columns
// are strided is copied). Causal products run in strips of 4 query rows (or 4 keys), each only over
// the keys (queries) it sees. Every output element is a sum over k ascending by one thread.

import { madd } from './fma';
import { exp4 } from './mathf';
import { storeTransposed4 } from './shuffle';

/** Rows of the register tile: the strip height of causal products. */
const MR: i32 = 4;

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Element (i, j) of a matrix with element strides rs, cs (negative strides wrap, as wasm32 addresses do). */
// @ts-ignore: decorator
@inline function el(base: usize, i: i32, rs: i32, j: i32, cs: i32): usize {
  return base + (<usize>(i * rs + j * cs) << 2);
}

// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/**
 * C[0:4, 0:8] = A[0:4, 0:K]·B[0:K, 0:8]; A's rows 1..3 start at byte offsets a1..a3 from row 0 and
 * step acs bytes along K, B's rows are ldb bytes apart, C's ldc. Four rows: 8 accumulators, 2 B
 * vectors and 4 broadcasts fit V8's 15 XMM registers (a 6-row tile spilled and ran at half speed).
 */
function tile4x8(a: usize, a1: usize, a2: usize, a3: usize, acs: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(a + a1);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(a + a2);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(a + a3);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    a += acs;
    b += ldb;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/**
 * C[M, N] = A[M, K]·B[K, N]: A with element strides (aRs, aCs), B with contiguous columns and
 * rows ldb floats apart, C rows ldc floats apart. K = 0 gives zeros. The last M % 4 rows run as a
 * full tile (repeating the last row) into `edge` (4×8 floats), then copied.
 */
function mm(a: usize, aRs: i32, aCs: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, edge: usize): void {
  const n8 = N & ~7;
  const ars = <usize>aRs << 2, acs = <usize>aCs << 2, lb = <usize>ldb << 2, lc = <usize>ldc << 2;
  let i = 0;
  for (; i + MR <= M; i += MR) {
    const ai = el(a, i, aRs, 0, 0), ci = c + <usize>i * lc;
    for (let j = 0; j < n8; j += 8) tile4x8(ai, ars, 2 * ars, 3 * ars, acs, at(b, j), lb, ci + (<usize>j << 2), lc, K);
  }
  if (i < M) {
    const r = M - i, ai = el(a, i, aRs, 0, 0), ci = c + <usize>i * lc;
    const last = <usize>(r - 1);
    const o1 = min<usize>(1, last) * ars, o2 = min<usize>(2, last) * ars;
    for (let j = 0; j < n8; j += 8) {
      tile4x8(ai, o1, o2, last * ars, acs, at(b, j), lb, edge, 32, K);
      for (let ii = 0; ii < r; ii++) {
        const d = ci + <usize>ii * lc + (<usize>j << 2), e = edge + (<usize>ii << 5);
        v128.store(d, v128.load(e));
        v128.store(d, v128.load(e, 16), 16);
      }
    }
  }
  for (let j = n8; j < N; j++) {
    for (i = 0; i < M; i++) {
      let s: f32 = 0;
      for (let k = 0; k < K; k++) s += load<f32>(el(a, i, aRs, k, aCs)) * load<f32>(el(b, k, ldb, j, 1));
      store<f32>(c + <usize>i * lc + (<usize>j << 2), s);
    }
  }
}

/** Bytes of the edge tile at the start of a thread's scratch. */
const EDGE: usize = 256;

/** Floats of scratch, rounded up to 64 bytes. */
// @ts-ignore: decorator
@inline function block(floats: i32): usize {
  return (<usize>floats * 4 + 63) & ~(<usize>63);
}

/** Bytes of scratch one thread needs: P and dP (L×S), Kᵀ and Vᵀ, and contiguous copies of q, k, v, g. */
export function attentionScratchBytes(L: i32, S: i32, E: i32, EV: i32): i32 {
  return <i32>(EDGE + 2 * block(L * S) + block(E * S) + block(EV * S) + block(L * E) + block(S * E) + block(S * EV) + block(L * EV)) + 64;
}

/** The matrix x [rows, cols] (strides rs, cs) as rows with contiguous columns: itself, or a copy in `tmp`. */
function rowMajor(x: usize, rs: i32, cs: i32, rows: i32, cols: i32, tmp: usize): usize {
  if (cs == 1 || cols == 1) return x;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) store<f32>(at(tmp, i * cols + j), load<f32>(el(x, i, rs, j, cs)));
  }
  return tmp;
}

/** Row stride of rowMajor's result. */
// @ts-ignore: decorator
@inline function rowMajorLd(rs: i32, cs: i32, cols: i32): i32 {
  return cs == 1 || cols == 1 ? rs : cols;
}

/** xᵀ [cols, rows] contiguous in tmp, for x [rows, cols] with strides rs, cs: 4×4 blocks in registers where columns are contiguous. */
function transpose(x: usize, rs: i32, cs: i32, rows: i32, cols: i32, tmp: usize): void {
  const r4 = cs == 1 ? rows & ~3 : 0, c4 = cols & ~3;
  for (let i = 0; i < r4; i += 4) {
    for (let j = 0; j < c4; j += 4) {
      const a = el(x, i, rs, j, 1), ld = <usize>rs << 2;
      storeTransposed4(v128.load(a), v128.load(a + ld), v128.load(a + 2 * ld), v128.load(a + 3 * ld), at(tmp, j * rows + i), <usize>rows << 2);
    }
    for (let j = c4; j < cols; j++) {
      for (let ii = i; ii < i + 4; ii++) store<f32>(at(tmp, j * rows + ii), load<f32>(el(x, ii, rs, j, 1)));
    }
  }
  for (let i = r4; i < rows; i++) {
    for (let j = 0; j < cols; j++) store<f32>(at(tmp, j * rows + i), load<f32>(el(x, i, rs, j, cs)));
  }
}

/** Keys query row i sees. */
// @ts-ignore: decorator
@inline function seen(i: i32, S: i32, causal: bool): i32 {
  return causal ? min(S, i + 1) : S;
}

/** Rows per strip: causal products are cut into strips of MR rows, others are one strip. */
// @ts-ignore: decorator
@inline function strip(causal: bool, n: i32): i32 {
  return causal ? MR : n;
}

/**
 * P[L, S] = A·Bᵀ-like products row strip by row strip: rows of x (strides xRs, xCs) times the
 * contiguous transposed operand t [D, S]; a causal strip ending before i1 stops at key i1.
 */
function scores(x: usize, xRs: i32, xCs: i32, t: usize, p: usize, L: i32, S: i32, D: i32, causal: bool, edge: usize): void {
  const rb = strip(causal, L);
  for (let i0 = 0; i0 < L; i0 += rb) {
    const i1 = min(L, i0 + rb);
    // keys up to i1, rounded up to whole 8-wide tiles (the extra scores are masked afterwards)
    mm(el(x, i0, xRs, 0, 0), xRs, xCs, t, S, at(p, i0 * S), S, i1 - i0, causal ? min(S, (i1 + 7) & ~7) : S, D, edge);
  }
}

/** Row i of the scores from its first unseen key to the end, set to 0. */
// @ts-ignore: decorator
@inline function zeroTail(pr: usize, jn: i32, S: i32): void {
  if (jn < S) memory.fill(at(pr, jn), 0, <usize>(S - jn) << 2);
}

/**
 * One unit of the forward: out [L, EV] (rows ldo floats apart, contiguous columns) and lse [L].
 * q, k, v are the unit's matrices with element strides (rows, columns); scratch as
 * attentionScratchBytes.
 */
export function attentionForward(q: usize, qRs: i32, qCs: i32, k: usize, kRs: i32, kCs: i32, v: usize, vRs: i32, vCs: i32,
  out: usize, ldo: i32, lse: usize, L: i32, S: i32, E: i32, EV: i32, scale: f32, causal: bool, scratch: usize): void {
  // scratch as the backward's: edge, P, (dP), Kᵀ, (Vᵀ), (k), v, (q, g)
  const edge = (scratch + 63) & ~(<usize>63), p = edge + EDGE, kt = p + 2 * block(L * S);
  const vc = kt + block(E * S) + block(EV * S) + block(S * E);
  transpose(k, kRs, kCs, S, E, kt);
  scores(q, qRs, qCs, kt, p, L, S, E, causal, edge);
  const vscale = f32x4.splat(scale);
  for (let i = 0; i < L; i++) {
    const pr = at(p, i * S), jn = seen(i, S, causal);
    // max of the scaled scores (NaN propagates)
    let vm = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= jn; j += 4) vm = f32x4.max(vm, f32x4.mul(v128.load(at(pr, j)), vscale));
    let m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
    for (; j < jn; j++) m = max(m, load<f32>(at(pr, j)) * scale);
    if (m == -Infinity) m = 0; // a row of −∞ scores: NaN weights, as the composed softmax
    const vmax = f32x4.splat(m);
    let vs = f32x4.splat(0);
    for (j = 0; j + 4 <= jn; j += 4) {
      const e = exp4(f32x4.sub(f32x4.mul(v128.load(at(pr, j)), vscale), vmax));
      v128.store(at(pr, j), e);
      vs = f32x4.add(vs, e);
    }
    let s = (f32x4.extract_lane(vs, 0) + f32x4.extract_lane(vs, 1)) + (f32x4.extract_lane(vs, 2) + f32x4.extract_lane(vs, 3));
    for (; j < jn; j++) {
      const e = exp1(load<f32>(at(pr, j)) * scale - m);
      store<f32>(at(pr, j), e);
      s += e;
    }
    const inv = <f32>1 / s, vinv = f32x4.splat(inv);
    for (j = 0; j + 4 <= jn; j += 4) v128.store(at(pr, j), f32x4.mul(v128.load(at(pr, j)), vinv));
    for (; j < jn; j++) store<f32>(at(pr, j), load<f32>(at(pr, j)) * inv);
    zeroTail(pr, jn, S);
    store<f32>(at(lse, i), m + <f32>Math.log(<f64>s));
  }
  // O = P·V, each strip of rows over the keys it sees
  const vb = rowMajor(v, vRs, vCs, S, EV, vc), ldv = rowMajorLd(vRs, vCs, EV);
  const rb = strip(causal, L);
  for (let i0 = 0; i0 < L; i0 += rb) {
    const i1 = min(L, i0 + rb);
    mm(at(p, i0 * S), S, 1, vb, ldv, at(out, i0 * ldo), ldo, i1 - i0, EV, causal ? min(S, i1) : S, edge);
  }
}

/**
 * One unit of the backward: dq [L, E], dk [S, E], dv [S, EV] (rows ldq, ldk, ldv floats apart,
 * contiguous columns) from q, k, v, the incoming gradient g [L, EV] (strided) and the saved lse [L].
 */
export function attentionBackward(q: usize, qRs: i32, qCs: i32, k: usize, kRs: i32, kCs: i32, v: usize, vRs: i32, vCs: i32,
  g: usize, gRs: i32, gCs: i32, lse: usize, dq: usize, ldDq: i32, dk: usize, ldDk: i32, dv: usize, ldDv: i32,
  L: i32, S: i32, E: i32, EV: i32, scale: f32, causal: bool, scratch: usize): void {
  const edge = (scratch + 63) & ~(<usize>63), p = edge + EDGE, dp = p + block(L * S);
  const kt = dp + block(L * S), vt = kt + block(E * S), kc = vt + block(EV * S);
  const qc = kc + block(S * E) + block(S * EV), gc = qc + block(L * E); // v's copy sits before qc
  // P again, from the saved logsumexp
  transpose(k, kRs, kCs, S, E, kt);
  scores(q, qRs, qCs, kt, p, L, S, E, causal, edge);
  const vscale = f32x4.splat(scale);
  for (let i = 0; i < L; i++) {
    const pr = at(p, i * S), jn = seen(i, S, causal);
    const l = load<f32>(at(lse, i)), vl = f32x4.splat(l);
    let j = 0;
    for (; j + 4 <= jn; j += 4) v128.store(at(pr, j), exp4(f32x4.sub(f32x4.mul(v128.load(at(pr, j)), vscale), vl)));
    for (; j < jn; j++) store<f32>(at(pr, j), exp1(load<f32>(at(pr, j)) * scale - l));
    zeroTail(pr, jn, S);
  }
  // dP = dO·Vᵀ, as the scores
  transpose(v, vRs, vCs, S, EV, vt);
  scores(g, gRs, gCs, vt, dp, L, S, EV, causal, edge);
  // dS = P∘(dP − Σ_j dP∘P)·scale, in place of dP; 0 past the keys a row sees
  for (let i = 0; i < L; i++) {
    const pr = at(p, i * S), dr = at(dp, i * S), jn = seen(i, S, causal);
    let vd = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= jn; j += 4) vd = f32x4.add(vd, f32x4.mul(v128.load(at(dr, j)), v128.load(at(pr, j))));
    let d = (f32x4.extract_lane(vd, 0) + f32x4.extract_lane(vd, 1)) + (f32x4.extract_lane(vd, 2) + f32x4.extract_lane(vd, 3));
    for (; j < jn; j++) d += load<f32>(at(dr, j)) * load<f32>(at(pr, j));
    const vD = f32x4.splat(d);
    for (j = 0; j + 4 <= jn; j += 4) {
      v128.store(at(dr, j), f32x4.mul(f32x4.mul(v128.load(at(pr, j)), f32x4.sub(v128.load(at(dr, j)), vD)), vscale));
    }
    for (; j < jn; j++) store<f32>(at(dr, j), (load<f32>(at(pr, j)) * (load<f32>(at(dr, j)) - d)) * scale);
    zeroTail(dr, jn, S);
  }
  // dQ = dS·K: each strip of query rows over the keys it sees
  const kb = rowMajor(k, kRs, kCs, S, E, kc), ldk = rowMajorLd(kRs, kCs, E);
  const rb = strip(causal, L);
  for (let i0 = 0; i0 < L; i0 += rb) {
    const i1 = min(L, i0 + rb);
    mm(at(dp, i0 * S), S, 1, kb, ldk, at(dq, i0 * ldDq), ldDq, i1 - i0, E, causal ? min(S, i1) : S, edge);
  }
  // dV = Pᵀ·dO and dK = dSᵀ·Q: each strip of keys over the queries that see them (i ≥ j0)
  const qb = rowMajor(q, qRs, qCs, L, E, qc), ldq = rowMajorLd(qRs, qCs, E);
  const gb = rowMajor(g, gRs, gCs, L, EV, gc), ldg = rowMajorLd(gRs, gCs, EV);
  const jb = strip(causal, S);
  for (let j0 = 0; j0 < S; j0 += jb) {
    const j1 = min(S, j0 + jb), i0 = causal ? min(L, j0) : 0;
    mm(at(p, i0 * S + j0), 1, S, el(gb, i0, ldg, 0, 0), ldg, at(dv, j0 * ldDv), ldDv, j1 - j0, EV, L - i0, edge);
    mm(at(dp, i0 * S + j0), 1, S, el(qb, i0, ldq, 0, 0), ldq, at(dk, j0 * ldDk), ldDk, j1 - j0, E, L - i0, edge);
  }
}
