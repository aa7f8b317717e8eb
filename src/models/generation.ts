// Text generation for GPT: transformers' logits processors and sampling on the host in float64
// (repetition penalty, temperature, top-k, top-p, then argmax or a draw from a seeded Philox
// generator), and the one decoding loop behind GPT.generate, generateAsync and stream, which keeps
// per-layer key/value caches and feeds the model only the new tokens.

import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { tensor as makeTensor, fromTypedArray } from '../tensor/creation.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { defaultGenerator, Generator } from '../ops/random.js';
import { fmtShape } from '../tensor/shape.js';
import type { GPTConfig } from './gpt-config.js';

/** Per-layer key and value cache, [B, H, S, D] each; null before the first step. */
export interface LayerCache {
  k: Tensor | null;
  v: Tensor | null;
}

/** What the decoding loop needs of a model: GPT has it. */
export interface CausalLM extends Module {
  readonly config: Pick<GPTConfig, 'vocabSize' | 'nPositions' | 'nLayer' | 'eosTokenId'>;
  /**
   * Next-token logits [B, V] of token ids int32 [B, L] (the last position only). With caches (one
   * per layer), idx continues the cached positions and the caches grow by L.
   */
  lastLogits(idx: Tensor, caches?: LayerCache[]): Tensor;
}

/** Token ids: an int32 tensor [B, T] or [T], rows of ids, or one row. */
export type Ids = Tensor | number[] | number[][];

// ---------------------------------------------------------------------------------------------
// Sampling: transformers' logits processors, on the host in float64

/**
 * How the next token is chosen from the logits, as transformers' logits processors (defaults leave
 * the distribution as it is).
 */
export interface SamplingOptions {
  /** Divides the logits (default 1); 0 is greedy decoding (argmax). */
  temperature?: number;
  /** Keep the k most likely tokens (ties with the k-th kept, as TopKLogitsWarper); 0 = all. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (TopPLogitsWarper); 1 = all. */
  topP?: number;
  /** > 1 discourages tokens already in the sequence: positive logits ÷ penalty, negative × penalty. */
  repetitionPenalty?: number;
}

/**
 * Apply, in place and in transformers' order, the repetition penalty (over the ids in `previous`),
 * temperature, top-k and top-p to one row of logits; removed tokens become −∞.
 */
export function processLogits(logits: Float64Array, previous: readonly number[], o: SamplingOptions = {}): Float64Array {
  const V = logits.length;
  const penalty = o.repetitionPenalty ?? 1,
    temperature = o.temperature ?? 1,
    topK = o.topK ?? 0,
    topP = o.topP ?? 1;
  if (!(penalty > 0)) throw new Error(`generate: repetitionPenalty must be > 0, got ${penalty}`);
  if (!(temperature >= 0)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
  if (!(Number.isInteger(topK) && topK >= 0)) throw new Error(`generate: topK must be a non-negative integer, got ${topK}`);
  if (!(topP >= 0 && topP <= 1)) throw new Error(`generate: topP must be in [0, 1], got ${topP}`);
  if (penalty !== 1) {
    for (const id of new Set(previous)) {
      const s = logits[id];
      logits[id] = s < 0 ? s * penalty : s / penalty;
    }
  }
  if (temperature > 0 && temperature !== 1) for (let j = 0; j < V; j++) logits[j] /= temperature;
  if (topK > 0 && topK < V) {
    const kth = Float64Array.from(logits).sort().reverse()[topK - 1]; // the k-th largest
    for (let j = 0; j < V; j++) if (logits[j] < kth) logits[j] = -Infinity;
  }
  if (topP < 1) {
    // TopPLogitsWarper removes a token when the probability of it and everything less likely is
    // ≤ 1 − p, i.e. when the tokens more likely than it already reach p. Walk down from the top.
    const sorted = Float64Array.from(logits).sort(); // ascending
    const m = sorted[V - 1];
    let z = 0;
    for (let r = 0; r < V; r++) z += Math.exp(sorted[r] - m);
    let cum = 0,
      threshold = m;
    for (let r = V - 1; r >= 0 && (r === V - 1 || cum < topP); r--) {
      // the most likely token always stays
      threshold = sorted[r];
      cum += Math.exp(sorted[r] - m) / z;
    }
    for (let j = 0; j < V; j++) if (logits[j] < threshold) logits[j] = -Infinity;
  }
  return logits;
}

/** The next token from one row of logits: processed, then argmax (temperature 0) or drawn with uniform u ∈ [0, 1). */
export function sampleNext(logits: Float64Array, previous: readonly number[], o: SamplingOptions, u: number): number {
  const l = processLogits(logits, previous, o);
  let best = 0;
  for (let j = 1; j < l.length; j++) if (l[j] > l[best]) best = j;
  const m = l[best];
  if (!Number.isFinite(m)) throw new Error(`generate: the logits hold no finite maximum (${m}); the model's outputs are not usable`);
  if ((o.temperature ?? 1) === 0) return best;
  let z = 0;
  for (let j = 0; j < l.length; j++) z += Math.exp(l[j] - m);
  const target = u * z;
  let cum = 0,
    last = best;
  for (let j = 0; j < l.length; j++) {
    const p = Math.exp(l[j] - m);
    if (p === 0) continue;
    cum += p;
    last = j;
    if (cum > target) return j;
  }
  return last; // rounding left target at the very end
}

/** Options of `GPT.generate`: how many tokens, sampling, seeding, stopping and streaming. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add (per row). */
  maxNewTokens: number;
  /** Seed of a fresh generator for sampling: the same seed gives the same tokens. */
  seed?: number;
  /** Or a generator to draw from (default: the global one, seeded by manualSeed). */
  generator?: Generator;
  /** Stop a row once it ends with one of these token sequences (they are kept in the output). */
  stop?: number[][];
  /** Fills the rows that stopped while others go on (default eosTokenId, else 0). */
  padTokenId?: number;
  /** Called with each new token as it is produced (row = index in the batch). */
  onToken?: (id: number, row: number) => void;
  /** Keep keys and values between steps (default true); false recomputes the whole context each step. */
  useCache?: boolean;
}

