// Reading safetensors files from disk: only regular files, the header checked (duplicate keys, the
// file's size) before any tensor data is read, bounded reads of everything else.
import { describe, it, expect, afterAll } from 'vitest';
import { constants } from 'node:fs';
import { mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as nb from '../../src/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors-format.js';
import { readSafetensorsFile, readSafetensorsHeader } from '../../src/io/safetensors.js';
import { readFileBytes, readTextFile } from '../../src/platform/fs.js';
import { tempDir } from '../helpers/tmp.js';

const posix = process.platform !== 'win32';

/** A file from a header given as JSON text (so keys can repeat) and raw data. */
function rawFile(headerJson: string, data: Uint8Array): Uint8Array {
  const hb = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

const fifos: string[] = [];
afterAll(async () => {
  // Should a reader still be blocked on a FIFO (before the fix), a writer that opens and closes it lets it go.
  for (const f of fifos)
    await open(f, constants.O_WRONLY | constants.O_NONBLOCK).then(
      (h) => h.close(),
      () => {},
    );
});

describe('safetensors files', () => {
  it.skipIf(!posix)(
    'refuses a FIFO, a device and a directory at once, naming the path and what it is',
    async () => {
      const dir = await tempDir('nabla-stf-');
      const fifo = join(dir, 'fifo.safetensors');
      execFileSync('mkfifo', [fifo]);
      fifos.push(fifo);
      await expect(nb.io.loadSafetensors(fifo)).rejects.toThrow(`cannot read ${fifo}: it is a FIFO (named pipe), not a regular file`);
      const zero = join(dir, 'zero.safetensors');
      await symlink('/dev/zero', zero);
      await expect(nb.io.loadSafetensors(zero)).rejects.toThrow(`cannot read ${zero}: it is a character device, not a regular file`);
      await mkdir(join(dir, 'd.safetensors'));
      await expect(nb.io.loadSafetensors(join(dir, 'd.safetensors'))).rejects.toThrow(/d\.safetensors: it is a directory, not a regular file/);
      await expect(readFileBytes(fifo)).rejects.toThrow(/FIFO/);
    },
    10_000,
  );

  it('checks the file size against the header before reading the data', async () => {
    const dir = await tempDir('nabla-stf-');
    const good = encodeSafetensors({ x: { dtype: 'float32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) } });
    const n = good.length - 16 - 8;
    const p = join(dir, 'a.safetensors');
    await writeFile(p, good.subarray(0, good.length - 3));
    await expect(readSafetensorsFile(p)).rejects.toThrow(
      `safetensors: ${p}: the file is ${good.length - 3} bytes, but its header (${n} bytes) describes 16 bytes of tensor data: 8 + ${n} + 16 = ${good.length} bytes; the file is truncated`,
    );
    await writeFile(p, new Uint8Array([...good, 0, 0]));
    await expect(readSafetensorsFile(p)).rejects.toThrow(
      `the file is ${good.length + 2} bytes, but its header (${n} bytes) describes 16 bytes of tensor data: 8 + ${n} + 16 = ${good.length} bytes; 2 bytes after the last tensor belong to no tensor`,
    );
    // A header claiming a huge tensor in a small file fails on sizes, before any allocation.
    const huge = rawFile(JSON.stringify({ x: { dtype: 'F32', shape: [2 ** 40], data_offsets: [0, 2 ** 42] } }), new Uint8Array(8));
    await writeFile(p, huge);
    const t0 = Date.now();
    await expect(readSafetensorsFile(p)).rejects.toThrow(/describes 4398046511104 bytes of tensor data/);
    expect(Date.now() - t0).toBeLessThan(1000);
    // A header length of 2^64 - 1.
    const b = new Uint8Array(good);
    new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    await writeFile(p, b);
    await expect(readSafetensorsFile(p)).rejects.toThrow(/header length 18446744073709551615 is larger than the 100 MB limit/);
    // Good files read the same as the buffer decoder, and the header can be read alone.
    await writeFile(p, good);
    const back = await readSafetensorsFile(p);
    expect(Array.from(back.tensors.get('x')!.dataSync())).toEqual([1, 2, 3, 4]);
    back.tensors.get('x')!.dispose();
    const h = await readSafetensorsHeader(p);
    expect([...h.tensors].map(([k, e]) => [k, e.dtype, e.shape])).toEqual([['x', 'F32', [4]]]);
    expect([h.headerLength, h.dataLength, h.fileSize]).toEqual([n, 16, good.length]);
  });

  it('rejects duplicate keys in the header and in __metadata__, naming the key', async () => {
    const x = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    const d4 = new Uint8Array(4);
    expect(() => decodeSafetensors(rawFile(`{"x":${x},"x":${x}}`, d4), 'f')).toThrow(`safetensors: f: the header gives 'x' twice`);
    expect(() => decodeSafetensors(rawFile(`{"\\u0078":${x},"x":${x}}`, d4), 'f')).toThrow(`the header gives 'x' twice`);
    expect(() => decodeSafetensors(rawFile(`{"__metadata__":{"a":"1","a":"2"},"x":${x}}`, d4), 'f')).toThrow(`the header gives '__metadata__.a' twice`);
    expect(() => decodeSafetensors(rawFile(`{"x":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`, d4), 'f')).toThrow(`the header gives 'x.dtype' twice`);
    // the same key in different objects, and keys that look alike inside strings, are fine
    const ok = decodeSafetensors(rawFile(`{"__metadata__":{"x":"{\\"x\\":1}"},"x":${x}}`, d4), 'f');
    expect(ok.metadata).toEqual({ x: '{"x":1}' });
    const dir = await tempDir('nabla-stf-');
    await writeFile(join(dir, 'dup.safetensors'), rawFile(`{"x":${x},"x":${x}}`, d4));
    await expect(readSafetensorsHeader(join(dir, 'dup.safetensors'))).rejects.toThrow(/dup\.safetensors: the header gives 'x' twice/);
  });

  it("refuses dtypes named like Object.prototype's members, and a __proto__ tensor is just a name", () => {
    for (const dtype of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const f = rawFile(JSON.stringify({ x: { dtype, shape: [1], data_offsets: [0, 4] } }), new Uint8Array(4));
      expect(() => decodeSafetensors(f, 'f')).toThrow(`tensor 'x' has unsupported dtype '${dtype}'`);
    }
    const f = rawFile(`{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"__proto__":"m"}}`, new Uint8Array(4));
    const { tensors, metadata } = decodeSafetensors(f, 'f');
    expect([...tensors.keys()]).toEqual(['__proto__']);
    expect(Object.entries(metadata)).toEqual([['__proto__', 'm']]);
  });

  it('bounded reads: a size limit, and only regular files', async () => {
    const dir = await tempDir('nabla-stf-');
    await writeFile(join(dir, 'big.json'), 'x'.repeat(1000));
    await expect(readTextFile(join(dir, 'big.json'), 999)).rejects.toThrow(`cannot read ${join(dir, 'big.json')}: it is 1000 bytes, more than the 999-byte limit for this file`);
    expect((await readTextFile(join(dir, 'big.json'), 1000)).length).toBe(1000);
    await expect(readTextFile(join(dir, 'none.json'), 10)).rejects.toThrow(/none\.json: no such file/);
  });
});
