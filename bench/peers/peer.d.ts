// The types of the benchmark's JavaScript: what every peer (nabla.mjs, tfjs.mjs, jaxjs.mjs) offers
// child.mjs, and the shared GPT inputs of gpt-common.mjs. Only for type-checking (tsconfig.check.json).

/** One weight by Hugging Face name: its shape and row-major data. */
export interface BenchWeight {
  shape: number[];
  data: Float32Array;
}

/** gptWeights(): the initial weights by name. */
export type BenchWeights = Record<string, BenchWeight>;

/** One token batch: int32 [batch, context] inputs and the next tokens. */
export interface BenchBatch {
  x: Int32Array;
  y: Int32Array;
}

/** timeTraining's options: warm-up steps, then timed steps within these bounds. */
export interface TrainingOptions {
  warmup?: number;
  minSeconds?: number;
  minSteps?: number;
  maxSteps?: number;
  maxSeconds?: number;
}

/** What timeTraining measures. */
export interface TrainingResult {
  tokensPerSecond: number;
  timedSteps: number;
  warmupSteps: number;
  seconds: number;
  warmupSeconds: number;
  initialLoss: number;
  finalLoss: number;
  losses: number[];
}

/** The MNIST epoch's options. */
export interface MnistOptions {
  batchSize?: number;
  lr?: number;
  epochs?: number;
  maxSeconds?: number;
  readEvery?: number;
}

/** A value or a promise of it: child.mjs awaits every call (jax-js's are synchronous). */
type Awaitable<T> = T | Promise<T>;

/** A library under test, as child.mjs drives it; results are printed as JSON. */
export interface Peer {
  name: string;
  /** Select the backend; what it runs on (variant, threads, adapter...). */
  init(backend?: string): Awaitable<object>;
  /** Seconds per n×n matmul of the variant ('plain', 'transA', 'transB', 'batched'), and its flops. */
  matmul(n: number, variant: string, minSeconds: number): Awaitable<{ secondsPerOp: number; flops: number }>;
  /** The MNIST CNN's two conv layers, forward and backward. */
  conv2d(minSeconds: number): Awaitable<{ forwardSeconds: number; backwardSeconds?: number; note?: string }>;
  /** One epoch of the 784-512-10 MLP with Adam on images x [n·784] and labels y [n]. */
  mnistEpoch(x: Float32Array, y: Int32Array, opts: MnistOptions): Awaitable<{ seconds: number; stepsRun: number; extrapolated: boolean; finalLoss: number }>;
  /** The same network trained Keras-style (compile/fit), where the library has it. */
  mnistFit?(x: Float32Array, y: Int32Array, opts: { batchSize?: number }): Awaitable<{ seconds: number; finalLoss: number | undefined }>;
  /** GPT `tiny` training from the shared weights and batches. */
  gptTrain?(weights: BenchWeights, batches: BenchBatch[], opts: TrainingOptions): Awaitable<TrainingResult & { params: number; note?: string }>;
}