// ---------------------------------------------------------------------------------------------
// The decoding loop

/**
 * Append maxNewTokens tokens to each row of idx with `model`, reading each step's logits
 * synchronously (see GPT.generate).
 */
export function generateTokens(model: CausalLM, idx: Ids, opts: GenerateOptions): Tensor {
  const { rows, rank } = toRows(idx);
  const dec = decoder(model, rows, opts);
  try {
    for (let logits = dec.step(); logits; logits = dec.step()) {
      let data: ArrayLike<number>;
      try {
        data = logits.dataSync();
      } finally {
        logits.dispose();
      }
      dec.accept(data);
    }
  } finally {
    dec.close();
  }
  return idsTensor(rows, rank);
}

/** generateTokens with each step's logits awaited, for backends that read asynchronously (see GPT.generateAsync). */
export async function generateTokensAsync(model: CausalLM, idx: Ids, opts: GenerateOptions): Promise<Tensor> {
  const { rows, rank } = toRows(idx instanceof Tensor ? await idsOf(idx) : idx);
  for await (const _ of stepsAsync(model, rows, opts)); // each step appends to rows
  return idsTensor(rows, rank);
}

/** The new tokens of one sequence as they are produced (see GPT.stream). */
export async function* streamTokens(model: CausalLM, idx: Ids, opts: GenerateOptions): AsyncGenerator<number> {
  const { rows } = toRows(idx instanceof Tensor ? await idsOf(idx) : idx);
  if (rows.length !== 1) throw new Error(`GPT.stream: streams one sequence, got a batch of ${rows.length}; use generate with onToken for batches`);
  for await (const [id] of stepsAsync(model, rows, opts)) if (id !== null) yield id;
}

/**
 * The decoding loop with each step's logits awaited: yields each step's new ids (one per row, null
 * for a row that has stopped), appending them to `rows`; the cache is freed however the loop ends.
 */
async function* stepsAsync(model: CausalLM, rows: number[][], opts: GenerateOptions): AsyncGenerator<(number | null)[]> {
  const dec = decoder(model, rows, opts);
  try {
    for (let logits = dec.step(); logits; logits = dec.step()) {
      let data: ArrayLike<number>;
      try {
        data = await logits.data();
      } finally {
        logits.dispose();
      }
      yield dec.accept(data);
    }
  } finally {
    dec.close();
  }
}

/**
 * The generation loop, one step at a time: step() runs the model on the new tokens and returns
 * the next-token logits [B, V] (null when done), accept() samples from them and appends to
 * `rows` in place, close() frees the cache and restores the training mode.
 */
