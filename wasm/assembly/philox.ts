// Philox4x32-10, bit for bit the js backend's philox.ts: uniform [0, 1) float32 values number
// counter .. counter + n - 1 of the stream keyed by (k0, k1); value g is lane g % 4 of block g / 4.

// @ts-ignore: decorator
@inline function mulhi(a: u32, b: u32): u32 { return <u32>((<u64>a * <u64>b) >> 32); }

export function philox_uniform_f32(k0: u32, k1: u32, counter: f64, out: usize, n: i32): void {
  let i = 0;
  while (i < n) {
    const g = counter + <f64>i;
    const blk = Math.floor(g / 4);
    const lane = <i32>(g - blk * 4);
    let c0 = <u32><u64>(blk % 4294967296), c1 = <u32><u64>Math.floor(blk / 4294967296), c2: u32 = 0, c3: u32 = 0;
    let key0 = k0, key1 = k1;
    for (let r = 0; r < 10; r++) {
      const hi0 = mulhi(0xd2511f53, c0), lo0 = 0xd2511f53 * c0;
      const hi1 = mulhi(0xcd9e8d57, c2), lo1 = 0xcd9e8d57 * c2;
      c0 = hi1 ^ c1 ^ key0; c1 = lo1; c2 = hi0 ^ c3 ^ key1; c3 = lo0;
      key0 += 0x9e3779b9; key1 += 0xbb67ae85;
    }
    for (let l = lane; l < 4 && i < n; l++, i++) {
      const w = l == 0 ? c0 : l == 1 ? c1 : l == 2 ? c2 : c3;
      store<f32>(out + (<usize>i << 2), <f32>(<f64>(w >>> 8) * 5.9604644775390625e-8));
    }
  }
}
