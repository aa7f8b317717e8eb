// A GPT with a sequence-classification head, as transformers' GPT2ForSequenceClassification: the
// trunk's hidden state at each sequence's last token → `score` (Linear, no bias) → class logits.
// Fine-tuning a pre-trained GPT this way is the articles' transfer learning (sentiment analysis).

import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/index.js';
import { normal_ } from '../nn/init.js';
import { crossEntropy, softmax } from '../nn/functional.js';
import { scope } from '../tensor/memory.js';
import { noGrad } from '../autograd/grad-mode.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { reshape } from '../ops/movement.js';
import { indexSelect } from '../ops/indexing.js';
import { readSafetensorsFile, readSafetensorsHeader, safetensorsBytes } from '../io/safetensors.js';
import { writeFileAtomic } from '../platform/fs.js';
import { fmtShape } from '../tensor/shape.js';
import type { GPTConfig } from './gpt-config.js';
import { type GPT, GPT2Model } from './gpt.js';
import { type SaveTokenizer, checkGPT2Weights, gpt2ConfigFromHF, gpt2ConfigToHF, readJsonObject } from './gpt2-files.js';

/** One text's classification: the most probable label, its probability, and every label's. */
export interface Classification {
  label: string;
  score: number;
  probabilities: Record<string, number>;
}

/** Rows of per-label scores [rows × labels.length] as classifications: the best label, its score, every label's. */
export function classificationsOf(scores: ArrayLike<number>, labels: readonly string[]): Classification[] {
  const L = labels.length;
  const out: Classification[] = [];
  for (let r = 0; r < scores.length / L; r++) {
    const row = Array.from({ length: L }, (_, k) => scores[r * L + k]);
    const best = row.indexOf(Math.max(...row));
    out.push({ label: labels[best], score: row[best], probabilities: Object.fromEntries(labels.map((l, k) => [l, row[k]])) });
  }
  return out;
}

/** Token ids of texts, truncated to the context and right-padded with 0, with each row's length (GPTClassifier.forward's input). */
export function encodeTexts(tokenizer: Tokenizer, texts: string[], context: number): { idx: Tensor; lengths: number[] } {
  const rows = texts.map((t) => {
    const ids = tokenizer.encode(t).slice(0, context);
    return ids.length ? ids : [0];
  });
  const T = Math.max(...rows.map((r) => r.length));
  const data = new Int32Array(rows.length * T);
  rows.forEach((r, b) => data.set(r, b * T));
  return { idx: tensor(data, { shape: [rows.length, T], dtype: 'int32' }), lengths: rows.map((r) => r.length) };
}

/**
 * GPT-2 for sequence classification (HF's GPT2ForSequenceClassification): the transformer trunk and
 * a bias-free `score` Linear applied at each row's last token; token ids int32 [B, T] with the row
 * lengths → class logits [B, labels.length].
 */
export class GPTClassifier extends Module {
  readonly config: GPTConfig;
  transformer: GPT2Model;
  score: Linear;

  /**
   * A classifier over `labels` (their names, in id order) on a GPT-2 trunk: a fresh one, or the
   * trunk of a pre-trained GPT (shared, not copied).
   * @example const clf = GPTClassifier.fromLanguageModel(await GPT.fromPretrained('runs/gpt'), ['negative', 'positive'])
   */
  constructor(
    config: GPTConfig,
    readonly labels: string[],
    trunk?: GPT2Model,
  ) {
    super();
    if (labels.length < 2) throw new Error(`GPTClassifier: needs at least 2 labels, got ${labels.length}`);
    this.config = config;
    this.transformer = trunk ?? new GPT2Model(config);
    this.score = new Linear(config.nEmbd, labels.length, { bias: false });
    normal_(this.score.weight, 0, 0.02); // HF's initializer_range
  }

  static fromLanguageModel(lm: GPT, labels: string[]): GPTClassifier {
    return new GPTClassifier(lm.config, labels, lm.transformer);
  }