function decoder(model: CausalLM, rows: number[][], opts: GenerateOptions) {
  const c = model.config,
    B = rows.length,
    V = c.vocabSize,
    n = opts.maxNewTokens;
  if (!Number.isInteger(n) || n < 0) throw new Error(`GPT.generate: maxNewTokens must be a non-negative integer, got ${n}`);
  if (B === 0 || rows[0].length === 0 || rows.some((r) => r.length !== rows[0].length)) {
    throw new Error('GPT.generate: idx needs at least one row, and every row the same non-zero length');
  }
  for (const r of rows)
    for (const t of r) {
      if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`GPT.generate: token ${t} is out of range for a vocabulary of ${V}`);
    }
  processLogits(new Float64Array(1), [], opts); // check the sampling options before any work
  const stops = (opts.stop ?? []).filter((s) => s.length > 0);
  const pad = opts.padTokenId ?? c.eosTokenId ?? 0;
  const gen = opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator);
  const useCache = opts.useCache ?? true;
  const device = model.parameters()[0]?.device;
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  model.eval();
  let caches: LayerCache[] | null = null;
  const free = (cs: LayerCache[] | null) => {
    for (const lc of cs ?? []) {
      lc.k?.dispose();
      lc.v?.dispose();
    }
  };
  const done = new Array<boolean>(B).fill(false);
  let made = 0;
  return {
    step: (): Tensor | null => {
      if (made >= n || done.every(Boolean)) return null;
      const len = rows[0].length;
      // The cache covers positions 0..len-2. Past the context the window slides, positions shift,
      // and every step recomputes the last nPositions tokens (nanoGPT's crop).
      const cached = useCache && len <= c.nPositions;
      const past = cached && caches ? len - 1 : 0;
      const start = past > 0 ? past : Math.max(0, len - c.nPositions);
      const old = caches;
      const next: LayerCache[] | null = cached ? Array.from({ length: c.nLayer }, (_, i) => ({ k: old?.[i].k ?? null, v: old?.[i].v ?? null })) : null;
      const input = makeTensor(
        rows.map((r) => r.slice(start)),
        { dtype: 'int32', device },
      );
      // (B, V); the new caches outlive the scope
      const { logits } = noGrad(() => scope(() => ({ logits: model.lastLogits(input, next ?? undefined), next })));
      input.dispose();
      free(old);
      caches = next;
      return logits;
    },
    accept: (data: ArrayLike<number>): (number | null)[] => {
      made++;
      const uniforms = gen.uniformArray(B);
      return rows.map((row, b) => {
        if (done[b]) {
          row.push(pad);
          return null;
        }
        const id = sampleNext(
          Float64Array.from({ length: V }, (_, j) => data[b * V + j]),
          row,
          opts,
          uniforms[b],
        );
        row.push(id);
        opts.onToken?.(id, b);
        if (stops.some((s) => endsWith(row, s))) done[b] = true;
        return id;
      });
    },
    close: (): void => {
      free(caches);
      caches = null;
      for (const [m, t] of modes) m.training = t;
    },
  };
}

/** Token rows as an int32 tensor of the caller's rank ([T] or [B, T]). */
function idsTensor(rows: number[][], rank: number): Tensor {
  const T = rows[0].length;
  return fromTypedArray(Int32Array.from(rows.flat()), rank === 1 ? [T] : [rows.length, T], 'int32');
}

/** A tensor of token ids as arrays (read asynchronously), same rank. */
async function idsOf(t: Tensor): Promise<number[] | number[][]> {
  checkIds(t);
  const d = Array.from(await t.data());
  const T = t.shape[t.ndim - 1];
  return t.ndim === 1 ? d : Array.from({ length: t.shape[0] }, (_, b) => d.slice(b * T, (b + 1) * T));
}

function checkIds(t: Tensor): void {
  if (t.dtype !== 'int32' || (t.ndim !== 1 && t.ndim !== 2)) throw new Error(`GPT.generate: idx must be int32 [B, T] or [T], got ${t.dtype} ${fmtShape(t.shape)}`);
}

/** Rows of token ids from a tensor or arrays; rank 1 for a single sequence. */
function toRows(idx: Ids): { rows: number[][]; rank: number } {
  if (idx instanceof Tensor) {
    checkIds(idx);
    const d = Array.from(idx.dataSync());
    const T = idx.shape[idx.ndim - 1],
      B = idx.ndim === 1 ? 1 : idx.shape[0];
    return { rows: Array.from({ length: B }, (_, b) => d.slice(b * T, (b + 1) * T)), rank: idx.ndim };
  }
  if (idx.length > 0 && Array.isArray(idx[0])) return { rows: (idx as number[][]).map((r) => [...r]), rank: 2 };
  return { rows: [[...(idx as number[])]], rank: 1 };
}

function endsWith(seq: readonly number[], tail: readonly number[]): boolean {
  if (tail.length > seq.length) return false;
  for (let i = 1; i <= tail.length; i++) if (seq[seq.length - i] !== tail[tail.length - i]) return false;
  return true;
}
