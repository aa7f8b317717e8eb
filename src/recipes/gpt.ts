// The language-model recipe behind `nabla train gpt`, `nabla finetune`, `nabla eval DIR --text` and
// `nabla generate`: a text file → tokenizer → GPT, trained by the Trainer on random windows with
// AdamW (decay on matrices only), warmup + cosine, gradient clipping and accumulation; periodic
// validation loss, perplexity and a sample; checkpoints in the Hugging Face layout plus the
// training state (TrainingCheckpoint), so `--resume` continues the same run and `transformers`
// loads the weights.

import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Generator, defaultGenerator, manualSeed } from '../ops/random.js';
import { CosineWarmupLR } from '../optim/lr-scheduler.js';
import type { Optimizer } from '../optim/optimizer.js';
import { loadTrainingState, checkSaveTarget, lockCheckpoint } from '../io/checkpoint.js';
import { languageModelFrom, isAdapterDir } from '../models/pretrained.js';
import { GPT } from '../models/gpt.js';
import type { Llama } from '../models/llama.js';
import { GPT_PRESETS, type GPTConfig } from '../models/gpt-config.js';
import { CharTokenizer, BPETokenizer, type Tokenizer } from '../text/index.js';
import { DIVERGENCE } from '../train/loss-guard.js';
import { Trainer } from '../train/trainer.js';
import { LambdaCallback, TrainingCheckpoint } from '../train/callbacks.js';
import { smokeCaps } from '../train/smoke.js';
import { readFileBytes } from '../platform/fs.js';

export interface GptTrainOptions {
  /** A UTF-8 text file to train on (90% train, the last 10% validation). */
  text: string;
  /** 'char' (one token per character, the default) or 'bpe' (byte-level BPE trained on the text). */
  tokenizer?: 'char' | 'bpe';
  /** Vocabulary size of a trained BPE tokenizer (special tokens included). */
  vocabSize?: number;
  /** A GPT_PRESETS name (default 'tiny'); layers/heads/dim/context override it. */
  preset?: string;
  layers?: number;
  heads?: number;
  dim?: number;
  context?: number;
  dropout?: number;
  /** Optimizer steps (each of batchSize × gradAccum windows). */
  steps?: number;
  batchSize?: number;
  gradAccum?: number;
  /** Peak learning rate; the cosine decays to minLr (default lr / 10). */
  lr?: number;
  minLr?: number;
  warmup?: number;
  weightDecay?: number;
  /** Clip the global gradient norm (0 = off). */
  clip?: number;
  /** Validate (and sample, and checkpoint) every N steps and at the end. */
  evalEvery?: number;
  /** Batches averaged for each validation loss. */
  evalIters?: number;
  /** Tokens sampled at each evaluation (0 = none). */
  sampleTokens?: number;
  seed?: number;
  /** Write a checkpoint here at every evaluation (a new or empty directory, or a checkpoint, which is replaced). */
  save?: string;
  /** Continue the run saved in this checkpoint (same options, same data); it is saved back there unless `save` says otherwise. */
  resume?: string;
  /** Start from this pre-trained model directory instead of a fresh one (fine-tuning). */
  init?: string;
  onStep?(info: GptStepInfo): void;
  onEval?(info: GptEvalInfo): void;
  /** Change what trains before the optimizer is made (e.g. inject LoRA adapters, which freezes the rest). */
  prepare?(model: GPT): void;
  /** Write the model's files into a checkpoint directory (default: model.savePretrained with the tokenizer). */
  writeModel?(model: GPT, dir: string, tokenizer: Tokenizer): Promise<void>;
}

/** Per step: `tokensPerSecond` over the last ~5 seconds of training steps. */
export interface GptStepInfo {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  seconds: number;
}
export interface GptEvalInfo {
  step: number;
  trainLoss: number;
  valLoss: number;
  valPerplexity: number;
  sample: string;
  seconds: number;
}

