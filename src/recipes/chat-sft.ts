// The recipe behind `nabla finetune DIR --chat FILE.jsonl`: supervised fine-tuning of a language
// model on chat examples (OpenAI's `{"messages": [...]}` lines), as TRL's SFTTrainer with
// assistant-only loss. Each example is rendered with the model's chat template (the default one
// when it has none), the tokens outside assistant turns are labelled −100 (ignored, as in
// transformers), and the Trainer runs AdamW with warmup + cosine on padded batches, whole or with
// LoRA adapters. A seeded held-out split reports its loss per epoch. The result is saved like
// finetuneLm's (adapters with their base's path, or a whole model), with the chat template and its
// special tokens beside it, so `nabla serve OUT` renders conversations as training did.

import { isAbsolute, join, resolve } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Generator, manualSeed } from '../ops/random.js';
import { CosineWarmupLR } from '../optim/lr-scheduler.js';
import { checkSaveTarget, lockCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import { injectLora, mergeAndUnload, type InjectLoraOptions, type LoraModel } from '../nn/lora.js';
import { isAdapterDir, languageModelFrom } from '../models/pretrained.js';
import type { GPT } from '../models/gpt.js';
import { disposeModel } from '../models/gpt2-files.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { type ChatMessage, type ChatTemplate, ChatTemplateError, loadChatTemplate } from '../text/chat-template.js';
import { DIVERGENCE } from '../train/loss-guard.js';
import { Trainer } from '../train/trainer.js';
import { LambdaCallback } from '../train/callbacks.js';
import { pathExists, portablePath, readJsonObject, readTextFile, writeFileAtomic } from '../platform/fs.js';

/** The label of a token that adds nothing to the loss (PyTorch's and transformers' ignore_index). */
export const IGNORE_INDEX = -100;

/** One chat training example: a conversation whose assistant turns are what the model learns to write. */
export interface ChatExample {
  messages: ChatMessage[];
}

/** An example rendered and tokenized: `labels[i]` is `ids[i]` inside an assistant turn, else IGNORE_INDEX. */
export interface ChatTokens {
  ids: number[];
  labels: number[];
}

/** Settings of chat fine-tuning (see finetuneChat). */
export interface FinetuneChatOptions {
  /** The pre-trained model's directory (nabla checkpoint, Hugging Face GPT-2, or a PEFT adapter on its base). */
  model: string;
  /** JSONL, one `{"messages": [{"role", "content"}, ...]}` per line, each with at least one assistant message. */
  data: string;
  /** Where the result goes: a new or empty directory, or a checkpoint, which is replaced. */
  save: string;
  /** Passes over the training examples (default 3, as transformers' Trainer); ignored when `steps` is given. */
  epochs?: number;
  /** Optimizer steps in all, cycling over the examples (overrides epochs). */
  steps?: number;
  /** Examples per micro-batch (default 8). */
  batchSize?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccum?: number;
  /** Peak learning rate (default 1e-3 with LoRA, else 3e-4); the cosine decays to lr / 10. */
  lr?: number;
  /** Linear warmup steps (default a tenth of the run, at most 20). */
  warmup?: number;
  /** AdamW weight decay on matrices (default 0.1). */
  weightDecay?: number;
  /** Clip the global gradient norm (default 1; 0 = off). */
  clip?: number;
  /** The share of examples held out for the validation loss (default 0.1; 0 = none), chosen by a seeded shuffle. */
  valFraction?: number;
  seed?: number;
  /** Train rank-r adapters instead of the whole model. */
  lora?: Pick<InjectLoraOptions, 'r' | 'alpha' | 'dropout' | 'targetModules'> | null;
  /** With lora: merge the adapters into the weights and save a whole model (default: the adapters alone). */
  merge?: boolean;
  onStep?(info: { step: number; steps: number; loss: number; lr: number; seconds: number }): void;
  /** After each epoch: the mean training loss of its steps, and the held-out loss (NaN without a split). */
  onEpoch?(info: { epoch: number; step: number; trainLoss: number; valLoss: number; seconds: number }): void;
}

/** What finetuneChat did. */
export interface FinetuneChatResult {
  /** Optimizer steps run. */
  step: number;
  epochs: number;
  trainExamples: number;
  valExamples: number;
  /** Assistant tokens (those in the loss) per pass over the training examples. */
  trainTokens: number;
  /** Examples cut to the model's context (their end is lost), and those dropped because no assistant token was left. */
  truncated: number;
  dropped: number;
  /** The held-out loss before training and after it (NaN without a split). */
  initialValLoss: number;
  valLoss: number;
  /** The mean training loss of the last epoch. */
  trainLoss: number;
  /** Where the chat template came from, and the end-of-turn token it was rendered with (null: none). */
  template: ChatTemplate['from'];
  eosToken: string | null;
  merged: boolean;
  saved: string;
  seconds: number;
}

/** The largest chat JSONL file read. */
const MAX_DATA_BYTES = 512 * 2 ** 20;

/**
 * Read chat examples: one JSON object per non-empty line with a `messages` list of
 * `{role, content}` (strings), at least one from the assistant. A malformed line is an error that
 * names the file, the line and what is wrong.
 * @example const examples = await readChatJsonl('train.jsonl')
 */
export async function readChatJsonl(path: string, where = 'finetune --chat'): Promise<ChatExample[]> {
  const raw = await readTextFile(path, MAX_DATA_BYTES).catch((e: Error) => {
    throw new Error(`${where}: ${e.message}`);
  });
  const out: ChatExample[] = [];
  raw.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const at = `${where}: ${path} line ${i + 1}`;
    let j: unknown;
    try {
      j = JSON.parse(line);
    } catch (e) {
      throw new Error(`${at} is not JSON: ${(e as Error).message}`);
    }
    const messages = (j as { messages?: unknown } | null)?.messages;
    if (typeof j !== 'object' || j === null || Array.isArray(j) || !Array.isArray(messages) || messages.length === 0) {
      throw new Error(`${at}: expected an object {"messages": [{"role": ..., "content": ...}, ...]} with at least one message`);
    }
    const msgs = messages.map((m, k): ChatMessage => {
      const r = m as Record<string, unknown> | null;
      if (typeof r !== 'object' || r === null || typeof r.role !== 'string' || !r.role || typeof r.content !== 'string') {
        throw new Error(`${at}: messages[${k}] must be an object with a string "role" and a string "content"`);
      }
      return { role: r.role, content: r.content, ...(typeof r.name === 'string' ? { name: r.name } : {}) };
    });
    if (!msgs.some((m) => m.role === 'assistant')) throw new Error(`${at}: no message has the role "assistant", so there is nothing to learn from it`);
    out.push({ messages: msgs });
  });
  if (out.length === 0) throw new Error(`${where}: ${path} has no examples (one {"messages": [...]} object per line)`);
  return out;
}

