// safetensors files and checkpoints: round trips, every dtype, malformed files, atomic writes.
import { describe, it, expect } from 'vitest';
import { readdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { decodeSafetensors, encodeSafetensors, float16ToFloat32, float32ToFloat16, float32ToBfloat16, bfloat16ToFloat32 } from '../../src/io/safetensors-format.js';
import { tempDir } from '../helpers/tmp.js';

/** Build a file by hand: header object and raw data bytes. */
function file(header: object, data: number[] | Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (json.length % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

const le = (ctor: { new (n: number): ArrayBufferView }, vals: (number | bigint)[]) => {
  const a = new (ctor as any)(vals) as { buffer: ArrayBufferLike };
  return new Uint8Array(a.buffer);
};

describe('safetensors', () => {
  it('round-trips tensors of every writable dtype, scalars and empty tensors', async () => {
    const dir = await tempDir('nabla-st-');
    const path = join(dir, 'x.safetensors');
    const t = {
      f32: nb.tensor([
        [1.5, -2],
        [3, 4],
      ]),
      f64: nb.tensor([Math.PI], { dtype: 'float64' }),
      i32: nb.tensor([1, -7, 2 ** 31 - 1], { dtype: 'int32' }),
      b: nb.tensor([true, false, true]),
      scalar: nb.scalar(3.25),
      empty: nb.zeros([0, 4]),
    };
    await nb.io.saveSafetensors(path, t, { format: 'pt' });
    expect(await readdir(dir)).toEqual(['x.safetensors']); // no temporary file left
    const back = await nb.io.loadSafetensors(path);
    expect(back.metadata).toEqual({ format: 'pt' });
    for (const [k, v] of Object.entries(t)) {
      const r = back.tensors.get(k)!;
      expect(r.dtype).toBe(v.dtype);
      expect(r.shape).toEqual(v.shape);
      expect(Array.from(r.dataSync())).toEqual(Array.from(v.dataSync()));
    }
    // Header is padded to 8 bytes and tensors are sorted by name, like the Python library.
    const bytes = new Uint8Array(await readFile(path));
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header).filter((k) => k !== '__metadata__')).toEqual(['b', 'empty', 'f32', 'f64', 'i32', 'scalar']);
  });

  it('reads F16, BF16, I64, I16, I8, U8 and BOOL', () => {
    const f16 = le(Uint16Array, [0x3c00, 0x7bff, 0x0001, 0x7c00, 0x8000]);
    const bf16 = le(Uint16Array, [0x3f80, 0xc040]);
    const i64 = le(BigInt64Array, [5n, -3n]);
    const i16 = le(Int16Array, [-300, 7]);
    const i8 = le(Int8Array, [-5, 6]);
    const u8 = new Uint8Array([250, 1]);
    const bool = new Uint8Array([1, 0]);
    const parts = [f16, bf16, i64, i16, i8, u8, bool];
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      dtypes = ['F16', 'BF16', 'I64', 'I16', 'I8', 'U8', 'BOOL'];
    const shapes = [[5], [2], [2], [2], [2], [2], [2]];
    const header: Record<string, unknown> = {};
    let off = 0;
    parts.forEach((p, i) => {
      header[names[i]] = { dtype: dtypes[i], shape: shapes[i], data_offsets: [off, off + p.length] };
      off += p.length;
    });
    const data = new Uint8Array(off);
    off = 0;
    for (const p of parts) {
      data.set(p, off);
      off += p.length;
    }
    const { tensors } = decodeSafetensors(file(header, data));
    expect(Array.from(tensors.get('a')!.data)).toEqual([1, 65504, 2 ** -24, Infinity, -0]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -3]);
    expect(tensors.get('c')).toEqual({ dtype: 'int32', shape: [2], data: Int32Array.from([5, -3]) });
    expect(Array.from(tensors.get('d')!.data)).toEqual([-300, 7]);
    expect(Array.from(tensors.get('e')!.data)).toEqual([-5, 6]);
    expect(Array.from(tensors.get('f')!.data)).toEqual([250, 1]);
    expect(tensors.get('g')!.dtype).toBe('bool');
  });

  it('half-precision conversions round to nearest even', () => {
    for (const bits of [0x0000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x3555, 0x7bff, 0xfbff, 0x7c00]) {
      expect(float32ToFloat16(float16ToFloat32(bits))).toBe(bits);
    }
    expect(float32ToFloat16(1 + 2 ** -11)).toBe(0x3c00); // tie goes to even
    expect(float32ToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16(1e6)).toBe(0x7c00);
    expect(bfloat16ToFloat32(float32ToBfloat16(1.00390625))).toBe(1); // tie to even
    expect(Number.isNaN(bfloat16ToFloat32(float32ToBfloat16(NaN)))).toBe(true);
    const back = decodeSafetensors(encodeSafetensors({ h: { dtype: 'float32', shape: [3], data: Float32Array.from([1, 0.5, -2]) } }, undefined, { float32As: 'F16' }));
    expect(Array.from(back.tensors.get('h')!.data)).toEqual([1, 0.5, -2]);
  });

  it('rejects malformed files with what is wrong', async () => {
    const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data8 = new Uint8Array(8);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /shorter than the 8-byte header length/],
      [
        (() => {
          const b = file(ok, data8);
          new DataView(b.buffer).setBigUint64(0, 10_000n, true);
          return b;
        })(),
        /runs past the end/,
      ],
      [
        (() => {
          const b = file(ok, data8);
          b[9] = 0xff;
          return b;
        })(),
        /not valid UTF-8 JSON/,
      ],
      [file([1, 2] as unknown as object, []), /not a JSON object/],
      [file({ x: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, data8), /unsupported dtype 'F33'/],
      [file({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data8), /invalid shape/],
      [file({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8), /invalid data_offsets/],
      [file({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8), /has 8 bytes but shape \[3\] of F32 needs 12/],
      [file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), /run past the 4-byte data section/],
      [file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8), /overlaps/],
      [file({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8), /hole in the data section/],
      [file({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, le(BigInt64Array, [2n ** 40n])), /tensor 'x' \(I64\) holds 1099511627776 at element 0, outside the int32 range/],
      [file({ __metadata__: { a: 1 }, ...ok }, data8), /__metadata__\.a must be a string/],
      [file({ x: { shape: [2], data_offsets: [0, 8] } }, data8), /tensor 'x' has no dtype/],
    ];
    for (const [bytes, msg] of cases) expect(() => decodeSafetensors(bytes, 'bad.safetensors')).toThrow(msg);
    const dir = await tempDir('nabla-st-');
    await writeFile(join(dir, 'c.safetensors'), new Uint8Array([1, 2, 3]));
    await expect(nb.io.loadSafetensors(join(dir, 'c.safetensors'))).rejects.toThrow(/^safetensors: .*c\.safetensors: file is 3 bytes/);
    await expect(nb.io.loadSafetensors(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: no such file/);
  });
});

describe('checkpoints', () => {
  it('save and load model, config, optimizer and trainer state; replace atomically', async () => {
    nb.manualSeed(0);
    const model = new nb.nn.Sequential(new nb.nn.Linear(3, 4), new nb.nn.ReLU(), new nb.nn.Linear(4, 2));
    const opt = new nb.optim.Adam(model.parameters(), { lr: 0.01 });
    const x = nb.randn([5, 3]),
      y = nb.tensor([0, 1, 1, 0, 1], { dtype: 'int32' });
    const step = () =>
      nb.scope(() => {
        opt.zeroGrad();
        nb.nn.functional.crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
    step();
    step();
    const dir = join(await tempDir('nabla-ck-'), 'run');
    await nb.io.saveCheckpoint(dir, { model, optimizer: opt, config: { type: 'seq', width: 4 }, trainerState: { step: 2 } });
    await nb.io.saveCheckpoint(dir, { model, optimizer: opt, config: { type: 'seq', width: 4 }, trainerState: { step: 2 } });
    expect((await readdir(join(dir, '..'))).sort()).toEqual(['run']); // no temporary or old directories
    const ck = await nb.io.loadCheckpoint(dir);
    expect(ck.config).toMatchObject({ type: 'seq', width: 4, format: 'nabla-checkpoint' });
    expect(ck.trainerState).toMatchObject({ step: 2 });
    // Resume: a fresh model + optimizer loaded from the checkpoint takes the same next step.
    nb.manualSeed(9);
    const model2 = new nb.nn.Sequential(new nb.nn.Linear(3, 4), new nb.nn.ReLU(), new nb.nn.Linear(4, 2));
    model2.loadStateDict(ck.stateDict);
    const opt2 = new nb.optim.Adam(model2.parameters(), { lr: 0.01 });
    opt2.loadStateDict(ck.optimizerState!);
    step();
    nb.scope(() => {
      opt2.zeroGrad();
      nb.nn.functional.crossEntropy(model2.forward(x), y).backward();
      opt2.step();
    });
    const a = model.parameters().map((p) => Array.from(p.dataSync()));
    const b = model2.parameters().map((p) => Array.from(p.dataSync()));
    expect(b).toEqual(a);
    await expect(nb.io.loadCheckpoint(join(dir, 'nope'))).rejects.toThrow(/no checkpoint at/);
  });
});
