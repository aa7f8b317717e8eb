// The one dispatch point: every primitive runs here, and every fused op. It checks inputs, asks the
// op family's rule for the output shape, runs the backend's kernel, records the tape and counts time.
// dispatchFused does the same for a fused op (ops/rule.ts, FusedRule), choosing between the
// backend's fused kernel and the op's composed definition; setFusedMode switches them all at once.

import type { Backend, FusedKernels, Prim, PrimParams, View } from '../backends/backend.js';
import { getBackend } from '../backends/backend.js';
import { allocTensor, type Tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/memory.js';
import { isGradEnabled, record, withGradMode } from './tape.js';
import type { FusedRule, Rules } from './rule.js';

/** Calls and milliseconds of one primitive or fused op while profiling. */
export interface OpStats {
  calls: number;
  ms: number;
}
let profile: Map<string, OpStats> | null = null;

/**
 * Start counting calls and time per primitive and per fused kernel (by the fused op's name, e.g.
 * 'softmax', 'layerNorm'); returns the live table.
 */
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

function count(name: string, t0: number): void {
  if (!profile) return;
  const s = profile.get(name) ?? { calls: 0, ms: 0 };
  s.calls++;
  s.ms += performance.now() - t0;
  profile.set(name, s);
}

/**
 * Which path fused ops take: 'fused' (a backend's fused kernels wherever it has them: the
 * default), 'composed backward' (fused forward kernels, composed backward: the tests compare the
 * two backwards) or 'composed' (every fused op runs its composed definition).
 */
export type FusedMode = 'fused' | 'composed backward' | 'composed';

// NABLA_COMPOSED=1 starts a process composed (read once, where there is a process).
let fusedMode: FusedMode = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NABLA_COMPOSED === '1' ? 'composed' : 'fused';

/**
 * Choose how fused ops run from now on (see {@link FusedMode}); returns the mode it replaces.
 * Every fused op has a composed definition in ordinary ops, so 'composed' gives the same results
 * within float rounding, only slower.
 * @example const before = setFusedMode('composed'); try { ... } finally { setFusedMode(before); }
 */
export function setFusedMode(mode: FusedMode): FusedMode {
  const prev = fusedMode;
  fusedMode = mode;
  return prev;
}

/** How fused ops run now (see {@link setFusedMode}). */
export function getFusedMode(): FusedMode {
  return fusedMode;
}

/** The backend every input is on (checked alive), else `on`, else the current backend. */
function backendOf(op: string, inputs: readonly Tensor[], on?: Backend): Backend {
  // `on` places an op without inputs (random); with inputs, the inputs' backend decides.
  let backend: Backend | undefined = inputs.length ? undefined : on;
  for (const t of inputs) {
    t.assertAlive(op);
    if (!backend) backend = t.storage.backend;
    else if (t.storage.backend !== backend) {
      throw new Error(`${op}: inputs are on different backends ('${backend.name}' and '${t.storage.backend.name}'); move them with .to()`);
    }
  }
  return backend ?? getBackend();
}

/**
 * Run primitive `prim` on `inputs` with the rule from its family's table `rules`, and return its
 * (contiguous) result.
 */
export function dispatch<K extends Prim, P extends K>(rules: Rules<K>, prim: P, inputs: Tensor[], params: PrimParams[P], on?: Backend): Tensor {
  const backend = backendOf(prim, inputs, on);
  const rule = rules[prim];
  const { shape, dtype } = rule.shape(inputs, params);
  const out = allocTensor(backend, shape, dtype);
  const t0 = profile ? performance.now() : 0;
  (backend.kernels[prim] as (i: View[], p: PrimParams[P], o: unknown, s: readonly number[]) => void)(inputs, params, out.storage, shape);
  count(prim, t0);
  if (rule.vjp !== 'none') {
    const vjp = rule.vjp;
    const needs = inputs.map((t) => t.requiresGrad);
    record(prim, inputs, out, (g) => vjp(g, inputs, out, params, needs));
  }
  return out;
}

/**
 * Run an in-place kernel (Backend.copyInto) over views of existing storages: the inputs checked
 * alive and on one backend, the time profiled under `name`; nothing is allocated or recorded (the
 * caller, ops/inplace.ts, refuses tensors that need gradients).
 */
export function dispatchInPlace(name: string, inputs: Tensor[], run: (backend: Backend) => void): void {
  const backend = backendOf(name, inputs);
  const t0 = profile ? performance.now() : 0;
  run(backend);
  count(name, t0);
}

/**
 * Run fused op `rule` on `inputs`: the backend's fused kernel where it has one, the fused mode
 * allows it and the kernel takes the case, else the op's composed definition. A fused run is
 * profiled and recorded under the op's name; its tape node holds what the backward needs (the
 * saved tensors are freed with the node), and its backward takes the fused backward kernel only
 * when nothing records the backward itself (a second derivative composes).
 */
export function dispatchFused<I extends Tensor[], P, O extends Tensor | Tensor[]>(rule: FusedRule<I, P, O>, inputs: I, params: P): O {
  const backend = backendOf(rule.name, inputs);
  const fused = fusedMode === 'composed' ? undefined : backend.fused;
  if (fused?.[rule.kernel]) {
    const t0 = profile ? performance.now() : 0;
    const r = withGradMode(false, () => rule.forward(fused, backend, inputs, params));
    if (r) {
      count(rule.name, t0);
      const { out, saved } = r;
      if (rule.vjp !== 'none' && !Array.isArray(out)) {
        const vjp = rule.vjp;
        record(rule.name, [...inputs, ...saved], out as Tensor, (g) =>
          scope(() => {
            const kernels: FusedKernels | null = fusedMode === 'fused' && !isGradEnabled() ? fused : null;
            return [...vjp(g, inputs, out, saved, params, kernels), ...saved.map(() => null)];
          }),
        );
      }
      for (const s of saved) s.dispose(); // kept by the graph node while it needs them, freed now otherwise
      return out;
    }
  }
  return rule.composed(inputs, params);
}