/**
 * Render a conversation with the chat template and tokenize it, labelling the tokens of each
 * assistant turn (its content and whatever the template ends the turn with, e.g. the eos token)
 * with their ids and every other token with IGNORE_INDEX. Each assistant turn starts where the
 * conversation before it, rendered with the generation prompt, ends: the tokens the model is asked
 * to continue at serving time. The text is tokenized in those pieces, as the server tokenizes a
 * prompt (no special tokens added; the template writes those it wants). Messages after the last
 * assistant turn teach nothing and are left out.
 * @example const { ids, labels } = tokenizeChat(messages, template, tokenizer)
 */
export function tokenizeChat(messages: readonly ChatMessage[], template: ChatTemplate, tokenizer: Tokenizer): ChatTokens {
  const ids: number[] = [],
    labels: number[] = [];
  const push = (text: string, learn: boolean) => {
    for (const id of tokenizer.encode(text, { addSpecialTokens: false })) {
      ids.push(id);
      labels.push(learn ? id : IGNORE_INDEX);
    }
  };
  let done = ''; // what has been tokenized: the conversation up to the end of the last assistant turn
  messages.forEach((m, k) => {
    if (m.role !== 'assistant') return;
    const prompt = template.render(messages.slice(0, k), { addGenerationPrompt: true });
    const full = template.render(messages.slice(0, k + 1), { addGenerationPrompt: false });
    if (!prompt.startsWith(done) || !full.startsWith(prompt)) {
      throw new ChatTemplateError(
        `the chat template (${template.from}) renders message ${k} so that the conversation before it is not a prefix of the conversation with it ` +
          '(e.g. it rewrites earlier turns); the assistant tokens cannot be told apart, so split such conversations into one example per assistant turn',
      );
    }
    push(prompt.slice(done.length), false);
    push(full.slice(prompt.length), true);
    done = full;
  });
  return { ids, labels };
}

