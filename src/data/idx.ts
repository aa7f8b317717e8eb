// Reader and writer for the IDX binary format (LeCun's MNIST files), with gzip support when reading from disk.

import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);

/** Element types of the IDX format (its type codes 0x08 to 0x0E). */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/**
 * A decoded IDX file: element type, shape (dims, outermost first) and the values, row-major, in the
 * matching typed array.
 */
export interface IdxArray {
  type: IdxType;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

interface TypeInfo {
  code: number;
  type: IdxType;
  bytes: number;
}

const TYPES: readonly TypeInfo[] = [
  { code: 0x08, type: 'uint8', bytes: 1 },
  { code: 0x09, type: 'int8', bytes: 1 },
  { code: 0x0b, type: 'int16', bytes: 2 },
  { code: 0x0c, type: 'int32', bytes: 4 },
  { code: 0x0d, type: 'float32', bytes: 4 },
  { code: 0x0e, type: 'float64', bytes: 8 },
];

const BY_CODE = new Map(TYPES.map((t) => [t.code, t]));
const BY_NAME = new Map(TYPES.map((t) => [t.type, t]));

const hex = (n: number): string => '0x' + n.toString(16).padStart(2, '0');

/**
 * Parse an in-memory IDX file. `source` only labels error messages (pass the file path).
 * uint8/int8 data is returned as a zero-copy view of `bytes`; wider types are copied
 * because IDX is big-endian and the platform (and typed arrays) are little-endian.
 */
export function parseIdx(bytes: Uint8Array, source = '<buffer>'): IdxArray {
  const fail = (msg: string): never => {
    throw new Error(`idx: ${source}: ${msg}`);
  };

  if (bytes.length < 4) {
    fail(`truncated header: need at least 4 bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    // A gzip magic here almost always means the caller forgot to decompress.
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (data looks gzip-compressed; gunzip it first or use readIdx)' : '';
    fail(`bad magic: expected first two bytes 0x00 0x00, got ${hex(bytes[0]!)} ${hex(bytes[1]!)}${gz}`);
  }
  const info = BY_CODE.get(bytes[2]!);
  if (info === undefined) {
    fail(`unknown data type code ${hex(bytes[2]!)} (expected one of ${TYPES.map((t) => `${hex(t.code)}=${t.type}`).join(', ')})`);
  }
  const { type, bytes: itemBytes } = info!;
  const ndims = bytes[3]!;
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    fail(`truncated header: ${ndims} dims need ${headerLen} header bytes, got ${bytes.length}`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }

  const expected = count * itemBytes;
  const actual = bytes.length - headerLen;
  if (actual !== expected) {
    fail(`data length mismatch: shape [${shape.join(', ')}] of ${type} needs ${expected} data bytes, ` + `got ${actual} (file is ${bytes.length} bytes, header ${headerLen})`);
  }

  const start = bytes.byteOffset + headerLen;
  let data: IdxArray['data'];
  switch (type) {
    case 'uint8':
      data = new Uint8Array(bytes.buffer, start, count);
      break;
    case 'int8':
      data = new Int8Array(bytes.buffer, start, count);
      break;
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(headerLen + 2 * i, false);
      data = out;
      break;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(headerLen + 4 * i, false);
      data = out;
      break;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(headerLen + 4 * i, false);
      data = out;
      break;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(headerLen + 8 * i, false);
      data = out;
      break;
    }
  }
  return { type, shape, data };
}

const CTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/** Serialize to IDX bytes (big-endian), e.g. to write your own dataset files. */
export function encodeIdx(arr: IdxArray): Uint8Array {
  const info = BY_NAME.get(arr.type);
  if (info === undefined) throw new Error(`idx: encode: unknown type '${String(arr.type)}'`);
  // Checking the constructor catches e.g. a Float64Array labelled 'float32', which would
  // otherwise be silently narrowed and produce a file that reads back different values.
  if (!(arr.data instanceof CTORS[arr.type])) {
    throw new Error(`idx: encode: type '${arr.type}' needs a ${CTORS[arr.type].name}, got ${arr.data.constructor.name}`);
  }
  if (arr.shape.length > 255) throw new Error(`idx: encode: at most 255 dims, got ${arr.shape.length}`);
  let count = 1;
  for (const d of arr.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new Error(`idx: encode: dims must be integers in [0, 2^32), got [${arr.shape.join(', ')}]`);
    }
    count *= d;
  }
  if (arr.data.length !== count) {
    throw new Error(`idx: encode: shape [${arr.shape.join(', ')}] has ${count} elements but data has ${arr.data.length}`);
  }

  const headerLen = 4 + 4 * arr.shape.length;
  const out = new Uint8Array(headerLen + count * info.bytes);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = arr.shape.length;
  arr.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));

  const d = arr.data;
  switch (arr.type) {
    case 'uint8':
    case 'int8':
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.length), headerLen);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) view.setInt16(headerLen + 2 * i, d[i]!, false);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) view.setInt32(headerLen + 4 * i, d[i]!, false);
      break;
    case 'float32':
      for (let i = 0; i < count; i++) view.setFloat32(headerLen + 4 * i, d[i]!, false);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) view.setFloat64(headerLen + 8 * i, d[i]!, false);
      break;
  }
  return out;
}

/** Read an IDX file from disk; gzip-compressed files (e.g. the *.gz downloads) are decompressed transparently. */
export async function readIdx(path: string): Promise<IdxArray> {
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`idx: ${path}: file not found`);
    throw new Error(`idx: ${path}: cannot read file: ${e.message}`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = await gunzipAsync(raw);
    } catch (err) {
      throw new Error(`idx: ${path}: gzip decompression failed: ${(err as Error).message}`);
    }
  }
  return parseIdx(raw, path);
}
