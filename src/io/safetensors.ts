// safetensors files <-> tensors: the Hugging Face weight format, read and written without Python.

import type { Tensor } from '../tensor/tensor.js';
import { fromTypedArray } from '../tensor/creation.js';
import { decodeSafetensors, decodeTensorData, encodeSafetensors, headerLengthOf, parseSafetensorsHeader, type RawTensor, type SafetensorsHeader } from './safetensors-format.js';
import { openRegularFile, writeFileAtomic, type RegularFile } from '../platform/fs.js';

/** The contents of a safetensors file: tensors by name, and the header's `__metadata__` strings. */
export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Tensors from safetensors bytes (F16/BF16 become float32, integer types int32, BOOL bool). */
export function tensorsFromSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const out = new Map<string, Tensor>();
  for (const [name, raw] of tensors) out.set(name, fromTypedArray(raw.data, raw.shape, raw.dtype).keep());
  return { tensors: out, metadata };
}

/** safetensors bytes for named tensors (read back from the backend). */
export async function safetensorsBytes(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
  opts?: { float32As?: 'F32' | 'F16' | 'BF16' },
): Promise<Uint8Array> {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of entries) {
    raw.set(name, { dtype: t.dtype, shape: [...t.shape], data: (await t.data()) as RawTensor['data'] });
  }
  return encodeSafetensors(raw, metadata, opts);
}

/** A file's checked header, with where its data starts and the file's size. */
export interface SafetensorsFileHeader extends SafetensorsHeader {
  path: string;
  /** Bytes of JSON after the 8-byte length. */
  headerLength: number;
  fileSize: number;
}

/** Data is read in runs of whole tensors up to this many bytes (one read for many small tensors). */
const READ_RUN = 64 * 1024 * 1024;

/** Read and check the header of an open file, and that the file's size is what the header implies. */
async function fileHeader(f: RegularFile): Promise<SafetensorsFileHeader> {
  const { path, size } = f;
  const n = headerLengthOf(await f.read(0, Math.min(8, size)), size, path);
  const header = parseSafetensorsHeader(await f.read(8, n), path);
  const want = 8 + n + header.dataLength;
  if (size !== want) {
    const what = size < want ? 'the file is truncated' : `${size - want} byte${size - want === 1 ? '' : 's'} after the last tensor belong${size - want === 1 ? 's' : ''} to no tensor`;
    throw new Error(
      `safetensors: ${path}: the file is ${size} bytes, but its header (${n} bytes) describes ${header.dataLength} bytes of tensor data: 8 + ${n} + ${header.dataLength} = ${want} bytes; ${what}`,
    );
  }
  return { ...header, path, headerLength: n, fileSize: size };
}

/**
 * The checked header of a .safetensors file (names, dtypes, shapes, metadata) without its tensor
 * data: what a loader compares with a config before allocating anything.
 * @example const { tensors } = await io.readSafetensorsHeader('model.safetensors') // name → { dtype, shape }
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsFileHeader> {
  const f = await openRegularFile(path);
  try {
    return await fileHeader(f);
  } finally {
    await f.close();
  }
}

/**
 * Read a .safetensors file, refusing anything but a regular file (a FIFO or /dev/zero would hang or
 * fill memory). The header is read with bounded reads and checked, the file's size must be what
 * it implies, and only then is the tensor data read. Malformed files are rejected with what is wrong.
 * @example const { tensors } = await io.readSafetensorsFile('model.safetensors')
 */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const f = await openRegularFile(path);
  const out = new Map<string, Tensor>();
  try {
    const header = await fileHeader(f);
    const dataStart = 8 + header.headerLength;
    // Runs of consecutive tensors (in offset order), each read at once and made into tensors before
    // the next run is read, so the host holds one run at a time.
    const spans = [...header.tensors].sort(([, a], [, b]) => a.begin - b.begin);
    for (let i = 0; i < spans.length; ) {
      let j = i + 1;
      while (j < spans.length && spans[j][1].end - spans[i][1].begin <= READ_RUN) j++;
      const start = spans[i][1].begin,
        bytes = await f.read(dataStart + start, spans[j - 1][1].end - start);
      for (const [name, e] of spans.slice(i, j)) {
        const r = decodeTensorData(name, e, bytes.subarray(e.begin - start, e.end - start), path);
        out.set(name, fromTypedArray(r.data, r.shape, r.dtype).keep());
      }
      i = j;
    }
    return { tensors: new Map([...header.tensors.keys()].map((name) => [name, out.get(name)!])), metadata: header.metadata };
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  } finally {
    await f.close();
  }
}

/**
 * Read a .safetensors file (see readSafetensorsFile).
 * @example const { tensors } = await io.loadSafetensors('model.safetensors')
 */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  return readSafetensorsFile(path);
}

/** Write tensors to a .safetensors file (via a temporary file and a rename, so a crash leaves no half file). */
export async function saveSafetensors(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
  opts?: { float32As?: 'F32' | 'F16' | 'BF16' },
): Promise<void> {
  await writeFileAtomic(path, await safetensorsBytes(tensors, metadata, opts));
}