/** The directories a chat template is looked for in: the model's, then (for an adapter) its bases'. */
async function templateDirs(dir: string): Promise<string[]> {
  const dirs = [dir];
  for (let d = dir, depth = 0; depth < 8 && (await isAdapterDir(d)); depth++) {
    const base = (await readJsonObject(join(d, 'adapter_config.json'), 'finetune --chat', 2 ** 20)).base_model_name_or_path;
    if (typeof base !== 'string' || !base) break;
    d = isAbsolute(base) ? base : resolve(d, base);
    dirs.push(d);
  }
  return dirs;
}

/** End-of-text tokens a tokenizer may carry as a special token, for a model whose config names none. */
const EOS_CANDIDATES = ['<|endoftext|>', '</s>', '<eos>', '<|im_end|>'];

/**
 * The chat template training renders with, as `nabla serve` loads it (the model's own, else the
 * default), with the model's bos/eos tokens. A model whose config names no eos id but whose
 * tokenizer has an end-of-text special token (`nabla train gpt --tokenizer bpe` gives
 * `<|endoftext|>`) ends its turns with that token, so that a reply has a learned end.
 */
async function chatTemplateFor(dir: string, model: GPT, tokenizer: Tokenizer): Promise<ChatTemplate> {
  const tokenOf = (id: number | null) => (id === null ? null : (tokenizer.idToToken(id) ?? null));
  const special = tokenizer.specialTokens;
  const eos = tokenOf(model.config.eosTokenId) ?? EOS_CANDIDATES.find((t) => Object.hasOwn(special, t)) ?? null;
  return loadChatTemplate(await templateDirs(dir), { bosToken: tokenOf(model.config.bosTokenId), eosToken: eos });
}

/**
 * Write the template used beside the result, as transformers saves it (chat_template.jinja, and
 * tokenizer_config.json naming bos_token and eos_token), so the server renders as training did.
 * The source model's tokenizer_config.json is kept, its own chat_template dropped (the .jinja file
 * is read first).
 */
async function writeTemplate(out: string, template: ChatTemplate, dirs: string[]): Promise<void> {
  let config: Record<string, unknown> = {};
  for (const d of dirs) {
    const f = join(d, 'tokenizer_config.json');
    if (await pathExists(f)) {
      config = await readJsonObject(f, 'finetune --chat', 32 * 2 ** 20);
      break;
    }
  }
  const { chat_template: _dropped, ...rest } = config;
  const tokens = { ...(template.bosToken !== null ? { bos_token: template.bosToken } : {}), ...(template.eosToken !== null ? { eos_token: template.eosToken } : {}) };
  await writeFileAtomic(join(out, 'tokenizer_config.json'), `${JSON.stringify({ ...rest, ...tokens }, null, 2)}\n`);
  await writeFileAtomic(join(out, 'chat_template.jinja'), template.source);
}

/** A padded batch: inputs [B, T] and next-token labels [B, T] (IGNORE_INDEX past each example's end). */
interface ChatBatch {
  x: Tensor;
  y: Tensor;
  /** Labels that count (not IGNORE_INDEX). */
  tokens: number;
}

