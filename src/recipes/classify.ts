// The recipe behind `nabla finetune --task classify`: a pre-trained GPT fine-tuned for text
// classification (sentiment analysis and the like). JSONL examples with `text` and `label` →
// GPTClassifier (the LM's trunk + a new `score` head) → the Trainer with AdamW; accuracy and F1 on
// a held-out tenth after each epoch, and the model saved in transformers' layout.

import { readTextFile } from '../platform/fs.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { Generator, manualSeed } from '../ops/random.js';
import { AdamW } from '../optim/adam.js';
import { GPTClassifier, encodeTexts } from '../models/gpt-classifier.js';
import type { Tokenizer } from '../text/index.js';
import { accuracyScore, f1Score } from '../metrics/index.js';
import { DIVERGENCE } from '../train/loss-guard.js';
import { Trainer } from '../train/trainer.js';
import { LambdaCallback } from '../train/callbacks.js';
import { languageModelFrom } from '../models/pretrained.js';
import { smokeCaps } from '../train/smoke.js';

export interface LabelledText {
  text: string;
  label: string;
}

/** Read JSONL lines `{"text": ..., "label": ...}` (labels may be strings or integers). */
export async function readLabelledJsonl(path: string): Promise<LabelledText[]> {
  const raw = await readTextFile(path, 512 * 2 ** 20).catch((e: Error) => {
    throw new Error(`classify: ${e.message}`);
  });
  const out: LabelledText[] = [];
  raw.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let j: unknown;
    try {
      j = JSON.parse(line);
    } catch (e) {
      throw new Error(`classify: ${path} line ${i + 1} is not JSON: ${(e as Error).message}`);
    }
    const r = j as Record<string, unknown>;
    if (typeof r?.text !== 'string' || (typeof r.label !== 'string' && typeof r.label !== 'number')) {
      throw new Error(`classify: ${path} line ${i + 1} needs a string "text" and a string or number "label"`);
    }
    out.push({ text: r.text, label: String(r.label) });
  });
  if (out.length < 4) throw new Error(`classify: ${path} has ${out.length} examples; at least 4 are needed`);
  return out;
}

export interface ClassifyOptions {
  /** A pre-trained GPT directory (nabla checkpoint or Hugging Face GPT-2 layout) with its tokenizer. */
  model: string;
  /** JSONL with `text` and `label`; a tenth (seeded shuffle) is held out for evaluation. */
  data: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  /** Called once per epoch with the held-out figures. */
  onEpoch?(info: { epoch: number; loss: number; accuracy: number; f1: number }): void;
  /** Hook to change what trains (e.g. inject LoRA adapters) before the optimizer is made. */
  prepare?(model: GPTClassifier): void;
}

/** One training batch: padded token ids [B, T], each text's length, label ids [B]. */
interface ClassifyBatch {
  idx: Tensor;
  lengths: number[];
  y: Tensor;
}

export interface ClassifyResult {
  model: GPTClassifier;
  tokenizer: Tokenizer;
  labels: string[];
  accuracy: number;
  f1: number;
  loss: number;
  seconds: number;
}

/** Predicted label ids of texts (batched, eval mode). */
export async function classifyTexts(model: GPTClassifier, tokenizer: Tokenizer, texts: string[], batchSize = 16): Promise<number[]> {
  const ids = new Map(model.labels.map((l, i) => [l, i]));
  return (await model.classify(texts, tokenizer, { batchSize })).map((c) => ids.get(c.label)!);
}

/** Fine-tune a pre-trained GPT as a classifier of the JSONL examples. */
export async function finetuneClassifier(o: ClassifyOptions): Promise<ClassifyResult> {
  o = smokeCaps('finetune classify', o); // NABLA_SMOKE=1: a few seconds
  const start = performance.now();
  const seed = o.seed ?? 1337,
    epochs = o.epochs ?? 3,
    B = o.batchSize ?? 16;
  manualSeed(seed);
  const examples = await readLabelledJsonl(o.data);
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) throw new Error(`classify: ${o.data} has only the label '${labels[0]}'; at least 2 are needed`);
  const gen = new Generator(seed + 1);
  const order = Array.from(gen.uniformArray(examples.length))
    .map((u, i) => [u, i])
    .sort((a, b) => a[0] - b[0])
    .map(([, i]) => i);
  const nTest = Math.max(1, Math.round(examples.length / 10));
  const test = order.slice(0, nTest).map((i) => examples[i]),
    train = order.slice(nTest).map((i) => examples[i]);
  const lm = await languageModelFrom(o.model, 'finetune --task classify'); // recovers a cut save, checks the tokenizer fits
  const tokenizer = lm.tokenizer;
  const model = GPTClassifier.fromLanguageModel(lm.model, labels);
  o.prepare?.(model);
  const params = model.parameters().filter((p) => p.requiresGrad);
  const optimizer = new AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: o.weightDecay ?? 0.01 },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ].filter((g) => g.params.length),
    { lr: o.lr ?? 1e-4 },
  );
  const labelId = new Map(labels.map((l, i) => [l, i]));
  const yTest = test.map((e) => labelId.get(e.label)!);
  let lastLoss = NaN,
    accuracy = 0,
    f1 = 0;
  const trainer = new Trainer<ClassifyBatch>({
    module: model,
    optimizer,
    trainStep: (b) => model.forward(b.idx, b.lengths, b.y).loss!,
    data: () => {
      const perm = Array.from(gen.uniformArray(train.length))
        .map((u, i) => [u, i])
        .sort((a, b) => a[0] - b[0])
        .map(([, i]) => i);
      return batchesOf(perm.map((k) => train[k]));
    },
    batchWeight: (b) => b.lengths.length,
    epochs,
    clipNorm: 1,
    divergence: DIVERGENCE,
    evaluate: async () => {
      const pred = await classifyTexts(
        model,
        tokenizer,
        test.map((e) => e.text),
        B,
      );
      return { val_accuracy: accuracyScore(yTest, pred), val_f1: f1Score(yTest, pred, { average: 'macro', labels: labels.map((_, i) => i) }) };
    },
    callbacks: [
      new LambdaCallback({
        onEpochEnd: (epoch, logs) => {
          ({ loss: lastLoss, val_accuracy: accuracy, val_f1: f1 } = logs);
          o.onEpoch?.({ epoch: epoch + 1, loss: lastLoss, accuracy, f1 });
        },
      }),
    ],
  });
  // Batches of B examples in the epoch's order: token ids (padded), lengths and label ids.
  function* batchesOf(items: LabelledText[]): IterableIterator<ClassifyBatch> {
    for (let i = 0; i < items.length; i += B) {
      const chunk = items.slice(i, i + B);
      const { idx, lengths } = encodeTexts(
        tokenizer,
        chunk.map((e) => e.text),
        model.config.nPositions,
      );
      yield {
        idx,
        lengths,
        y: tensor(
          Int32Array.from(chunk, (e) => labelId.get(e.label)!),
          { dtype: 'int32' },
        ),
      };
    }
  }
  await trainer.fit();
  return { model, tokenizer, labels, accuracy, f1, loss: lastLoss, seconds: (performance.now() - start) / 1000 };
}
