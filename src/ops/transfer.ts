// Moving a tensor to another backend (PyTorch's t.to(device)): a copy through host memory,
// differentiable (the gradient moves back the same way).

import { requireBackend, supportsDType } from '../backends/backend.js';
import type { TypedArray } from '../tensor/dtype.js';
import { allocTensor, type Tensor } from '../tensor/tensor.js';
import { record } from './tape.js';

/**
 * A copy of t on backend `name` (t itself when it is already there). Needs a synchronous read of
 * t: from a GPU, use `await t.toAsync(name)`.
 */
export function toBackend(t: Tensor, name: string): Tensor {
  t.assertAlive('to');
  if (t.device === name) return t;
  if (!t.storage.backend.readSync) {
    throw new Error(`to('${name}'): tensors on '${t.device}' are read asynchronously; use await t.toAsync('${name}')`);
  }
  return place(t, name, t.dataSync());
}

/** toBackend from any backend, GPUs included: the read is awaited. */
export async function toBackendAsync(t: Tensor, name: string): Promise<Tensor> {
  t.assertAlive('toAsync');
  if (t.device === name) return t;
  return place(t, name, await t.data());
}

function place(t: Tensor, name: string, data: TypedArray): Tensor {
  const target = requireBackend(name);
  if (!supportsDType(target, t.dtype)) throw new Error(`to('${name}'): ${t.dtype} is not supported on '${name}'; cast first (t.float())`);
  const out = allocTensor(target, t.shape, t.dtype);
  target.write(out.storage, data);
  const from = t.device;
  record('to', [t], out, (g) => [toBackend(g, from)]);
  return out;
}