/** The next-token pairs of an example: inputs ids[0..n−1), targets labels[1..n). */
function batchOf(items: readonly ChatTokens[]): ChatBatch {
  const T = Math.max(...items.map((e) => e.ids.length - 1));
  const x = new Int32Array(items.length * T),
    y = new Int32Array(items.length * T).fill(IGNORE_INDEX);
  let tokens = 0;
  items.forEach((e, b) => {
    for (let t = 0; t + 1 < e.ids.length; t++) {
      x[b * T + t] = e.ids[t];
      y[b * T + t] = e.labels[t + 1];
      if (e.labels[t + 1] !== IGNORE_INDEX) tokens++;
    }
  });
  return { x: tensor(x, { shape: [items.length, T], dtype: 'int32' }), y: tensor(y, { shape: [items.length, T], dtype: 'int32' }), tokens };
}

/** A seeded permutation of 0..n−1. */
function permutation(n: number, gen: Generator): number[] {
  const u = gen.uniformArray(n);
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b] || a - b);
}

/** Mean loss per assistant token over examples (no gradients, eval mode). */
async function heldOutLoss(model: GPT, examples: readonly ChatTokens[], batchSize: number): Promise<number> {
  if (examples.length === 0) return NaN;
  const was = model.training;
  model.eval();
  let sum = 0,
    count = 0;
  try {
    for (let i = 0; i < examples.length; i += batchSize) {
      const chunk = examples.slice(i, i + batchSize);
      let n = 0;
      const l = noGrad(() =>
        scope(() => {
          const b = batchOf(chunk);
          n = b.tokens;
          return model.forward(b.x, b.y).loss!;
        }),
      );
      sum += (await l.data())[0] * n;
      count += n;
      l.dispose();
    }
  } finally {
    model.train(was);
  }
  return sum / count;
}

/**
 * Fine-tune a language model on chat examples, the loss on the assistant's tokens only, and save
 * it with its chat template. With `lora`, only rank-r adapters train; they are saved alone in
 * PEFT's layout with the base's path (relative where it can be), or merged with `merge`.
 * @example
 * const r = await finetuneChat({ model: 'runs/base', data: 'train.jsonl', save: 'runs/chat', epochs: 20 })
 * console.log(r.initialValLoss, '→', r.valLoss)
 */
export async function finetuneChat(o: FinetuneChatOptions): Promise<FinetuneChatResult> {
  const start = performance.now();
  await checkSaveTarget(o.save, 'finetune --save'); // before training, not after it
  const release = lockCheckpoint(o.save, 'finetune --save');
  try {
    return await run(o, start);
  } finally {
    release();
  }
}

