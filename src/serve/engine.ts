// The continuous-batching generation engine behind `nabla serve` (serve/engine-api.ts is its
// contract with the HTTP server): requests wait in a bounded queue for one of `parallel` slots;
// those admitted together are prefilled in one forward, then everything running decodes together,
// one batched forward per step over every active sequence, each with its own position and cache
// (models/kv-cache.ts).
// Sampling runs on the host per request, with the request's own generator, so a seeded request
// draws the same tokens whatever else is running. Between steps the loop yields to the event loop,
// so HTTP work goes on. Browser-safe: no Node import.

import type { Module } from '../nn/module.js';
import { tensor as makeTensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { mean } from '../ops/reduce.js';
import { Generator } from '../ops/random.js';
import { sampleNext, type SamplingOptions } from '../models/generation.js';
import type { SlotCache, SlotLM } from '../models/kv-cache.js';
import { type Engine, EngineError, type EngineRequest, type EngineResult, type FinishReason, type StepInfo } from './engine-api.js';

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** Requests decoding together: the number of slots (default 4). */
  parallel?: number;
  /** Positions per slot, prompt + generated (default: the model's context, nPositions). */
  ctx?: number;
  /** Requests that may wait for a slot (default 64); past it submit refuses with 'queue_full'. */
  maxQueue?: number;
  /**
   * Prompt tokens prefilled together between two decoding steps (default 512; a longer prompt
   * goes alone): more gives throughput to arrivals, less keeps the running streams' steps short.
   */
  prefillTokens?: number;
}

/** One request from submit to its end. */
interface Job {
  readonly req: EngineRequest;
  /** Prompt then generated tokens (the repetition penalty and stop sequences look at all of it). */
  readonly seq: number[];
  /** Generated tokens returned to the caller (EOS left out). */
  readonly tokens: number[];
  readonly sampling: SamplingOptions;
  readonly stops: (readonly number[])[];
  readonly gen: Generator;
  readonly submitted: number;
  admitted: number;
  firstToken: number;
  /** Tokens sampled, EOS included (usage's completion_tokens). */
  made: number;
  slot: number;
  aborted: boolean;
  finished: boolean;
  resolve: (r: EngineResult) => void;
  reject: (e: unknown) => void;
  onAbort: (() => void) | null;
}

