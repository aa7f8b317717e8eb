// The one dispatch point: every primitive runs here. It checks inputs, asks the op family for the
// output shape, runs the backend's kernel, records the tape and counts time.

import type { Backend, Prim, PrimParams, View } from './backend.js';
import { getBackend } from './backend.js';
import { Tensor } from '../tensor/tensor.js';
import { contiguousStrides, sizeOf } from '../tensor/shape.js';
import type { DType } from '../tensor/dtype.js';
import { record } from '../autograd/tape.js';
import { rules } from '../ops/rules.js';

export interface OpStats { calls: number; ms: number }
let profile: Map<string, OpStats> | null = null;

/** Start counting calls and time per primitive; returns the live table. */
export function startProfiling(): Map<string, OpStats> {
  profile = new Map();
  return profile;
}

/**
 * Stop counting; returns the table of calls and milliseconds per primitive, or null when not profiling.
 */
export function stopProfiling(): Map<string, OpStats> | null {
  const p = profile;
  profile = null;
  return p;
}

/** Run primitive `prim` on `inputs` and return its (contiguous) result. */
export function dispatch<P extends Prim>(prim: P, inputs: Tensor[], params: PrimParams[P], on?: Backend): Tensor {
  // `on` places an op without inputs (random); with inputs, the inputs' backend decides.
  let backend: Backend | undefined = inputs.length ? undefined : on;
  for (const t of inputs) {
    t.assertAlive(prim);
    if (!backend) backend = t.storage.backend;
    else if (t.storage.backend !== backend) {
      throw new Error(`${prim}: inputs are on different backends ('${backend.name}' and '${t.storage.backend.name}'); move them with .to()`);
    }
  }
  backend ??= getBackend();
  const rule = rules()[prim];
  const { shape, dtype } = rule.shape(inputs, params);
  const out = allocTensor(backend, shape, dtype);
  const t0 = profile ? performance.now() : 0;
  (backend.kernels[prim] as (i: View[], p: PrimParams[P], o: unknown, s: readonly number[]) => void)(inputs, params, out.storage, shape);
  if (profile) {
    const s = profile.get(prim) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += performance.now() - t0;
    profile.set(prim, s);
  }
  if (rule.vjp) {
    const vjp = rule.vjp;
    const needs = inputs.map((t) => t.requiresGrad);
    record(prim, inputs, out, (g) => vjp(g, inputs, out, params, needs));
  }
  return out;
}

/** A fresh contiguous tensor on `backend` (contents undefined until a kernel or write fills it). */
export function allocTensor(backend: Backend, shape: readonly number[], dtype: DType): Tensor {
  const storage = backend.allocate(sizeOf(shape), dtype);
  return new Tensor(storage, [...shape], contiguousStrides(shape), 0);
}