async function run(o: FinetuneChatOptions, start: number): Promise<FinetuneChatResult> {
  const seed = o.seed ?? 1337,
    B = o.batchSize ?? 8,
    valFraction = o.valFraction ?? 0.1;
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`finetune --chat: --val-fraction must be in [0, 1), got ${valFraction}`);
  if (!Number.isInteger(B) || B < 1) throw new Error(`finetune --chat: --batch-size must be a positive integer, got ${B}`);
  const examples = await readChatJsonl(o.data);
  manualSeed(seed);
  const { model, tokenizer } = await languageModelFrom(o.model, 'finetune --chat'); // recovers a cut save, checks the tokenizer fits
  try {
    const dirs = await templateDirs(o.model);
    const template = await chatTemplateFor(o.model, model, tokenizer);
    // Render and tokenize every example (errors name the line), cut each to the context.
    const maxLen = model.config.nPositions + 1; // T inputs and their T next tokens
    let truncated = 0,
      dropped = 0;
    const tokenized: ChatTokens[] = [];
    examples.forEach((e, i) => {
      let t: ChatTokens;
      try {
        t = tokenizeChat(e.messages, template, tokenizer);
      } catch (err) {
        throw new Error(`finetune --chat: ${o.data} example ${i + 1}: ${(err as Error).message}`);
      }
      if (t.ids.length > maxLen) {
        truncated++;
        t = { ids: t.ids.slice(0, maxLen), labels: t.labels.slice(0, maxLen) };
      }
      if (t.labels.slice(1).every((l) => l === IGNORE_INDEX)) dropped++;
      else tokenized.push(t);
    });
    if (tokenized.length === 0) {
      throw new Error(`finetune --chat: no example of ${o.data} has an assistant token within the model's context of ${model.config.nPositions} tokens`);
    }
    const gen = new Generator(seed + 1);
    const order = permutation(tokenized.length, gen);
    const nVal = valFraction > 0 && tokenized.length > 1 ? Math.min(tokenized.length - 1, Math.max(1, Math.round(tokenized.length * valFraction))) : 0;
    const val = order.slice(0, nVal).map((i) => tokenized[i]),
      train = order.slice(nVal).map((i) => tokenized[i]);
    const trainTokens = train.reduce((s, e) => s + e.labels.slice(1).filter((l) => l !== IGNORE_INDEX).length, 0);

    let adapters: LoraModel | null = null;
    if (o.lora) adapters = injectLora(model, o.lora);
    const lr = o.lr ?? (o.lora ? 1e-3 : 3e-4);
    const accum = o.gradAccum ?? 1;
    const stepsPerEpoch = Math.ceil(Math.ceil(train.length / B) / accum);
    const steps = o.steps ?? stepsPerEpoch * (o.epochs ?? 3);
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`finetune --chat: the run has ${steps} steps; give a positive --epochs or --steps`);
    const optimizer = model.configureOptimizer({ weightDecay: o.weightDecay ?? 0.1, lr, betas: [0.9, 0.95] });
    const warmup = o.warmup ?? Math.min(20, Math.ceil(steps / 10));
    const sched = new CosineWarmupLR(optimizer, { warmupSteps: Math.min(warmup, steps), totalSteps: steps, minLr: lr / 10 });
    const initialValLoss = await heldOutLoss(model, val, B);
    let trainLoss = NaN,
      valLoss = initialValLoss,
      epochs = 0;
    const trainer: Trainer<ChatBatch> = new Trainer<ChatBatch>({
      module: model,
      optimizer,
      trainStep: (b) => model.forward(b.x, b.y).loss!,
      data: () => {
        const perm = permutation(train.length, gen);
        return (function* () {
          for (let i = 0; i < perm.length; i += B) yield batchOf(perm.slice(i, i + B).map((k) => train[k]));
        })();
      },
      batchWeight: (b) => b.tokens,
      steps,
      gradAccum: accum,
      clipNorm: o.clip ?? 1,
      scheduler: sched,
      divergence: DIVERGENCE,
      evaluate: async () => ({ val_loss: await heldOutLoss(model, val, B) }),
      callbacks: [
        new LambdaCallback({
          onBatchEnd: (): void => o.onStep?.({ step: trainer.step, steps, loss: trainer.stepLoss, lr: optimizer.paramGroups[0].lr, seconds: (performance.now() - start) / 1000 }),
          onEpochEnd: (epoch, logs) => {
            epochs = epoch + 1;
            trainLoss = logs.loss;
            valLoss = logs.val_loss;
            o.onEpoch?.({ epoch: epochs, step: trainer.step, trainLoss, valLoss, seconds: (performance.now() - start) / 1000 });
          },
        }),
      ],
    });
    await trainer.fit();

    const merged = !!(adapters && o.merge);
    if (merged) mergeAndUnload(model);
    const writeModel = async (out: string) => {
      if (adapters && !merged) {
        await adapters.saveAdapter(out, { baseModelNameOrPath: await portablePath(o.save, o.model) });
        await tokenizer.save(out);
      } else await model.savePretrained(out, { tokenizer });
      await writeTemplate(out, template, dirs);
    };
    await saveCheckpoint(o.save, { model, config: {}, writeModel, trainerState: { task: 'chat', step: trainer.step, epochs, train_loss: trainLoss, val_loss: valLoss } });
    return {
      step: trainer.step,
      epochs,
      trainExamples: train.length,
      valExamples: val.length,
      trainTokens,
      truncated,
      dropped,
      initialValLoss,
      valLoss,
      trainLoss,
      template: template.from,
      eosToken: template.eosToken,
      merged,
      saved: o.save,
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    disposeModel(model); // a library call in a long-lived process must not keep a whole model
  }
}
