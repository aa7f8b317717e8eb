// The safetensors byte format (Hugging Face): an 8-byte little-endian header length, a JSON header
// of {name: {dtype, shape, data_offsets}}, then the tensors' bytes. Pure codec, no tensors involved.

export type RawDType = 'float32' | 'float64' | 'int32' | 'bool';

export interface RawTensor {
  dtype: RawDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

const ITEM_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** The largest header read (the reference library's limit). */
export const MAX_HEADER = 100 * 1024 * 1024;

// ---- half-precision conversions ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits to a number (subnormals, infinities and NaN included). */
export function float16ToFloat32(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1,
    e = (bits >> 10) & 0x1f,
    m = bits & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A number to binary16 bits, rounding to nearest even. */
export function float32ToFloat16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff,
    m = b & 0x7fffff;
  if (e === 255) return sign | 0x7c00 | (m ? 0x200 : 0);
  const exp = e - 127 + 15;
  if (exp >= 31) return sign | 0x7c00; // overflow to infinity
  if (exp <= 0) {
    if (exp < -10) return sign; // underflow to zero
    // Subnormal: shift the mantissa (with its implicit 1) right, rounding to nearest even.
    const mant = m | 0x800000,
      shift = 14 - exp;
    let r = mant >> shift;
    const rem = mant & ((1 << shift) - 1),
      half = 1 << (shift - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (exp << 10) | (m >> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // may carry into the exponent: still correct
  return sign | r;
}

export function bfloat16ToFloat32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

export function float32ToBfloat16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if (Number.isNaN(x)) return ((b >>> 16) | 0x40) & 0xffff; // keep NaN a NaN
  const rounded = b + 0x7fff + ((b >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

// ---- decoding ----

function fail(source: string, what: string): never {
  throw new Error(`safetensors: ${source}: ${what}`);
}

/** One tensor of a header: its dtype as written (F16, I64, ...), shape, and byte range in the data section. */
export interface HeaderEntry {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** A checked header: the tensors in header order, the metadata, and the data section's length. */
export interface SafetensorsHeader {
  tensors: Map<string, HeaderEntry>;
  metadata: Record<string, string>;
  /** The bytes of tensor data the header describes (its tensors cover 0..dataLength exactly). */
  dataLength: number;
}

/**
 * The header length from the first 8 bytes of a `fileSize`-byte file, checked against the 100 MB
 * limit and the file's size.
 */
export function headerLengthOf(first8: Uint8Array, fileSize: number, source = '<buffer>'): number {
  if (fileSize < 8 || first8.length < 8) fail(source, `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(source, `header length ${n} is larger than the 100 MB limit`);
  if (8 + Number(n) > fileSize) fail(source, `header length ${n} runs past the end of the ${fileSize}-byte file`);
  return Number(n);
}

/**
 * The first key that some object of valid JSON `text` repeats, as a dotted path, or null.
 * JSON.parse keeps only the last value of a repeated key, so it cannot tell.
 */
export function repeatedJsonKey(text: string): string | null {
  // One frame per open container: its keys (null for an array), its path, whether a key comes next.
  const stack: { keys: Set<string> | null; path: string; expectKey: boolean; key: string }[] = [];
  const child = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    const name = top.keys ? top.key : '[]';
    return top.path ? (top.keys ? `${top.path}.${name}` : `${top.path}${name}`) : name;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string; // escapes decoded: "\u0078" is "x"
        if (top.keys.has(key)) return top.path ? `${top.path}.${key}` : key;
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push({ keys: c === 0x7b ? new Set() : null, path: child(), expectKey: c === 0x7b, key: '' });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return null;
}

/**
 * Parse and check a header's JSON bytes: dtypes, shapes, offsets, no repeated keys, and tensors that
 * cover the data section without overlaps or holes (as the reference library checks). With
 * `dataLength` (the bytes after the header) they must cover exactly that many bytes.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, source = '<buffer>', dataLength?: number): SafetensorsHeader {
  let text: string, header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    header = JSON.parse(text);
  } catch (e) {
    fail(source, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(source, 'header is not a JSON object');
  const repeated = repeatedJsonKey(text);
  if (repeated !== null) fail(source, `the header gives '${repeated}' twice`);
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, HeaderEntry>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(source, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') fail(source, `__metadata__.${k} must be a string, got ${typeof v}`);
      }
      metadata = Object.fromEntries(Object.entries(entry)); // own keys, '__proto__' included
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null || Array.isArray(e)) fail(source, `entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string') fail(source, `tensor '${name}' has no dtype`);
    if (!Object.hasOwn(ITEM_SIZE, e.dtype)) fail(source, `tensor '${name}' has unsupported dtype '${e.dtype}' (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(source, `tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}: expected non-negative integers`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((v) => Number.isSafeInteger(v) && v >= 0) || off[0] > off[1]) {
      fail(source, `tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}: expected [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = off as [number, number];
    const shape = e.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[e.dtype];
    if (end - begin !== size) {
      fail(source, `tensor '${name}' has ${end - begin} bytes but shape [${shape}] of ${e.dtype} needs ${size}`);
    }
    if (dataLength !== undefined && end > dataLength) fail(source, `tensor '${name}' data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data section`);
    tensors.set(name, { dtype: e.dtype, shape: [...shape], begin, end });
  }
  const spans = [...tensors].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const [name, { begin, end }] of spans) {
    if (begin < pos) fail(source, `tensor '${name}' overlaps the previous tensor's bytes (starts at ${begin}, previous ends at ${pos})`);
    if (begin > pos) fail(source, `hole in the data section: bytes ${pos}..${begin} belong to no tensor (before '${name}')`);
    pos = end;
  }
  if (dataLength !== undefined && pos !== dataLength) fail(source, `the data section has ${dataLength} bytes but the tensors cover ${pos}`);
  return { tensors, metadata, dataLength: pos };
}

/** A tensor's values from exactly its bytes of the data section. */
export function decodeTensorData(name: string, entry: HeaderEntry, src: Uint8Array, source = '<buffer>'): RawTensor {
  const count = (entry.end - entry.begin) / ITEM_SIZE[entry.dtype];
  return { shape: [...entry.shape], ...convert(entry.dtype, src, count, name, source) };
}

/**
 * Parse safetensors bytes. F16/BF16 become float32, I64/I16/I8/U8 int32 (I64 range-checked), BOOL
 * bool. Every structural problem is rejected with what is wrong.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const n = headerLengthOf(bytes.subarray(0, 8), bytes.length, source);
  const dataStart = 8 + n;
  const header = parseSafetensorsHeader(bytes.subarray(8, dataStart), source, bytes.length - dataStart);
  const tensors = new Map<string, RawTensor>();
  for (const [name, e] of header.tensors) tensors.set(name, decodeTensorData(name, e, bytes.subarray(dataStart + e.begin, dataStart + e.end), source));
  return { tensors, metadata: header.metadata };
}

/** Copy out (offsets may be unaligned) and widen or narrow to our dtypes. */
function convert(dtype: string, src: Uint8Array, count: number, name: string, source: string): Pick<RawTensor, 'dtype' | 'data'> {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  switch (dtype) {
    case 'F64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getFloat64(8 * i, true);
      return { dtype: 'float64', data: a };
    }
    case 'F32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getFloat32(4 * i, true);
      return { dtype: 'float32', data: a };
    }
    case 'F16': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = float16ToFloat32(dv.getUint16(2 * i, true));
      return { dtype: 'float32', data: a };
    }
    case 'BF16': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = bfloat16ToFloat32(dv.getUint16(2 * i, true));
      return { dtype: 'float32', data: a };
    }
    case 'I64': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) fail(source, `tensor '${name}' (I64) holds ${v} at element ${i}, outside the int32 range`);
        a[i] = Number(v);
      }
      return { dtype: 'int32', data: a };
    }
    case 'I32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getInt32(4 * i, true);
      return { dtype: 'int32', data: a };
    }
    case 'I16': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getInt16(2 * i, true);
      return { dtype: 'int32', data: a };
    }
    case 'I8': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getInt8(i);
      return { dtype: 'int32', data: a };
    }
    case 'U8': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = src[i];
      return { dtype: 'int32', data: a };
    }
    case 'BOOL': {
      const a = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        if (src[i] > 1) fail(source, `tensor '${name}' (BOOL) holds byte ${src[i]} at element ${i}; only 0 and 1 are booleans`);
        a[i] = src[i];
      }
      return { dtype: 'bool', data: a };
    }
    default:
      fail(source, `unsupported dtype ${dtype}`);
  }
}