export const GPT_TRAIN_DEFAULTS = {
  tokenizer: 'char',
  vocabSize: 2048,
  preset: 'tiny',
  steps: 2000,
  batchSize: 32,
  gradAccum: 1,
  lr: 1e-3,
  warmup: 100,
  weightDecay: 0.1,
  clip: 1,
  evalEvery: 250,
  evalIters: 20,
  sampleTokens: 200,
  seed: 1337,
} as const;

/** Options that must match for --resume to continue the same run. */
const RUN_KEYS = [
  'tokenizer',
  'vocabSize',
  'preset',
  'layers',
  'heads',
  'dim',
  'context',
  'dropout',
  'steps',
  'batchSize',
  'gradAccum',
  'lr',
  'minLr',
  'warmup',
  'weightDecay',
  'clip',
  'seed',
] as const;

export interface GptTrainResult {
  model: GPT;
  tokenizer: Tokenizer;
  step: number;
  trainLoss: number;
  valLoss: number;
  valPerplexity: number;
  /** Training tokens per second over this run's steps (evaluations and checkpoints not counted). */
  tokensPerSecond: number;
  /** Wall time of the whole run. */
  seconds: number;
  history: GptEvalInfo[];
  /** Where the checkpoints went (null when not saved). */
  saved: string | null;
}

/** Where a run saves its checkpoints: `save`, else the directory it resumes; never a path read from a file. */
export function gptSavePath(o: Pick<GptTrainOptions, 'save' | 'resume'>): string | null {
  return o.save ?? o.resume ?? null;
}

/** The largest text file read for training or evaluation (V8 strings hold at most about 2^29 UTF-16 units). */
const MAX_TEXT_BYTES = 512 * 2 ** 20;

/** A UTF-8 text file to train or evaluate on; other encodings, binary files, FIFOs and devices are refused. */
export async function readTextCorpus(path: string, where: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(path, { maxBytes: MAX_TEXT_BYTES });
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  let text: string | null = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    /* not UTF-8 */
  }
  if (text === null || text.includes('\0')) {
    throw new Error(
      `${where}: ${path} is not UTF-8 text (${text === null ? 'it has bytes that are not UTF-8' : 'it has NUL bytes'}: a binary file, or another encoding); name a UTF-8 text file`,
    );
  }
  return text;
}

/** Token ids of a text file, and the 90/10 split. */
export interface TokenData {
  train: Int32Array;
  val: Int32Array;
}

export function splitTokens(ids: ArrayLike<number>, valFraction = 0.1): TokenData {
  const all = Int32Array.from(ids);
  const n = Math.floor(all.length * (1 - valFraction));
  return { train: all.subarray(0, n), val: all.subarray(n) };
}

/** A batch of B random windows of T + 1 tokens: inputs [B, T] and next-token targets [B, T]. */
export function sampleBatch(data: Int32Array, batchSize: number, context: number, gen: Generator): [Tensor, Tensor] {
  const T = Math.min(context, data.length - 1);
  if (T < 1) throw new Error(`train gpt: the data has ${data.length} tokens, too few for a window of ${context + 1}`);
  const starts = gen.uniformArray(batchSize);
  const x = new Int32Array(batchSize * T),
    y = new Int32Array(batchSize * T);
  for (let b = 0; b < batchSize; b++) {
    const s = Math.floor(starts[b] * (data.length - T));
    x.set(data.subarray(s, s + T), b * T);
    y.set(data.subarray(s + 1, s + T + 1), b * T);
  }
  return [tensor(x, { shape: [batchSize, T], dtype: 'int32' }), tensor(y, { shape: [batchSize, T], dtype: 'int32' })];
}

/** Mean loss of the model over `iters` random batches (no gradients, eval mode). */
export async function estimateLoss(model: GPT, data: Int32Array, o: { batchSize: number; iters: number; gen: Generator }): Promise<number> {
  const was = model.training;
  model.eval();
  let total = 0;
  try {
    for (let i = 0; i < o.iters; i++) {
      const l = noGrad(() =>
        scope(() => {
          const [x, y] = sampleBatch(data, o.batchSize, model.config.nPositions, o.gen);
          return model.forward(x, y).loss!;
        }),
      );
      total += (await l.data())[0];
      l.dispose();
    }
  } finally {
    model.train(was);
  }
  return total / o.iters;
}

