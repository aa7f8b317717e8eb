// Task heads on the BERT-family encoders, as transformers' *ForSequenceClassification,
// *ForTokenClassification, *ForQuestionAnswering and *ForMaskedLM write them for BERT, DistilBERT and
// RoBERTa: one class per task, whose config's family picks the encoder (under `bert.`, `distilbert.`
// or `roberta.`) and the head's own layout and names, so each family's checkpoints load by name.
// Losses are transformers': cross-entropy ignoring −100, the classifier's problem_type, the mean of
// the start and end losses. Mean-pooled sentence embeddings are the encoders' `embed` (bert.ts).

import type { Tensor } from '../tensor/tensor.js';
import { tensor, zeros } from '../tensor/creation.js';
import { Module } from '../nn/module.js';
import { Parameter } from '../nn/parameter.js';
import { Linear } from '../nn/layers/linear.js';
import { LayerNorm } from '../nn/layers/norm.js';
import { Dropout } from '../nn/layers/dropout.js';
import { binaryCrossEntropyWithLogits, crossEntropy, mseLoss } from '../nn/functional.js';
import { add, clamp, div } from '../ops/binary.js';
import { cast, tanh } from '../ops/unary.js';
import { relu, sigmoid, softmax, gelu } from '../ops/activation.js';
import { reshape, select } from '../ops/movement.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { fmtShape } from '../tensor/shape.js';
import { newestCheckpointCopy } from '../io/checkpoint.js';
import type { Tokenizer } from '../text/tokenizer.js';
import type { Encoding } from '../text/encoding.js';
import type { SaveTokenizer } from './gpt2-files.js';
import { type Classification, classificationsOf } from './gpt-classifier.js';
import { BERT_ARCHITECTURES, type BertConfig, type BertFamily, type BertHead } from './bert-config.js';
import { type LoadBertOptions, loadBert, saveBert } from './bert-files.js';
import {
  type BertEncoderModel,
  type BertInputs,
  type EncoderOutput,
  BertModel,
  DistilBertModel,
  RobertaModel,
  bertActivation,
  bertMaxTokens,
  fillBertConfig,
  initBertWeights,
} from './bert.js';

/** Options of the heads' constructors. */
export interface BertHeadOptions {
  /** Draw transformers' initial weights (default true); false leaves zeros for weights about to be loaded. */
  init?: boolean;
}

/** A batch of encodings as an encoder's inputs: ids, attention mask and (unless `family` is distilbert) token type ids, int32 [B, T]. */
export interface BertBatch {
  inputIds: Tensor;
  attentionMask: Tensor;
  tokenTypeIds: Tensor | null;
}

/**
 * Tensors of equally long encodings (`tokenizer.encodeBatch(texts, { padding: true })`): what the
 * heads' forward takes. DistilBERT has no token types, so its tokenTypeIds are null.
 * @example const { inputIds, attentionMask, tokenTypeIds } = bertBatch(tok.encodeBatch(texts, { padding: true }))
 */
export function bertBatch(encodings: readonly Encoding[], family: BertFamily = 'bert'): BertBatch {
  const B = encodings.length,
    T = encodings[0]?.ids.length ?? 0;
  if (B === 0) throw new Error('bertBatch: no encodings');
  if (encodings.some((e) => e.ids.length !== T))
    throw new Error(`bertBatch: encodings differ in length (${encodings.map((e) => e.ids.length).join(', ')}); pad them (encodeBatch with padding: true)`);
  const grid = (f: (e: Encoding) => number[]) => {
    const a = new Int32Array(B * T);
    encodings.forEach((e, b) => a.set(f(e), b * T));
    return tensor(a, { shape: [B, T], dtype: 'int32' });
  };
  return { inputIds: grid((e) => e.ids), attentionMask: grid((e) => e.attentionMask), tokenTypeIds: family === 'distilbert' ? null : grid((e) => e.typeIds) };
}

/**
 * What the heads share: the encoder under the family's name (`bert`, `distilbert`, `roberta`), the
 * config with its labels, and the Hugging Face files.
 */
export abstract class BertTaskModel extends Module {
  readonly config: BertConfig;
  /** Which transformers class this is (with config.family): 'sequenceClassification', 'maskedLM', ... */
  readonly task: BertHead;

