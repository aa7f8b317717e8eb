// Moving a tensor to another backend (PyTorch's t.to(device)): a copy through host memory,
// differentiable (the gradient moves back the same way).

import type { Tensor } from '../tensor/tensor.js';
import { requireBackend } from '../backends/backend.js';
import { allocTensor } from '../backends/dispatch.js';
import { record } from '../autograd/tape.js';

/** A copy of t on backend `name` (t itself when it is already there). Needs a synchronous read. */
export function toBackend(t: Tensor, name: string): Tensor {
  t.assertAlive('to');
  if (t.device === name) return t;
  const target = requireBackend(name);
  const out = allocTensor(target, t.shape, t.dtype);
  target.write(out.storage, t.dataSync());
  const from = t.device;
  record('to', [t], out, (g) => [toBackend(g, from)]);
  return out;
}