/** Loss and perplexity of a model on every window of a text (stride = context), as `nabla eval DIR --text`. */
export async function evaluateText(model: GPT | Llama, tokenizer: Tokenizer, text: string): Promise<{ loss: number; perplexity: number; tokens: number }> {
  const ids = Int32Array.from(tokenizer.encode(text));
  const T = model.config.nPositions;
  if (ids.length < 2) throw new Error(`eval: the text has ${ids.length} tokens; at least 2 are needed`);
  const was = model.training;
  model.eval();
  let sum = 0,
    count = 0;
  try {
    for (let s = 0; s + 1 < ids.length; s += T) {
      const len = Math.min(T, ids.length - 1 - s);
      const l = noGrad(() =>
        scope(() => {
          const x = tensor(ids.slice(s, s + len), { shape: [1, len], dtype: 'int32' });
          const y = tensor(ids.slice(s + 1, s + len + 1), { shape: [1, len], dtype: 'int32' });
          return model.forward(x, y).loss!;
        }),
      );
      sum += (await l.data())[0] * len;
      count += len;
      l.dispose();
    }
  } finally {
    model.train(was);
  }
  const loss = sum / count;
  return { loss, perplexity: Math.exp(loss), tokens: count };
}

/** The model config from a preset and overrides. */
export function gptConfigFrom(o: Pick<GptTrainOptions, 'preset' | 'layers' | 'heads' | 'dim' | 'context' | 'dropout'>, vocabSize: number): GPTConfig {
  const name = o.preset ?? GPT_TRAIN_DEFAULTS.preset;
  const base = Object.hasOwn(GPT_PRESETS, name) ? GPT_PRESETS[name] : undefined;
  if (!base) throw new Error(`train gpt: unknown preset '${name}' (available: ${Object.keys(GPT_PRESETS).join(', ')})`);
  const c: GPTConfig = { ...base, vocabSize };
  if (o.layers !== undefined) c.nLayer = o.layers;
  if (o.heads !== undefined) c.nHead = o.heads;
  if (o.dim !== undefined) c.nEmbd = o.dim;
  if (o.context !== undefined) c.nPositions = o.context;
  if (o.dropout !== undefined) c.dropout = o.dropout;
  if (c.nEmbd % c.nHead !== 0) throw new Error(`train gpt: the width ${c.nEmbd} must be a multiple of the heads ${c.nHead}`);
  return c;
}

/** A sample continuation of `prompt` (a newline by default), for progress output. */
export async function sampleText(model: GPT, tokenizer: Tokenizer, n: number, seed: number, prompt = '\n'): Promise<string> {
  let ids: number[] = [];
  try {
    ids = tokenizer.encode(prompt);
  } catch {
    // a text without newlines has no '\n' in its character vocabulary: start from token 0 then
  }
  if (ids.length === 0) ids = [0];
  const out = await model.generateAsync([ids], { maxNewTokens: n, temperature: 0.8, topK: 50, seed });
  const all = Array.from(await out.data());
  out.dispose();
  return tokenizer.decode(all.slice(ids.length));
}