// ---- encoding ----

/**
 * Encode tensors (sorted by name, as the Python library writes them), header padded with spaces to
 * a multiple of 8 bytes. float32 can be stored as F16 or BF16 to halve the file.
 */
export function encodeSafetensors(
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
  opts: { float32As?: 'F32' | 'F16' | 'BF16' } = {},
): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) throw new Error(`safetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const [dtype, bytes] = encodeData(t, opts.float32As ?? 'F32');
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  json += ' '.repeat((8 - (hb.length % 8)) % 8);
  hb = enc.encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function encodeData(t: RawTensor, float32As: 'F32' | 'F16' | 'BF16'): [string, Uint8Array] {
  const n = t.data.length;
  switch (t.dtype) {
    case 'float64': {
      const b = new Uint8Array(8 * n),
        dv = new DataView(b.buffer);
      for (let i = 0; i < n; i++) dv.setFloat64(8 * i, t.data[i], true);
      return ['F64', b];
    }
    case 'int32': {
      const b = new Uint8Array(4 * n),
        dv = new DataView(b.buffer);
      for (let i = 0; i < n; i++) dv.setInt32(4 * i, t.data[i], true);
      return ['I32', b];
    }
    case 'bool':
      return ['BOOL', Uint8Array.from(t.data, (v) => (v ? 1 : 0))];
    case 'float32': {
      if (float32As === 'F32') {
        const b = new Uint8Array(4 * n),
          dv = new DataView(b.buffer);
        for (let i = 0; i < n; i++) dv.setFloat32(4 * i, t.data[i], true);
        return ['F32', b];
      }
      const conv = float32As === 'F16' ? float32ToFloat16 : float32ToBfloat16;
      const b = new Uint8Array(2 * n),
        dv = new DataView(b.buffer);
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, conv(t.data[i]), true);
      return [float32As, b];
    }
  }
}
