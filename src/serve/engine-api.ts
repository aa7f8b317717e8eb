// What the HTTP server (serve/app.ts) asks of the generation engine (serve/engine.ts): requests of
// token ids in, tokens out one at a time, with the counts and timings an OpenAI-style response
// reports. The engine knows nothing of HTTP, text or chat; the server knows nothing of caches or
// batches. Browser-safe: no Node import.

/** One generation request, in token ids. */
export interface EngineRequest {
  /** The prompt's token ids (at least one). */
  prompt: readonly number[];
  /** Tokens to generate at most (≥ 0); prompt.length + maxTokens must fit the engine's context. */
  maxTokens: number;
  /** 0 = greedy (argmax); default 1. */
  temperature?: number;
  /** Keep the smallest set of most likely tokens reaching p; default 1 (all). */
  topP?: number;
  /** Keep the k most likely tokens; default 0 (all). */
  topK?: number;
  /** > 1 discourages tokens already in the sequence; default 1. */
  repetitionPenalty?: number;
  /** Seeds this request's own generator: the same seed gives the same tokens whatever else runs. */
  seed?: number;
  /** Token sequences that end the request when generated (kept in the output). The model's EOS always ends it. */
  stopTokens?: readonly (readonly number[])[];
  /** Aborting it ends the request (finish reason 'abort') and frees its slot within one decoding step. */
  signal?: AbortSignal;
  /** Called with each generated token as soon as it is sampled, in order. */
  onToken?: (id: number) => void;
}

/** Why a request ended: EOS or a stop sequence, maxTokens (or the context) reached, aborted. */
export type FinishReason = 'stop' | 'length' | 'abort';

/** A finished request: its tokens and the figures of `usage` and `timings`. */
export interface EngineResult {
  tokens: number[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** From submit to the end of the prefill (the first token sampled), ms. */
  timeToFirstTokenMs: number;
  /** Time spent computing the prompt, ms. */
  promptMs: number;
  /** From the first token to the last, ms. */
  generationMs: number;
  /** Time spent waiting in the queue for a slot, ms. */
  queuedMs: number;
}

/** Why the engine refused a request: the server maps each code to an HTTP status. */
export type EngineErrorCode = 'queue_full' | 'context_length' | 'invalid_request' | 'shutting_down';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    /** The request field at fault, for OpenAI's `param`. */
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** What the engine reports after each decoding step (for metrics). */
export interface StepInfo {
  /** Sequences decoded together in this step. */
  batchSize: number;
  /** Prompts prefilled before this step. */
  prefilled: number;
  /** Wall time of the step, ms. */
  ms: number;
}

/** A continuous-batching generation engine over one model. */
export interface Engine {
  /** Most requests decoding together (slots). */
  readonly parallel: number;
  /** Context length per slot: prompt + generated tokens. */
  readonly ctx: number;
  /** Requests that may wait for a slot before submit refuses with 'queue_full'. */
  readonly maxQueue: number;
  readonly vocabSize: number;
  /** The model's end-of-text id, or null. */
  readonly eosTokenId: number | null;
  /** Requests decoding now. */
  readonly running: number;
  /** Requests queued for a slot. */
  readonly waiting: number;
  /**
   * Queue a request; resolves when it ends (including by abort). Rejects with EngineError for a
   * full queue, a prompt or maxTokens past the context, bad sampling fields, or after close().
   */
  submit(req: EngineRequest): Promise<EngineResult>;
  /**
   * Mean over positions of the last hidden state (after the final norm) of each id sequence.
   * Stops between sequences when `signal` aborts (rejecting with an AbortError) or close() begins
   * ('shutting_down'), so a long list neither outlives its client nor holds up a shutdown.
   */
  embed(inputs: readonly (readonly number[])[], signal?: AbortSignal): Promise<number[][]>;
  /** Register a listener called after each decoding step. */
  onStep(listener: (info: StepInfo) => void): void;
  /**
   * Stop admitting (new submits reject with 'shutting_down'), let running and queued requests
   * finish, abort what is left after graceMs, then free the caches.
   */
  close(graceMs?: number): Promise<void>;
}