  constructor(config: BertConfig, task: BertHead, pooler: boolean) {
    super();
    this.config = config;
    this.task = task;
    // The encoder's field is named as transformers' base_model_prefix, which its checkpoints' keys start with.
    const enc = config.family === 'distilbert' ? new DistilBertModel(config, { init: false }) : new BertModel(config, { addPoolingLayer: pooler, init: false });
    (this as unknown as Record<string, Module>)[config.family] = enc;
  }

  /** The encoder (transformers' base_model): `bert`, `distilbert` or `roberta` by the config's family. */
  get base(): BertEncoderModel {
    return (this as unknown as Record<string, BertEncoderModel>)[this.config.family];
  }

  /** The class names in id order (config.json's id2label). */
  get labels(): string[] {
    return this.config.labels;
  }

  /** transformers' class name for this head and family, as config.json's architectures gives it. */
  get architecture(): string {
    return BERT_ARCHITECTURES[this.config.family][this.task];
  }

  protected encode(inputIds: Tensor, opts: BertInputs): EncoderOutput {
    return this.base.forward(inputIds, opts);
  }

  /**
   * Write config.json (architectures: this class) and model.safetensors as transformers'
   * save_pretrained does, plus tokenizer.json when a tokenizer is given; `float32As` stores F16 or BF16.
   * @example await model.savePretrained('out/sentiment', { tokenizer })
   */
  async savePretrained(dir: string, opts: { tokenizer?: SaveTokenizer; float32As?: 'F32' | 'F16' | 'BF16' } = {}): Promise<void> {
    await saveBert(this, this.task, dir, opts);
  }
}

/** The dropout before BERT's and RoBERTa's classifiers: classifier_dropout, else hidden_dropout_prob. */
const classifierP = (c: BertConfig) => c.classifierDropout ?? c.hiddenDropout;

// ---------------------------------------------------------------------------------------------
// Sequence classification

/** RoBERTa's classifier on the <s> token: dropout → dense → tanh → dropout → out_proj (transformers' RobertaClassificationHead). */
export class RobertaClassificationHead extends Module {
  dense: Linear;
  dropout: Dropout;
  out_proj: Linear;

  constructor(c: BertConfig) {
    super();
    this.dense = new Linear(c.nEmbd, c.nEmbd);
    this.dropout = new Dropout(classifierP(c));
    this.out_proj = new Linear(c.nEmbd, c.labels.length);
  }

  /** hidden [B, T, C] → logits [B, labels]. */
  forward(hidden: Tensor): Tensor {
    const x = this.dropout.forward(select(hidden, 1, 0)); // (B, C): the <s> token
    return this.out_proj.forward(this.dropout.forward(tanh(this.dense.forward(x)))); // (B, labels)
  }
}

/**
 * A sequence classifier (sentiment, topics, entailment) on a BERT-family encoder, as transformers'
 * BertForSequenceClassification (dropout → classifier on the pooler's output),
 * DistilBertForSequenceClassification (pre_classifier → ReLU → dropout → classifier on [CLS]) and
 * RobertaForSequenceClassification (classifier.dense/out_proj on <s>), by config.family.
 * @example const clf = new BertForSequenceClassification({ ...BERT_PRESETS.tiny, labels: ['ham', 'spam'] })
 */
export class BertForSequenceClassification extends BertTaskModel {
  /** DistilBERT's first layer on [CLS]; null for BERT and RoBERTa. */
  pre_classifier: Linear | null = null;
  classifier: Linear | RobertaClassificationHead;
  /** The dropout before the classifier (RoBERTa's is inside its classifier). */
  dropout: Dropout | null = null;

  constructor(config: Partial<BertConfig> = {}, opts: BertHeadOptions = {}) {
    const c = fillBertConfig(config);
    super(c, 'sequenceClassification', c.family === 'bert');
    const C = c.nEmbd,
      L = c.labels.length;
    if (c.family === 'roberta') this.classifier = new RobertaClassificationHead(c);
    else {
      if (c.family === 'distilbert') this.pre_classifier = new Linear(C, C);
      this.classifier = new Linear(C, L);
      this.dropout = new Dropout(c.family === 'distilbert' ? c.seqClassifDropout : classifierP(c));
    }
    if (opts.init ?? true) initBertWeights(this, c);
  }

