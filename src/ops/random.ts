// Seeded random numbers from a counter-based generator (Philox4x32-10): the same seed gives the same
// numbers on every backend, and draws never depend on how work was split.

import type { Tensor } from '../tensor/tensor.js';
import { dispatch } from './dispatch.js';
import { getBackend, requireBackend, supportsDType } from '../backends/backend.js';
import { toBackend } from './transfer.js';
import { sizeOf } from '../tensor/shape.js';
import type { DType } from '../tensor/dtype.js';
import type { Rules } from './rule.js';
import { add, less, mul, sub } from './binary.js';
import { cos, cast, floor, log, sqrt, neg } from './unary.js';
import { philoxUniform } from '../tensor/philox.js';
import { checkShape } from '../tensor/creation.js';
import { reshape, narrow } from './movement.js';

export const randomRules: Rules<'random'> = {
  random: { shape: (_i, { shape, dtype }) => ({ shape: [...shape], dtype }), vjp: 'none' }, // no inputs
};

/** A stream of random numbers: a key from the seed and a counter of values drawn so far. */
export class Generator {
  key: [number, number] = [0, 0];
  counter = 0;
  constructor(seed?: number) {
    this.manualSeed(seed ?? defaultSeed());
  }
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`manualSeed: seed must be a non-negative integer, got ${seed}`);
    this.key = [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
    this.counter = 0;
    return this;
  }
  /** Reserve n values; returns the counter of the first (blocks of four stay whole). */
  take(n: number): number {
    const c = this.counter;
    this.counter += Math.ceil(n / 4) * 4;
    return c;
  }
  /** n uniform [0,1) numbers on the host (for shuffling and sampling). */
  uniformArray(n: number): Float64Array {
    const out = new Float64Array(n);
    philoxUniform(this.key, this.take(n), out);
    return out;
  }
  getState(): { key: [number, number]; counter: number } {
    return { key: [...this.key], counter: this.counter };
  }
  setState(s: { key: [number, number]; counter: number }): void {
    this.key = [s.key[0] >>> 0, s.key[1] >>> 0];
    this.counter = s.counter;
  }
}

function defaultSeed(): number {
  // Like PyTorch, an unseeded process draws different numbers each run.
  return Math.floor(Math.random() * 2 ** 31);
}

/** The generator random ops use when given none; seed it with {@link manualSeed}. */
export const defaultGenerator = new Generator();

/** Seed the default generator (torch.manual_seed). */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}

/**
 * Options of the random ops: dtype (float32 by default), backend, generator (the default one unless
 * given) and requiresGrad.
 */
export interface RandomOptions {
  dtype?: DType;
  /** Backend name; defaults to the current backend. */
  device?: string;
  generator?: Generator;
  requiresGrad?: boolean;
}

/** Uniform [0, 1). @example rand([2, 3]) */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  checkShape('rand', shape);
  const gen = opts.generator ?? defaultGenerator;
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`rand: dtype must be float32 or float64, got ${dtype}`);
  const on = opts.device ? requireBackend(opts.device) : undefined;
  const t = dispatch(randomRules, 'random', [], { key: [...gen.key] as [number, number], counter: gen.take(sizeOf(shape)), shape: [...shape], dtype }, on);
  return opts.requiresGrad ? t.requiresGrad_(true) : t;
}

/** Uniform [low, high). */
export function uniform(shape: readonly number[], low = 0, high = 1, opts: RandomOptions = {}): Tensor {
  const t = add(mul(rand(shape, { ...opts, requiresGrad: false }), high - low), low);
  return opts.requiresGrad ? t.detach().requiresGrad_(true) : t;
}

/** Standard normal by the Box–Muller transform of two uniform draws. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const n = sizeOf(shape);
  const u = rand([2, n], { dtype: opts.dtype, generator: opts.generator, device: opts.device });
  const u1 = narrow(u, 0, 0, 1),
    u2 = narrow(u, 0, 1, 1);
  // sqrt(-2 ln(1-u1)) cos(2π u2); 1-u1 is in (0, 1], so the log is finite
  const r = sqrt(mul(neg(log(sub(1, u1))), 2));
  const z = reshape(mul(r, cos(mul(u2, 2 * Math.PI))), shape);
  return opts.requiresGrad ? z.detach().requiresGrad_(true) : z;
}

/** Normal with mean and std. */
export function normal(shape: readonly number[], meanValue = 0, stdValue = 1, opts: RandomOptions = {}): Tensor {
  return add(mul(randn(shape, opts), stdValue), meanValue);
}

/** Integers uniform in [low, high) as int32. */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new Error(`randint: need integers low < high, got ${low}, ${high}`);
  // Drawn in float64 so every integer in a wide range is reachable; a backend without float64
  // (webgpu) gets the same integers drawn on js.
  const target = opts.device ? requireBackend(opts.device) : getBackend();
  if (!supportsDType(target, 'float64')) return toBackend(randint(low, high, shape, { ...opts, device: 'js' }), target.name);
  const u = rand(shape, { dtype: 'float64', generator: opts.generator, device: opts.device });
  return cast(floor(add(mul(u, high - low), low)), 'int32');
}

/** 1 with probability p, else 0 (same shape; dtype of the result float32 unless given). */
export function bernoulli(shape: readonly number[], p: number, opts: RandomOptions = {}): Tensor {
  return cast(less(rand(shape, { generator: opts.generator, device: opts.device }), p), opts.dtype ?? 'float32');
}

/** A random permutation of 0..n-1 (Fisher–Yates on the generator's stream), as a plain array. */
export function randpermArray(n: number, generator: Generator = defaultGenerator): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const u = generator.uniformArray(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}