  /**
   * idx int32 [B, T] (right-padded) and the true length of each row → class logits [B, labels];
   * with targets int32 [B], also the mean cross-entropy.
   */
  forward(idx: Tensor, lengths: readonly number[], targets?: Tensor | null): { logits: Tensor; loss: Tensor | null } {
    const [B, T] = idx.shape;
    if (idx.dtype !== 'int32' || idx.ndim !== 2) throw new Error(`GPTClassifier.forward: idx must be int32 [B, T], got ${idx.dtype} ${fmtShape(idx.shape)}`);
    if (lengths.length !== B || lengths.some((n) => !Number.isInteger(n) || n < 1 || n > T)) {
      throw new Error(`GPTClassifier.forward: need one length in 1..${T} per row of idx ${fmtShape(idx.shape)}, got [${lengths.join(', ')}]`);
    }
    const hidden = this.transformer.forward(idx); // (B, T, C)
    const last = tensor(
      Int32Array.from(lengths, (n, b) => b * T + n - 1),
      { dtype: 'int32', device: idx.device },
    ); // (B)
    const pooled = indexSelect(reshape(hidden, [B * T, this.config.nEmbd]), 0, last); // (B, C)
    const logits = this.score.forward(pooled); // (B, labels)
    return { logits, loss: targets ? crossEntropy(logits, targets) : null };
  }

  /**
   * Labels and probabilities for texts, best label first in `label`/`score` (as transformers'
   * text-classification pipeline), with every label's probability. Batched, in eval mode, without
   * gradients; texts longer than the context keep their first tokens.
   * @example const [r] = await model.classify('a delight from start to end', tokenizer) // { label: 'positive', score: 0.93, probabilities: {...} }
   */
  async classify(texts: string | string[], tokenizer: Tokenizer, opts: { batchSize?: number } = {}): Promise<Classification[]> {
    const list = typeof texts === 'string' ? [texts] : texts;
    const batchSize = opts.batchSize ?? 16;
    const was = this.training;
    this.eval();
    const out: Classification[] = [];
    try {
      for (let i = 0; i < list.length; i += batchSize) {
        const batch = encodeTexts(tokenizer, list.slice(i, i + batchSize), this.config.nPositions);
        const p = noGrad(() => scope(() => softmax(this.forward(batch.idx, batch.lengths).logits, -1)));
        batch.idx.dispose();
        const probs = await p.data();
        p.dispose();
        out.push(...classificationsOf(probs, this.labels));
      }
    } finally {
      this.train(was);
    }
    return out;
  }

  /** Write transformers' GPT2ForSequenceClassification layout (config.json with id2label, model.safetensors). */
  async savePretrained(dir: string, opts: { tokenizer?: SaveTokenizer } = {}): Promise<void> {
    const tensors = new Map(Object.entries(this.stateDict()));
    await writeFileAtomic(join(dir, 'model.safetensors'), await safetensorsBytes(tensors, { format: 'pt' }));
    const config = {
      ...gpt2ConfigToHF(this.config),
      architectures: ['GPT2ForSequenceClassification'],
      id2label: Object.fromEntries(this.labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(this.labels.map((l, i) => [l, i])),
      pad_token_id: this.config.eosTokenId ?? 0,
    };
    await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    if (opts.tokenizer) await opts.tokenizer.save(join(dir, 'tokenizer.json'));
  }

  /** Load what savePretrained wrote (or transformers' GPT2ForSequenceClassification.save_pretrained). */
  static async fromPretrained(dir: string): Promise<GPTClassifier> {
    const where = 'GPTClassifier.fromPretrained';
    const configFile = join(dir, 'config.json');
    const json = await readJsonObject(configFile, where);
    const id2label = json.id2label as Record<string, string> | undefined;
    if (!id2label || typeof id2label !== 'object' || Object.keys(id2label).length < 2) throw new Error(`${where}: ${configFile} has no id2label with at least 2 labels`);
    const labels = Object.keys(id2label)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => String(id2label[k]));
    const config = gpt2ConfigFromHF(json, where, configFile);
    // The config against the weights' header before the model is built.
    const path = join(dir, 'model.safetensors');
    const header = { dir, files: [path], source: path, tensors: new Map([...(await readSafetensorsHeader(path)).tensors].map(([k, e]) => [k, { ...e, file: path }])) };
    checkGPT2Weights(config, header, {
      where,
      configFile,
      strict: false,
      head: [['score.weight', [labels.length, config.nEmbd], 'id2label, n_embd', `${labels.length} labels in id2label`]],
    });
    const model = new GPTClassifier(config, labels);
    const { tensors } = await readSafetensorsFile(path);
    try {
      const own = model.stateDict();
      const missing = Object.keys(own).filter((k) => !tensors.has(k));
      if (missing.length) throw new Error(`${where}: ${path} lacks ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
      model.loadStateDict(Object.fromEntries([...tensors].filter(([k]) => Object.hasOwn(own, k))));
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    return model;
  }
}