  /**
   * input ids int32 [B, T] → class logits [B, labels]; with `labels` also transformers' loss for the
   * config's problem type (int32 [B] class ids: cross-entropy; float [B, labels]: multi-label
   * binary cross-entropy; one label: mean squared error).
   */
  forward(inputIds: Tensor, opts: BertInputs & { labels?: Tensor | null } = {}): { logits: Tensor; loss: Tensor | null } {
    const out = this.encode(inputIds, opts);
    let logits: Tensor;
    if (this.classifier instanceof RobertaClassificationHead) logits = this.classifier.forward(out.lastHiddenState);
    else if (this.pre_classifier) {
      const cls = relu(this.pre_classifier.forward(select(out.lastHiddenState, 1, 0))); // (B, C): [CLS]
      logits = this.classifier.forward(this.dropout!.forward(cls)); // (B, labels)
    } else logits = this.classifier.forward(this.dropout!.forward(out.poolerOutput!)); // (B, labels)
    return { logits, loss: opts.labels ? this.loss(logits, opts.labels) : null };
  }

  /** The problem type transformers would pick for these labels when config.json names none. */
  problemType(labels?: Tensor): NonNullable<BertConfig['problemType']> {
    if (this.config.problemType) return this.config.problemType;
    if (this.config.labels.length === 1) return 'regression';
    return !labels || labels.dtype === 'int32' ? 'single_label_classification' : 'multi_label_classification';
  }

  private loss(logits: Tensor, labels: Tensor): Tensor {
    const L = this.config.labels.length;
    switch (this.problemType(labels)) {
      case 'regression': {
        const y = cast(labels, logits.dtype);
        return L === 1 ? mseLoss(reshape(logits, [-1]), reshape(y, [-1])) : mseLoss(logits, y);
      }
      case 'single_label_classification':
        if (labels.dtype !== 'int32') throw new Error(`${this.architecture}: single-label classification needs int32 class ids, got ${labels.dtype} ${fmtShape(labels.shape)}`);
        return crossEntropy(reshape(logits, [-1, L]), reshape(labels, [-1]));
      case 'multi_label_classification':
        return binaryCrossEntropyWithLogits(logits, cast(labels, logits.dtype));
    }
  }

  /**
   * Labels and probabilities for texts, best first in `label`/`score`, as transformers'
   * text-classification pipeline: softmax over the labels (sigmoid per label for multi-label, the raw
   * value for regression). Batched, in eval mode, without gradients; longer texts are truncated.
   * @example const [r] = await model.classify('a delight from start to end', tokenizer) // { label: 'positive', score: 0.93, ... }
   */
  async classify(texts: string | string[], tokenizer: Tokenizer, opts: { batchSize?: number } = {}): Promise<Classification[]> {
    const list = typeof texts === 'string' ? [texts] : texts;
    const batchSize = opts.batchSize ?? 16;
    const kind = this.problemType();
    const was = this.training;
    this.eval();
    const out: Classification[] = [];
    try {
      for (let i = 0; i < list.length; i += batchSize) {
        const enc = tokenizer.encodeBatch(list.slice(i, i + batchSize), { padding: true, truncation: { maxLength: bertMaxTokens(this.config) } });
        const b = bertBatch(enc, this.config.family);
        const p = noGrad(() =>
          scope(() => {
            const { logits } = this.forward(b.inputIds, { attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds });
            return kind === 'regression' ? logits : kind === 'multi_label_classification' ? sigmoid(logits) : softmax(logits, -1);
          }),
        );
        for (const t of [b.inputIds, b.attentionMask, b.tokenTypeIds]) t?.dispose();
        const probs = await p.data();
        p.dispose();
        out.push(...classificationsOf(probs, this.labels));
      }
    } finally {
      this.train(was);
    }
    return out;
  }

  /**
   * Load a sequence classifier (BERT, DistilBERT or RoBERTa; F32, F16 or BF16, sharded or not). A
   * checkpoint of another class (a pre-trained encoder or masked LM) gives its encoder with a new
   * classifier over `opts.labels`, to fine-tune.
   * @example const clf = await BertForSequenceClassification.fromPretrained('models/bert-tiny', { labels: ['ham', 'spam'] })
   */
  static async fromPretrained(dir: string, opts: LoadBertOptions = {}): Promise<BertForSequenceClassification> {
    const where = 'BertForSequenceClassification.fromPretrained';
    return loadBert((await newestCheckpointCopy(dir)) ?? dir, 'sequenceClassification', (c, o) => new BertForSequenceClassification(c, o), { ...opts, where });
  }
}