/** Pre-train (or, with `init`, fine-tune) a GPT on a text file. */
export async function trainGpt(opts: GptTrainOptions): Promise<GptTrainResult> {
  const start = performance.now();
  opts = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as GptTrainOptions; // unset flags keep the defaults
  opts = smokeCaps('train gpt', opts, opts.resume ? RUN_KEYS : []); // NABLA_SMOKE=1: a few seconds (a resumed run keeps its settings)
  let o: GptTrainOptions & typeof GPT_TRAIN_DEFAULTS = { ...GPT_TRAIN_DEFAULTS, ...opts } as never;
  let resumed: Awaited<ReturnType<typeof loadTrainingState>> | null = null;
  if (o.resume) {
    resumed = await loadTrainingState(o.resume);
    const saved = resumed.trainerState?.options as Record<string, unknown> | undefined;
    if (!resumed.trainerState || !saved || typeof resumed.trainerState.step !== 'number') {
      throw new Error(`train gpt --resume: ${o.resume} holds no training state (trainer_state.json with step and options)`);
    }
    for (const k of RUN_KEYS) {
      if (opts[k] !== undefined && saved[k] !== undefined && opts[k] !== saved[k]) {
        throw new Error(`train gpt --resume: --${k} ${String(opts[k])} differs from the run being resumed (${String(saved[k])})`);
      }
    }
    // Paths to write never come from the file: save where the user says, else where the run was resumed from.
    o = { ...o, ...(saved as object), text: opts.text ?? saved.text, save: gptSavePath(opts) ?? undefined, resume: o.resume, onStep: opts.onStep, onEval: opts.onEval } as never;
  }
  const savePath = gptSavePath(o);
  if (savePath) await checkSaveTarget(savePath, 'train gpt --save');
  const release = savePath ? lockCheckpoint(savePath, 'train gpt --save') : null;
  try {
    return await run(o, opts, resumed, savePath, start);
  } finally {
    release?.();
  }
}

