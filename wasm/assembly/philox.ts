// Philox4x32-10, bit for bit the js backend's philox.ts: uniform [0, 1) float32 values number
// counter .. counter + n - 1 of the stream keyed by (k0, k1); value g is lane g % 4 of block g / 4.
// Four blocks at a time in SIMD lanes (64-bit products from extended multiplies), scalar at the ends.

// @ts-ignore: decorator
@inline function mulhi(a: u32, b: u32): u32 { return <u32>((<u64>a * <u64>b) >> 32); }

const M0: u32 = 0xd2511f53, M1: u32 = 0xcd9e8d57, W0: u32 = 0x9e3779b9, W1: u32 = 0xbb67ae85;
const SCALE: f32 = 5.9604644775390625e-8; // 2^-24

// @ts-ignore: decorator
@inline function toUnit(w: u32): f32 { return <f32>(<f64>(w >>> 8) * 5.9604644775390625e-8); }

export function philox_uniform_f32(k0: u32, k1: u32, counter: f64, out: usize, n: i32): void {
  // Scalar up to the first block boundary.
  const head = <i32>((4 - (counter % 4)) % 4);
  let i = scalarFrom(k0, k1, counter, out, 0, min(n, head));
  // Four blocks (16 values) per iteration while the low counter word does not wrap.
  const mul0 = i32x4.splat(M0), mul1 = i32x4.splat(M1);
  while (i + 16 <= n) {
    const blk = (counter + <f64>i) / 4;
    const lo = blk % 4294967296;
    if (lo + 4 > 4294967296) break;
    let c0 = i32x4.add(i32x4.splat(<i32><u32><u64>lo), i32x4(0, 1, 2, 3));
    let c1 = i32x4.splat(<i32><u32><u64>Math.floor(blk / 4294967296));
    let c2 = i32x4.splat(0), c3 = i32x4.splat(0);
    let key0 = k0, key1 = k1;
    for (let r = 0; r < 10; r++) {
      // 64-bit products of the 32-bit lanes: low and high halves gathered back into four lanes.
      const p0l = i64x2.extmul_low_i32x4_u(mul0, c0), p0h = i64x2.extmul_high_i32x4_u(mul0, c0);
      const p1l = i64x2.extmul_low_i32x4_u(mul1, c2), p1h = i64x2.extmul_high_i32x4_u(mul1, c2);
      const hi0 = v128.shuffle<i32>(p0l, p0h, 1, 3, 5, 7), lo0 = v128.shuffle<i32>(p0l, p0h, 0, 2, 4, 6);
      const hi1 = v128.shuffle<i32>(p1l, p1h, 1, 3, 5, 7), lo1 = v128.shuffle<i32>(p1l, p1h, 0, 2, 4, 6);
      c0 = v128.xor(v128.xor(hi1, c1), i32x4.splat(key0));
      c1 = lo1;
      c2 = v128.xor(v128.xor(hi0, c3), i32x4.splat(key1));
      c3 = lo0;
      key0 += W0; key1 += W1;
    }
    // Lane j of c_l is word l of block j; values go out block by block: transpose 4x4.
    const t0 = v128.shuffle<i32>(c0, c1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(c2, c3, 0, 4, 1, 5);
    const t2 = v128.shuffle<i32>(c0, c1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(c2, c3, 2, 6, 3, 7);
    const b0 = v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), b1 = v128.shuffle<i32>(t0, t1, 2, 3, 6, 7);
    const b2 = v128.shuffle<i32>(t2, t3, 0, 1, 4, 5), b3 = v128.shuffle<i32>(t2, t3, 2, 3, 6, 7);
    const scale = f32x4.splat(SCALE);
    const o = out + (<usize>i << 2);
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(b0, 8)), scale));
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(b1, 8)), scale), 16);
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(b2, 8)), scale), 32);
    v128.store(o, f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(b3, 8)), scale), 48);
    i += 16;
  }
  scalarFrom(k0, k1, counter + <f64>i, out, i, n);
}

/** Output values i0 .. end-1 (counter g0 for value i0), one scalar block at a time; returns end. */
function scalarFrom(k0: u32, k1: u32, g0: f64, out: usize, i0: i32, n: i32): i32 {
  let i = i0, g = g0;
  while (i < n) {
    const blk = Math.floor(g / 4);
    let c0 = <u32><u64>(blk % 4294967296), c1 = <u32><u64>Math.floor(blk / 4294967296), c2: u32 = 0, c3: u32 = 0;
    let key0 = k0, key1 = k1;
    for (let r = 0; r < 10; r++) {
      const hi0 = mulhi(M0, c0), lo0 = M0 * c0;
      const hi1 = mulhi(M1, c2), lo1 = M1 * c2;
      c0 = hi1 ^ c1 ^ key0; c1 = lo1; c2 = hi0 ^ c3 ^ key1; c3 = lo0;
      key0 += W0; key1 += W1;
    }
    for (let l = <i32>(g - blk * 4); l < 4 && i < n; l++, i++, g++) {
      store<f32>(out + (<usize>i << 2), toUnit(l == 0 ? c0 : l == 1 ? c1 : l == 2 ? c2 : c3));
    }
  }
  return i;
}
