// Philox4x32-10 (Salmon et al., SC'11): the counter-based generator behind every random number, at the
// bottom of the tree (it imports nothing). ops/random and autograd/gradcheck draw from it, the js
// backend's random kernel calls it, and wasm/assembly/philox.ts and the webgpu kernel port it bit for bit.

const M0 = 0xd2511f53,
  M1 = 0xcd9e8d57,
  W0 = 0x9e3779b9,
  W1 = 0xbb67ae85;

/** High 32 bits of the unsigned 64-bit product a*b, from 16-bit halves (exact in doubles). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff,
    ah = a >>> 16,
    bl = b & 0xffff,
    bh = b >>> 16;
  const ll = al * bl,
    lh = al * bh,
    hl = ah * bl,
    hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** One Philox4x32-10 block: counter (c0..c3) and key (k0,k1) to four uint32 written into out. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0),
      lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2),
      lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * Uniform [0, 1) values number `counter` .. `counter + n - 1` of the stream keyed by `key`.
 * Value g comes from lane g % 4 of block g / 4; 24 random bits make it exact in float32 and float64.
 */
export function philoxUniform(key: [number, number], counter: number, out: Float32Array | Float64Array): void {
  const block = new Uint32Array(4);
  const n = out.length;
  let lastBlock = -1;
  for (let i = 0; i < n; i++) {
    const g = counter + i;
    const b = Math.floor(g / 4);
    if (b !== lastBlock) {
      philox4x32(b >>> 0, Math.floor(b / 4294967296) >>> 0, 0, 0, key[0] >>> 0, key[1] >>> 0, block);
      lastBlock = b;
    }
    out[i] = (block[g - b * 4] >>> 8) * 5.9604644775390625e-8; // 2^-24
  }
}