// ---------------------------------------------------------------------------------------------
// Token classification

/**
 * A classifier of each token (named entities, parts of speech) on a BERT-family encoder, as
 * transformers' *ForTokenClassification: dropout → classifier on every hidden state.
 * @example const ner = new BertForTokenClassification({ ...BERT_PRESETS.tiny, labels: ['O', 'B-PER', 'I-PER'] })
 */
export class BertForTokenClassification extends BertTaskModel {
  dropout: Dropout;
  classifier: Linear;

  constructor(config: Partial<BertConfig> = {}, opts: BertHeadOptions = {}) {
    const c = fillBertConfig(config);
    super(c, 'tokenClassification', false);
    this.dropout = new Dropout(c.family === 'distilbert' ? c.hiddenDropout : classifierP(c));
    this.classifier = new Linear(c.nEmbd, c.labels.length);
    if (opts.init ?? true) initBertWeights(this, c);
  }

  /** input ids int32 [B, T] → logits [B, T, labels]; with int32 `labels` [B, T] (−100 ignored: padding, sub-word pieces) also the mean cross-entropy. */
  forward(inputIds: Tensor, opts: BertInputs & { labels?: Tensor | null } = {}): { logits: Tensor; loss: Tensor | null } {
    const h = this.encode(inputIds, opts).lastHiddenState;
    const logits = this.classifier.forward(this.dropout.forward(h)); // (B, T, labels)
    const L = this.config.labels.length;
    return { logits, loss: opts.labels ? crossEntropy(reshape(logits, [-1, L]), reshape(opts.labels, [-1])) : null };
  }

  /**
   * Load a token classifier; a checkpoint of another class gives its encoder with a new classifier over `opts.labels`.
   * @example const ner = await BertForTokenClassification.fromPretrained('models/distilbert-ner')
   */
  static async fromPretrained(dir: string, opts: LoadBertOptions = {}): Promise<BertForTokenClassification> {
    const where = 'BertForTokenClassification.fromPretrained';
    return loadBert((await newestCheckpointCopy(dir)) ?? dir, 'tokenClassification', (c, o) => new BertForTokenClassification(c, o), { ...opts, where });
  }
}

// ---------------------------------------------------------------------------------------------
// Extractive question answering

/**
 * Extractive question answering on a BERT-family encoder, as transformers' *ForQuestionAnswering:
 * qa_outputs maps each hidden state to a start and an end logit (DistilBERT with a dropout first).
 * @example const { startLogits, endLogits } = qa.forward(inputIds, { attentionMask, tokenTypeIds })
 */
export class BertForQuestionAnswering extends BertTaskModel {
  /** DistilBERT's qa_dropout; null for BERT and RoBERTa. */
  dropout: Dropout | null = null;
  qa_outputs: Linear;

  constructor(config: Partial<BertConfig> = {}, opts: BertHeadOptions = {}) {
    const c = fillBertConfig({ labels: ['LABEL_0', 'LABEL_1'], ...config });
    super(c, 'questionAnswering', false);
    if (c.family === 'distilbert') this.dropout = new Dropout(c.qaDropout);
    this.qa_outputs = new Linear(c.nEmbd, 2);
    if (opts.init ?? true) initBertWeights(this, c);
  }

  /**
   * input ids int32 [B, T] → start and end logits [B, T]; with int32 `startPositions` and
   * `endPositions` [B] also the mean of their cross-entropies (positions outside the sequence are
   * clamped to T and ignored, as transformers).
   */
  forward(inputIds: Tensor, opts: BertInputs & { startPositions?: Tensor | null; endPositions?: Tensor | null } = {}): { startLogits: Tensor; endLogits: Tensor; loss: Tensor | null } {
    let h = this.encode(inputIds, opts).lastHiddenState;
    if (this.dropout) h = this.dropout.forward(h);
    const logits = this.qa_outputs.forward(h); // (B, T, 2)
    const startLogits = select(logits, -1, 0),
      endLogits = select(logits, -1, 1); // (B, T) each
    let loss: Tensor | null = null;
    if (opts.startPositions && opts.endPositions) {
      const T = inputIds.shape[1];
      const ce = (l: Tensor, pos: Tensor) => crossEntropy(l, clamp(reshape(pos, [-1]), 0, T), { ignoreIndex: T });
      loss = div(add(ce(startLogits, opts.startPositions), ce(endLogits, opts.endPositions)), 2);
    }
    return { startLogits, endLogits, loss };
  }