async function run(
  o: GptTrainOptions & typeof GPT_TRAIN_DEFAULTS,
  opts: GptTrainOptions,
  resumed: Awaited<ReturnType<typeof loadTrainingState>> | null,
  savePath: string | null,
  start: number,
): Promise<GptTrainResult> {
  if (typeof o.text !== 'string') throw new Error('train gpt: no --text file to train on');
  const text = await readTextCorpus(o.text, 'train gpt --text');
  if (text.length === 0) throw new Error(`train gpt: ${o.text} is empty`);

  manualSeed(o.seed);
  let model: GPT, tokenizer: Tokenizer;
  const from = resumed?.dir ?? o.init;
  if (from) {
    if (resumed && (await isAdapterDir(from))) throw new Error('train gpt --resume: runs that change the model (LoRA adapters) cannot be resumed yet; start the fine-tuning again');
    ({ model, tokenizer } = await languageModelFrom(from, 'train gpt')); // recovers a cut save, checks the tokenizer fits
  } else {
    const kind: string = o.tokenizer;
    if (kind === 'bpe') tokenizer = BPETokenizer.train(text, { vocabSize: o.vocabSize, specialTokens: ['<|endoftext|>'] });
    else if (kind === 'char') tokenizer = CharTokenizer.fromText(text);
    else throw new Error(`train gpt: --tokenizer must be char or bpe, got '${kind}'`);
    model = new GPT(gptConfigFrom(o, tokenizer.vocabSize));
  }
  if (o.prepare) {
    if (resumed) throw new Error('train gpt --resume: runs that change the model (LoRA adapters) cannot be resumed yet; start the fine-tuning again');
    o.prepare(model);
  }
  const data = splitTokens(tokenizer.encode(text));
  const T = model.config.nPositions;
  if (data.val.length < 2) throw new Error(`train gpt: ${o.text} gives ${data.train.length + data.val.length} tokens; too few for a validation split`);

  const optimizer: Optimizer = model.configureOptimizer({ weightDecay: o.weightDecay, lr: o.lr, betas: [0.9, 0.95] });
  // Without an explicit --warmup, short runs warm up over their first tenth (at most the default
  // 100 steps); the value used is kept with the options, so a resumed run uses it too.
  if (!resumed && opts.warmup === undefined) (o as { warmup: number }).warmup = Math.min(GPT_TRAIN_DEFAULTS.warmup, Math.ceil(o.steps / 10));
  const sched = new CosineWarmupLR(optimizer, { warmupSteps: Math.min(o.warmup, o.steps), totalSteps: o.steps, minLr: o.minLr ?? o.lr / 10 });
  const gen = new Generator(o.seed + 1); // batch sampling
  const evalGen = new Generator(o.seed + 2); // validation batches: the same windows at every evaluation
  const history: GptEvalInfo[] = [...((resumed?.trainerState?.history as GptEvalInfo[] | undefined) ?? [])];
  const tokensPerStep = o.batchSize * o.gradAccum * Math.min(T, data.train.length - 1);

  // Throughput counts training steps only (not evaluations): over the last ~5 s while running, over the run at the end.
  let stepStart = 0,
    windowMs = 0,
    windowSteps = 0,
    runMs = 0,
    runSteps = 0;
  const stepReport = new LambdaCallback({
    onBatchBegin: () => {
      stepStart = performance.now();
    },
    onBatchEnd: () => {
      const now = performance.now();
      if (windowMs > 5000) {
        windowMs = 0;
        windowSteps = 0;
      }
      windowMs += now - stepStart;
      windowSteps++;
      runMs += now - stepStart;
      runSteps++;
      const tps = (windowSteps * tokensPerStep) / (windowMs / 1000);
      o.onStep?.({ step: trainer.step, steps: o.steps, loss: trainer.stepLoss, lr: optimizer.paramGroups[0].lr, tokensPerSecond: tps, seconds: (now - start) / 1000 });
    },
  });
  // At each evaluation: a sample of text, then the report (before the checkpoint is written).
  const sampleAndReport = new LambdaCallback({
    onEvaluate: async (step, logs) => {
      const sample = o.sampleTokens > 0 ? await sampleText(model, tokenizer, o.sampleTokens, o.seed + step) : '';
      const info = { step, trainLoss: logs.train_loss, valLoss: logs.val_loss, valPerplexity: logs.val_perplexity, sample, seconds: (performance.now() - start) / 1000 };
      history.push(info);
      o.onEval?.(info);
    },
  });
  const checkpoint = savePath
    ? new TrainingCheckpoint({
        dir: savePath,
        scheduler: sched,
        generators: { rng: gen, globalRng: defaultGenerator },
        resume: resumed ?? undefined,
        state: () => ({ history, options: Object.fromEntries(Object.entries(o).filter(([k, v]) => typeof v !== 'function' && !['resume', 'init', 'save'].includes(k))) }),
        writeModel: (dir) => (o.writeModel ? o.writeModel(model, dir, tokenizer) : model.savePretrained(dir, { tokenizer })),
      })
    : null;

  const trainer = new Trainer<[Tensor, Tensor]>({
    module: model,
    optimizer,
    trainStep: ([x, y]) => model.forward(x, y).loss!,
    data: function* () {
      for (;;) yield sampleBatch(data.train, o.batchSize, T, gen);
    }, // endless: the run is counted in steps
    steps: o.steps,
    gradAccum: o.gradAccum,
    clipNorm: o.clip,
    scheduler: sched,
    divergence: DIVERGENCE,
    evalEvery: o.evalEvery,
    evaluate: async () => {
      evalGen.manualSeed(o.seed + 2);
      const trainLoss = await estimateLoss(model, data.train, { batchSize: o.batchSize, iters: o.evalIters, gen: evalGen });
      const valLoss = await estimateLoss(model, data.val, { batchSize: o.batchSize, iters: o.evalIters, gen: evalGen });
      return { train_loss: trainLoss, val_loss: valLoss, val_perplexity: Math.exp(valLoss) };
    },
    callbacks: [stepReport, sampleAndReport, ...(checkpoint ? [checkpoint] : [])], // the checkpoint also restores a resumed run
  });
  await trainer.fit();
  if (history.length === 0) await trainer.evaluate();
  const last = history[history.length - 1];
  return {
    model,
    tokenizer,
    step: trainer.step,
    trainLoss: last.trainLoss,
    valLoss: last.valLoss,
    valPerplexity: last.valPerplexity,
    tokensPerSecond: runSteps ? (runSteps * tokensPerStep) / (runMs / 1000) : 0,
    seconds: (performance.now() - start) / 1000,
    history,
    saved: savePath,
  };
}