const now = (): number => globalThis.performance.now();
/** The next macrotask: setImmediate in Node, a zero timeout in browsers. */
const nextTick = (): Promise<void> => new Promise((resolve) => (typeof globalThis.setImmediate === 'function' ? globalThis.setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * A continuous-batching engine over `model` (GPT, or any {@link SlotLM}): the slots' caches are
 * allocated here, once, for `parallel` × `ctx` positions.
 *
 * Tokens: `tokens` holds what was generated, a stop sequence included, the model's EOS left out
 * (its id is not passed to onToken either); `completionTokens` counts every sampled token, EOS
 * included, as vLLM does. A negative seed s is taken as 2^53 + s (Philox seeds are non-negative).
 * @example
 * const engine = createEngine(model, { parallel: 8, ctx: 512, maxQueue: 32 });
 * const { tokens } = await engine.submit({ prompt: [15496, 11], maxTokens: 20, temperature: 0 });
 */
export function createEngine(model: SlotLM & Module, opts: EngineOptions = {}): Engine {
  return new BatchEngine(model, opts);
}

class BatchEngine implements Engine {
  readonly parallel: number;
  readonly ctx: number;
  readonly maxQueue: number;
  readonly vocabSize: number;
  readonly eosTokenId: number | null;
  readonly prefillTokens: number;
  private readonly slots: SlotCache;
  private readonly free: number[];
  private readonly queue: Job[] = [];
  private readonly active = new Set<Job>();
  private readonly listeners: ((info: StepInfo) => void)[] = [];
  private readonly modes: (readonly [Module, boolean])[];
  private looping = false;
  private closing = false;
  private disposed = false;
  private idleWaiters: (() => void)[] = [];
  private closed: Promise<void> | null = null;

  /** Draws for requests without a seed: the engine's own, so serving leaves the process's default generator alone. */
  private readonly unseeded = new Generator();

  constructor(
    private readonly model: SlotLM & Module,
    opts: EngineOptions,
  ) {
    const c = model.config;
    const int = (v: number, min: number, what: string) => {
      if (!Number.isInteger(v) || v < min) throw new Error(`createEngine: ${what} must be an integer >= ${min}, got ${v}`);
      return v;
    };
    this.parallel = int(opts.parallel ?? 4, 1, 'parallel');
    this.ctx = int(opts.ctx ?? c.nPositions, 1, 'ctx');
    if (this.ctx > c.nPositions) throw new Error(`createEngine: ctx ${this.ctx} is longer than the model's context of ${c.nPositions} positions; use --ctx ${c.nPositions} or less`);
    this.maxQueue = int(opts.maxQueue ?? 64, 0, 'maxQueue');
    this.prefillTokens = int(opts.prefillTokens ?? 512, 1, 'prefillTokens');
    this.vocabSize = c.vocabSize;
    this.eosTokenId = c.eosTokenId;
    this.modes = [...model.modules()].map((m) => [m, m.training] as const);
    model.eval();
    this.slots = model.allocSlots(this.parallel, this.ctx);
    this.free = Array.from({ length: this.parallel }, (_, i) => this.parallel - 1 - i); // pop() takes slot 0 first
  }

  get running(): number {
    return this.active.size;
  }

  get waiting(): number {
    return this.queue.length;
  }

  submit(req: EngineRequest): Promise<EngineResult> {
    if (this.closing) return Promise.reject(new EngineError('shutting_down', 'the server is shutting down and takes no new requests; retry against another instance'));
    let job: Job;
    try {
      job = this.makeJob(req);
    } catch (e) {
      return Promise.reject(e);
    }
    // Requests that will get a slot at the next step do not wait for one.
    if (this.queue.length >= this.maxQueue + Math.max(0, this.free.length)) {
      return Promise.reject(
        new EngineError('queue_full', `all ${this.parallel} slots are busy and ${this.queue.length} requests are already waiting (the limit is ${this.maxQueue}); retry later`),
      );
    }
    const done = new Promise<EngineResult>((resolve, reject) => {
      job.resolve = resolve;
      job.reject = reject;
    });
    if (req.signal?.aborted) {
      job.aborted = true;
      this.finish(job, 'abort');
      return done;
    }
    if (req.maxTokens === 0) {
      this.finish(job, 'length');
      return done;
    }
    if (req.signal) {
      job.onAbort = () => {
        job.aborted = true;
        // A queued request ends now; a running one at the start of the next step.
        const i = this.queue.indexOf(job);
        if (i >= 0) {
          this.queue.splice(i, 1);
          this.finish(job, 'abort');
        }
      };
      req.signal.addEventListener('abort', job.onAbort, { once: true });
    }
    this.queue.push(job);
    // On the next macrotask: submit returns at once, and requests submitted together prefill together.
    if (!this.looping) void nextTick().then(() => this.loop());
    return done;
  }

  async embed(inputs: readonly (readonly number[])[], signal?: AbortSignal): Promise<number[][]> {
    if (this.closing) throw new EngineError('shutting_down', 'the server is shutting down and takes no new requests; retry against another instance');
    if (!Array.isArray(inputs) || inputs.length === 0) throw new EngineError('invalid_request', 'embed: give at least one sequence of token ids', 'input');
    const { nPositions } = this.model.config;
    inputs.forEach((ids, i) => {
      this.checkIds(ids, `input[${i}]`, 'input');
      if (ids.length > nPositions) {
        throw new EngineError('context_length', `input[${i}] has ${ids.length} tokens, more than the model's context of ${nPositions}; shorten it`, 'input');
      }
    });
    const device = this.model.parameters()[0]?.device;
    const out: number[][] = [];
    for (const ids of inputs) {
      signal?.throwIfAborted();
      if (this.closing) throw new EngineError('shutting_down', 'the server is shutting down; retry against another instance');
      const pooled = noGrad(
        () => scope(() => mean(this.model.hiddenStates(makeTensor([[...ids]], { dtype: 'int32', device })), 1)), // (1, T, C) → (1, C)
      );
      try {
        out.push(Array.from(await pooled.data()));
      } finally {
        pooled.dispose();
      }
      await nextTick(); // a long list of inputs does not hold up the decoding loop
    }
    return out;
  }

  onStep(listener: (info: StepInfo) => void): void {
    this.listeners.push(listener);
  }

  close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    this.closed ??= (async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, graceMs));
      });
      await Promise.race([this.idle(), grace]);
      clearTimeout(timer);
      for (const job of this.queue.splice(0)) {
        job.aborted = true;
        this.finish(job, 'abort');
      }
      for (const job of this.active) job.aborted = true; // retired at the start of the next step
      await this.idle();
      this.slots.dispose();
      this.disposed = true;
      for (const [m, t] of this.modes) m.training = t;
    })();
    return this.closed;
  }

  // -------------------------------------------------------------------------------------------

  /** Resolves when nothing is queued or running. */
  private idle(): Promise<void> {
    if (!this.looping && this.queue.length === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The decoding loop: retire, admit and prefill, one batched decoding step, yield; until idle. */
  private async loop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      while (this.queue.length > 0 || this.active.size > 0) {
        const start = now();
        for (const job of this.active) if (job.aborted) this.finish(job, 'abort');
        // Admit what the free slots and the prompt budget allow (at least one prompt), prefilled together.
        const admitted: Job[] = [];
        let budget = this.prefillTokens;
        // Several prompts in one forward only where the slots can prefill them together.
        const together = this.slots.prefillMany !== undefined;
        while (this.free.length > admitted.length && this.queue.length > 0 && (admitted.length === 0 || (together && this.queue[0].req.prompt.length <= budget))) {
          const job = this.queue.shift()!;
          budget -= job.req.prompt.length;
          admitted.push(job);
        }
        if (admitted.length > 0) await this.prefill(admitted);
        const prefilled = admitted.length;
        const batch = [...this.active].filter((j) => !j.finished && !j.aborted);
        if (batch.length > 0) await this.decode(batch);
        if (prefilled > 0 || batch.length > 0) {
          const info: StepInfo = { batchSize: batch.length, prefilled, ms: now() - start };
          for (const l of this.listeners) {
            try {
              l(info);
            } catch {
              // A metrics listener that throws must not stop the requests.
            }
          }
        }
        await nextTick();
      }
    } catch (e) {
      // Not reached by model errors (prefill and decode fail their own requests): a bug here must
      // still end every request rather than leave them waiting.
      for (const job of [...this.active, ...this.queue.splice(0)]) this.fail(job, e);
    } finally {
      this.looping = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Give each job a slot, run their prompts in one forward, sample their first tokens. */
  private async prefill(jobs: Job[]): Promise<void> {
    const V = this.vocabSize;
    for (const job of jobs) {
      job.slot = this.free.pop()!;
      job.admitted = now();
      this.active.add(job);
    }
    const slots = jobs.map((j) => j.slot),
      prompts = jobs.map((j) => j.req.prompt);
    const data = await this.logitsOf(jobs, () => (this.slots.prefillMany ? this.slots.prefillMany(slots, prompts) : this.slots.prefill(slots[0], prompts[0]))); // (n, V)
    if (!data) return;
    const t = now();
    jobs.forEach((job, b) => {
      job.firstToken = t;
      this.accept(job, rowOf(data, b, V));
    });
  }

  /** One batched forward over every active sequence, then a token for each. */
  private async decode(batch: Job[]): Promise<void> {
    const V = this.vocabSize;
    const data = await this.logitsOf(batch, () =>
      this.slots.decode(
        batch.map((j) => j.slot),
        batch.map((j) => j.seq[j.seq.length - 1]),
      ),
    ); // (B, V)
    if (!data) return;
    batch.forEach((job, b) => {
      if (!job.finished) this.accept(job, rowOf(data, b, V));
    });
  }

  /** The logits `forward` computes for `jobs`, read back; null when it fails, which fails those jobs. */
  private async logitsOf(jobs: readonly Job[], forward: () => Tensor): Promise<ArrayLike<number> | null> {
    try {
      const logits = noGrad(forward);
      try {
        return await logits.data();
      } finally {
        logits.dispose();
      }
    } catch (e) {
      for (const job of jobs) this.fail(job, e);
      return null;
    }
  }

  /** Sample the next token of `job` from its logits row and decide whether it ends the request. */
  private accept(job: Job, logits: Float64Array): void {
    const u = job.gen.uniformArray(1)[0]; // one draw per token, as GPT.generate does for one row
    let id: number;
    try {
      id = sampleNext(logits, job.seq, job.sampling, u);
    } catch (e) {
      this.fail(job, e);
      return;
    }
    job.seq.push(id);
    job.made++;
    if (id === this.eosTokenId) return this.finish(job, 'stop');
    job.tokens.push(id);
    try {
      job.req.onToken?.(id);
    } catch (e) {
      this.fail(job, e);
      return;
    }
    if (job.stops.some((s) => endsWith(job.seq, s))) return this.finish(job, 'stop');
    if (job.made >= job.req.maxTokens) return this.finish(job, 'length');
  }

  /** End a request: free its slot and resolve it. */
  private finish(job: Job, reason: FinishReason): void {
    if (job.finished) return;
    this.release(job);
    const end = now();
    const first = job.firstToken || end;
    job.resolve({
      tokens: job.tokens,
      finishReason: reason,
      promptTokens: job.req.prompt.length,
      completionTokens: job.made,
      timeToFirstTokenMs: job.firstToken ? job.firstToken - job.submitted : 0,
      promptMs: job.firstToken ? job.firstToken - job.admitted : 0,
      generationMs: job.firstToken ? end - first : 0,
      queuedMs: (job.admitted || end) - job.submitted,
    });
  }

  /** End a request with an error (the model failed, or a callback threw): the others go on. */
  private fail(job: Job, e: unknown): void {
    if (job.finished) return;
    this.release(job);
    job.reject(e);
  }

  private release(job: Job): void {
    job.finished = true;
    if (job.onAbort) job.req.signal?.removeEventListener('abort', job.onAbort);
    if (this.active.delete(job)) {
      if (!this.disposed) this.slots.release(job.slot);
      this.free.push(job.slot);
    }
  }

  /** Validate a request (EngineError naming the field) and make its job. */
  private makeJob(req: EngineRequest): Job {
    const bad = (param: string, message: string) => new EngineError('invalid_request', message, param);
    if (req === null || typeof req !== 'object') throw bad('prompt', 'submit: expected a request object');
    this.checkIds(req.prompt, 'prompt', 'prompt');
    const P = req.prompt.length;
    if (P > this.ctx) throw new EngineError('context_length', `the prompt has ${P} tokens, more than the context of ${this.ctx}; shorten it`, 'prompt');
    const n = req.maxTokens;
    if (!Number.isInteger(n) || n < 0) throw bad('max_tokens', `max_tokens must be a non-negative integer, got ${n}`);
    if (P + n > this.ctx) {
      throw new EngineError(
        'context_length',
        `the prompt (${P} tokens) plus max_tokens (${n}) is ${P + n} tokens, more than the context of ${this.ctx}; ask for at most ${this.ctx - P} tokens or shorten the prompt`,
        'max_tokens',
      );
    }
    const num = (v: unknown, name: string, ok: (x: number) => boolean, what: string) => {
      if (v === undefined) return;
      if (typeof v !== 'number' || !ok(v)) throw bad(name, `${name} must be ${what}, got ${String(v)}`);
    };
    num(req.temperature, 'temperature', (x) => Number.isFinite(x) && x >= 0, 'a number >= 0 (0 is greedy)');
    num(req.topP, 'top_p', (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
    num(req.topK, 'top_k', (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer (0 keeps every token)');
    num(req.repetitionPenalty, 'repetition_penalty', (x) => Number.isFinite(x) && x > 0, 'a number > 0 (1 is none)');
    num(req.seed, 'seed', Number.isSafeInteger, 'an integer');
    const stops = req.stopTokens ?? [];
    if (!Array.isArray(stops)) throw bad('stop', 'stop sequences must be a list of token id lists');
    stops.forEach((s, i) => this.checkIds(s, `stop[${i}]`, 'stop', true));
    if (req.signal !== undefined && !(typeof req.signal === 'object' && req.signal && 'aborted' in req.signal)) throw bad('signal', 'signal must be an AbortSignal');
    const seed = req.seed;
    return {
      req,
      seq: [...req.prompt],
      tokens: [],
      sampling: { temperature: req.temperature, topP: req.topP, topK: req.topK, repetitionPenalty: req.repetitionPenalty },
      stops: stops.filter((s) => s.length > 0),
      gen: seed === undefined ? this.unseeded : new Generator(seed < 0 ? 2 ** 53 + seed : seed),
      submitted: now(),
      admitted: 0,
      firstToken: 0,
      made: 0,
      slot: -1,
      aborted: false,
      finished: false,
      resolve: () => {},
      reject: () => {},
      onAbort: null,
    };
  }

  private checkIds(ids: unknown, where: string, param: string, allowEmpty = false): void {
    if (!Array.isArray(ids) || (!allowEmpty && ids.length === 0)) {
      throw new EngineError('invalid_request', `${where} must be a non-empty list of token ids`, param);
    }
    for (const t of ids) {
      if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize) {
        throw new EngineError('invalid_request', `${where}: token ${t} is not an id of this model's vocabulary (0..${this.vocabSize - 1})`, param);
      }
    }
  }
}

/** Row b of logits [B, V] in float64, for sampling. */
function rowOf(data: ArrayLike<number>, b: number, V: number): Float64Array {
  const row = new Float64Array(V);
  for (let j = 0; j < V; j++) row[j] = data[b * V + j];
  return row;
}

function endsWith(seq: readonly number[], tail: readonly number[]): boolean {
  if (tail.length > seq.length) return false;
  for (let i = 1; i <= tail.length; i++) if (seq[seq.length - i] !== tail[tail.length - i]) return false;
  return true;
}