  /**
   * Load a question-answering model; a checkpoint of another class gives its encoder with a new qa_outputs.
   * @example const qa = await BertForQuestionAnswering.fromPretrained('models/distilbert-squad')
   */
  static async fromPretrained(dir: string, opts: Omit<LoadBertOptions, 'labels'> = {}): Promise<BertForQuestionAnswering> {
    const where = 'BertForQuestionAnswering.fromPretrained';
    return loadBert((await newestCheckpointCopy(dir)) ?? dir, 'questionAnswering', (c, o) => new BertForQuestionAnswering(c, o), { ...opts, where });
  }
}

// ---------------------------------------------------------------------------------------------
// Masked language modeling

/** dense → activation → LayerNorm before the decoder (transformers' BertPredictionHeadTransform). */
export class BertPredictionHeadTransform extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  readonly config: BertConfig;

  constructor(c: BertConfig) {
    super();
    this.config = c;
    this.dense = new Linear(c.nEmbd, c.nEmbd);
    this.LayerNorm = new LayerNorm(c.nEmbd, { eps: c.layerNormEps });
  }

  forward(x: Tensor): Tensor {
    return this.LayerNorm.forward(bertActivation(this.dense.forward(x), this.config.hiddenAct)); // (B, T, C)
  }
}

/** BERT's masked-LM head: transform, then the decoder (tied to the word embeddings) with `bias` (transformers' BertLMPredictionHead). */
export class BertLMPredictionHead extends Module {
  /** The decoder's bias, under this name in checkpoints (decoder.bias is the same tensor). */
  bias: Parameter;
  transform: BertPredictionHeadTransform;
  decoder: Linear;

  constructor(c: BertConfig) {
    super();
    this.bias = new Parameter(zeros([c.vocabSize]));
    this.transform = new BertPredictionHeadTransform(c);
    this.decoder = new Linear(c.nEmbd, c.vocabSize);
    this.decoder.bias?.dispose();
    this.decoder.bias = this.bias;
  }

  forward(x: Tensor): Tensor {
    return this.decoder.forward(this.transform.forward(x)); // (B, T, V)
  }
}

/** `cls.predictions` (transformers' BertOnlyMLMHead). */
export class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;

  constructor(c: BertConfig) {
    super();
    this.predictions = new BertLMPredictionHead(c);
  }

  forward(x: Tensor): Tensor {
    return this.predictions.forward(x);
  }
}

/** RoBERTa's masked-LM head: dense → GELU → layer_norm → decoder (+ bias) (transformers' RobertaLMHead). */
export class RobertaLMHead extends Module {
  /** The decoder's bias, under this name in checkpoints (decoder.bias is the same tensor). */
  bias: Parameter;
  dense: Linear;
  layer_norm: LayerNorm;
  decoder: Linear;

  constructor(c: BertConfig) {
    super();
    this.bias = new Parameter(zeros([c.vocabSize]));
    this.dense = new Linear(c.nEmbd, c.nEmbd);
    this.layer_norm = new LayerNorm(c.nEmbd, { eps: c.layerNormEps });
    this.decoder = new Linear(c.nEmbd, c.vocabSize);
    this.decoder.bias?.dispose();
    this.decoder.bias = this.bias;
  }

  forward(x: Tensor): Tensor {
    return this.decoder.forward(this.layer_norm.forward(gelu(this.dense.forward(x), 'none'))); // (B, T, V): exact GELU, whatever hidden_act says
  }
}

/**
 * A masked language model on a BERT-family encoder (fill in [MASK] / <mask>), as transformers'
 * BertForMaskedLM (`cls.predictions`), RobertaForMaskedLM (`lm_head`) and DistilBertForMaskedLM
 * (`vocab_transform`, `vocab_layer_norm`, `vocab_projector`); the decoder shares the word
 * embeddings unless tie_word_embeddings is false.
 * @example const { logits } = mlm.forward(inputIds, { attentionMask }) // [B, T, vocabSize]
 */
export class BertForMaskedLM extends BertTaskModel {
  /** BERT's head; null for the others. */
  cls: BertOnlyMLMHead | null = null;
  /** RoBERTa's head; null for the others. */
  lm_head: RobertaLMHead | null = null;
  /** DistilBERT's head, in three parts; null for the others. */
  vocab_transform: Linear | null = null;
  vocab_layer_norm: LayerNorm | null = null;
  vocab_projector: Linear | null = null;

