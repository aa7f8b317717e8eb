// safetensors files <-> tensors: the Hugging Face weight format, read and written without Python.

import type { Tensor } from '../tensor/tensor.js';
import { fromTypedArray } from '../tensor/creation.js';
import { decodeSafetensors, encodeSafetensors, type RawTensor } from './safetensors-format.js';
import { readFileBytes, writeFileAtomic } from '../platform/fs.js';

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
  tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>, opts?: { float32As?: 'F32' | 'F16' | 'BF16' },
): Promise<Uint8Array> {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of entries) {
    raw.set(name, { dtype: t.dtype, shape: [...t.shape], data: (await t.data()) as RawTensor['data'] });
  }
  return encodeSafetensors(raw, metadata, opts);
}

/**
 * Read a .safetensors file. Malformed files are rejected with what is wrong.
 * @example const { tensors } = await io.loadSafetensors('model.safetensors')
 */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  return tensorsFromSafetensors(await readFileBytes(path), path);
}

/** Write tensors to a .safetensors file (via a temporary file and a rename, so a crash leaves no half file). */
export async function saveSafetensors(
  path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>, opts?: { float32As?: 'F32' | 'F16' | 'BF16' },
): Promise<void> {
  await writeFileAtomic(path, await safetensorsBytes(tensors, metadata, opts));
}