  constructor(config: Partial<BertConfig> = {}, opts: BertHeadOptions = {}) {
    const c = fillBertConfig(config);
    super(c, 'maskedLM', false);
    let decoder: Linear;
    if (c.family === 'bert') {
      this.cls = new BertOnlyMLMHead(c);
      decoder = this.cls.predictions.decoder;
    } else if (c.family === 'roberta') {
      this.lm_head = new RobertaLMHead(c);
      decoder = this.lm_head.decoder;
    } else {
      this.vocab_transform = new Linear(c.nEmbd, c.nEmbd);
      this.vocab_layer_norm = new LayerNorm(c.nEmbd, { eps: c.layerNormEps });
      this.vocab_projector = new Linear(c.nEmbd, c.vocabSize);
      decoder = this.vocab_projector;
    }
    if (c.tieWeights) {
      // One storage: the gradients of both uses add up in the word embeddings.
      decoder.weight.dispose();
      decoder.weight = this.base.embeddings.word_embeddings.weight;
    }
    if (opts.init ?? true) initBertWeights(this, c);
  }

  /** input ids int32 [B, T] → vocabulary logits [B, T, V]; with int32 `labels` [B, T] (−100 where nothing is predicted) also the mean cross-entropy. */
  forward(inputIds: Tensor, opts: BertInputs & { labels?: Tensor | null } = {}): { logits: Tensor; loss: Tensor | null } {
    const h = this.encode(inputIds, opts).lastHiddenState; // (B, T, C)
    let logits: Tensor;
    if (this.cls) logits = this.cls.forward(h);
    else if (this.lm_head) logits = this.lm_head.forward(h);
    else {
      const x = this.vocab_layer_norm!.forward(bertActivation(this.vocab_transform!.forward(h), this.config.hiddenAct));
      logits = this.vocab_projector!.forward(x); // (B, T, V)
    }
    const V = this.config.vocabSize;
    return { logits, loss: opts.labels ? crossEntropy(reshape(logits, [-1, V]), reshape(opts.labels, [-1])) : null };
  }

  /**
   * Load a masked language model (BertForPreTraining checkpoints too: their next-sentence head is not read).
   * @example const mlm = await BertForMaskedLM.fromPretrained('models/bert-base-uncased')
   */
  static async fromPretrained(dir: string, opts: Omit<LoadBertOptions, 'labels'> = {}): Promise<BertForMaskedLM> {
    const where = 'BertForMaskedLM.fromPretrained';
    return loadBert((await newestCheckpointCopy(dir)) ?? dir, 'maskedLM', (c, o) => new BertForMaskedLM(c, o), { ...opts, where });
  }
}

// ---------------------------------------------------------------------------------------------
// A directory → its class

/** Every BERT-family class fromPretrained returns. */
export type BertPretrainedModel = BertEncoderModel | BertForSequenceClassification | BertForTokenClassification | BertForQuestionAnswering | BertForMaskedLM;

/**
 * Load a BERT, DistilBERT or RoBERTa directory as the class its config.json's architectures names:
 * an encoder (BertModel, RobertaModel, DistilBertModel, for feature extraction) or one of the heads.
 * @example const model = await loadBertPretrained('models/all-MiniLM-L6-v2') // a BertModel
 */
export async function loadBertPretrained(dir: string, opts: Omit<LoadBertOptions, 'labels'> = {}): Promise<BertPretrainedModel> {
  dir = (await newestCheckpointCopy(dir)) ?? dir;
  return loadBert(
    dir,
    null,
    (c, o): BertPretrainedModel => {
      switch (o.head) {
        case 'base':
          return c.family === 'distilbert'
            ? new DistilBertModel(c, o)
            : c.family === 'roberta'
              ? new RobertaModel(c, { ...o, addPoolingLayer: o.pooler })
              : new BertModel(c, { ...o, addPoolingLayer: o.pooler });
        case 'sequenceClassification':
          return new BertForSequenceClassification(c, o);
        case 'tokenClassification':
          return new BertForTokenClassification(c, o);
        case 'questionAnswering':
          return new BertForQuestionAnswering(c, o);
        case 'maskedLM':
          return new BertForMaskedLM(c, o);
      }
    },
    { ...opts, where: 'fromPretrained' },
  );
}
