// Hugging Face model directories: fromPretrained(dir) picks the model class from config.json's
// model_type and architectures, loads the tokenizer beside it and checks that it fits the model,
// and loads PEFT adapter directories on top of their base model. The file formats themselves are in
// gpt2-files.ts (GPT-2), llama-files.ts (Llama, Qwen2, Mistral) and bert-files.ts (BERT, DistilBERT,
// RoBERTa).

import { join, isAbsolute, resolve } from 'node:path';
import { realPath } from '../platform/fs.js';
import { type Tokenizer, loadTokenizerFile } from '../text/tokenizer.js';
import '../text/index.js'; // for its classes: each registers the tokenizer files it reads (Tokenizer.registerModel)
import { disposeModel, readJsonObject } from './gpt2-files.js';
import { pathExists as exists } from '../platform/fs.js';
import { GPT } from './gpt.js';
import { Llama } from './llama.js';
import { LLAMA_ARCHITECTURES } from './llama-config.js';
import { GPTClassifier } from './gpt-classifier.js';
import { BertModel, DistilBertModel } from './bert.js';
import { BertForMaskedLM, BertForQuestionAnswering, type BertForSequenceClassification, BertForTokenClassification, loadBertPretrained } from './bert-heads.js';
import { newestCheckpointCopy } from '../io/checkpoint.js';

/** Adapters stacked through base_model_name_or_path, at most. */
const MAX_ADAPTER_DEPTH = 8;

/** What fromPretrained returns for a GPT-2 language model (GPT2LMHeadModel, GPT2Model): generate, evaluate, fine-tune. */
export interface PretrainedLM {
  task: 'text-generation';
  model: GPT;
  /** From tokenizer.json, or vocab.json + merges.txt; null when the directory has neither. */
  tokenizer: Tokenizer | null;
}

/** What fromPretrained returns for a Llama-family language model (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM). */
export interface PretrainedLlama {
  task: 'text-generation';
  model: Llama;
  /** From tokenizer.json; null when the directory has none. */
  tokenizer: Tokenizer | null;
}

/**
 * What fromPretrained returns for a text classifier (GPT2ForSequenceClassification, or a BERT-family
 * *ForSequenceClassification): `model.classify(texts, tokenizer)`.
 */
export interface PretrainedClassifier {
  task: 'text-classification';
  model: GPTClassifier | BertForSequenceClassification;
  tokenizer: Tokenizer | null;
}

/** What fromPretrained returns for a BERT-family *ForTokenClassification: per-token label logits (named entities). */
export interface PretrainedTokenClassifier {
  task: 'token-classification';
  model: BertForTokenClassification;
  tokenizer: Tokenizer | null;
}

/** What fromPretrained returns for a BERT-family *ForQuestionAnswering: start and end logits of the answer span. */
export interface PretrainedQuestionAnswering {
  task: 'question-answering';
  model: BertForQuestionAnswering;
  tokenizer: Tokenizer | null;
}

/** What fromPretrained returns for a BERT-family *ForMaskedLM (or BertForPreTraining): vocabulary logits at each position. */
export interface PretrainedFillMask {
  task: 'fill-mask';
  model: BertForMaskedLM;
  tokenizer: Tokenizer | null;
}

/** What fromPretrained returns for a bare BERT-family encoder (BertModel, RobertaModel, DistilBertModel): hidden states and mean-pooled sentence embeddings (`model.embed`). */
export interface PretrainedFeatureExtractor {
  task: 'feature-extraction';
  model: BertModel | DistilBertModel;
  tokenizer: Tokenizer | null;
}

/** What fromPretrained returns: the model, its task (which tells the model's class), and its tokenizer when the directory has one. */
export type Pretrained =
  | PretrainedLM
  | PretrainedLlama
  | PretrainedClassifier
  | PretrainedTokenClassifier
  | PretrainedQuestionAnswering
  | PretrainedFillMask
  | PretrainedFeatureExtractor;

/** The model classes fromPretrained knows, by config.json's model_type, then its architectures. */
const LOADERS = new Map<string, (dir: string, json: Record<string, unknown>) => Promise<Pretrained['model']>>([
  [
    'gpt2',
    async (dir, json) => {
      const archs = Array.isArray(json.architectures) ? json.architectures : [];
      if (archs.includes('GPT2ForSequenceClassification')) return GPTClassifier.fromPretrained(dir);
      return GPT.fromPretrained(dir);
    },
  ],
  // The Llama family: one class, the differences (biases, sliding windows) are in the config.
  ['llama', (dir) => Llama.fromPretrained(dir)],
  ['qwen2', (dir) => Llama.fromPretrained(dir)],
  ['mistral', (dir) => Llama.fromPretrained(dir)],
  // The BERT family: one class per task, the head by config.json's architectures.
  ['bert', (dir) => loadBertPretrained(dir)],
  ['distilbert', (dir) => loadBertPretrained(dir)],
  ['roberta', (dir) => loadBertPretrained(dir)],
]);

/** What a config.json that fromPretrained cannot load holds, in words, and what to use instead. */
function describeUnsupported(json: Record<string, unknown>, configFile: string): string {
  if (json.format === 'nabla-checkpoint' && typeof json.type === 'string') {
    const task = typeof json.task === 'string' ? ` for ${json.task}` : '';
    const use = json.task === 'mnist' ? ' (evaluate it with `nabla eval mnist --load DIR`)' : '';
    return `${configFile} is a nabla '${json.type}' checkpoint${task}${use}, not a Hugging Face model`;
  }
  return `${configFile} has model_type ${JSON.stringify(json.model_type)}`;
}

/** Whether `dir` holds a PEFT adapter (adapter_config.json) rather than a whole model. */
export async function isAdapterDir(dir: string): Promise<boolean> {
  return exists(join(dir, 'adapter_config.json'));
}

/**
 * Load a Hugging Face model directory, choosing the class by config.json's model_type (gpt2: GPT
 * or GPTClassifier; llama, qwen2, mistral: Llama; bert, distilbert, roberta: the encoder or the
 * task head config.json's architectures names), with its tokenizer when tokenizer files are there.
 * @example const { model, tokenizer } = await models.fromPretrained('models/distilgpt2')
 */
export async function fromPretrained(dir: string): Promise<Pretrained> {
  return loadPretrained(dir, []);
}

/** Which language models a caller of languageModelFrom takes: GPT-2 only (the default), or the Llama family too. */
export interface LanguageModelOptions {
  /** Also return Llama, Qwen2 and Mistral models (a Llama); without it they are refused, naming what the directory holds. */
  llama?: boolean;
}

/**
 * fromPretrained for a language model (generate, eval, fine-tune): another kind of model is
 * refused with what it is and what to do with it; the tokenizer must be there. A caller written
 * for GPT only gets a GPT; one that passes `{ llama: true }` also gets the Llama family.
 */
export async function languageModelFrom(dir: string, where: string): Promise<{ model: GPT; tokenizer: Tokenizer }>;
export async function languageModelFrom(dir: string, where: string, opts: LanguageModelOptions & { llama: true }): Promise<{ model: GPT | Llama; tokenizer: Tokenizer }>;
export async function languageModelFrom(dir: string, where: string, opts: LanguageModelOptions = {}): Promise<{ model: GPT | Llama; tokenizer: Tokenizer }> {
  const pre = await fromPretrained(dir);
  if (pre.task === 'text-classification') {
    disposeModel(pre.model);
    throw new Error(
      `${where}: ${dir} holds a text classifier (${pre.model instanceof GPTClassifier ? 'GPT2ForSequenceClassification' : pre.model.architecture}, labels ${pre.model.labels.join(', ')}), not a language model; ` +
        'classify texts with `nabla classify DIR --text ...` or `model.classify(texts, tokenizer)`',
    );
  }
  if (pre.task !== 'text-generation') {
    disposeModel(pre.model);
    throw new Error(
      `${where}: ${dir} holds a ${pre.task} model (${'architecture' in pre.model ? pre.model.architecture : pre.model.constructor.name}), an encoder, not a language model`,
    );
  }
  if (pre.model instanceof Llama && !opts.llama) {
    const family = pre.model.config.family;
    disposeModel(pre.model);
    throw new Error(`${where}: ${dir} holds a '${family}' model (${LLAMA_ARCHITECTURES[family].causalLM}); ${where} supports model_type gpt2 only so far`);
  }
  if (!pre.tokenizer) {
    disposeModel(pre.model);
    throw new Error(`${where}: ${dir} has no tokenizer (tokenizer.json, or vocab.json + merges.txt)`);
  }
  return { model: pre.model, tokenizer: pre.tokenizer };
}

/** `adapters`: the real paths of the adapter directories that led here, to refuse a cycle. */
async function loadPretrained(dir: string, adapters: string[]): Promise<Pretrained> {
  dir = (await newestCheckpointCopy(dir)) ?? dir; // a checkpoint whose last save was cut short
  if (await isAdapterDir(dir)) return fromAdapter(dir, adapters);
  const configFile = join(dir, 'config.json');
  const json = await readJsonObject(configFile, 'fromPretrained');
  const type = json.model_type;
  const load = typeof type === 'string' ? LOADERS.get(type) : undefined;
  if (!load) throw new Error(`fromPretrained: ${describeUnsupported(json, configFile)}; supported: ${[...LOADERS.keys()].join(', ')}`);
  const model = await load(dir, json);
  try {
    const tokenizer = await tokenizerFor(dir, model, configFile);
    return withModel(model, tokenizer);
  } catch (e) {
    disposeModel(model);
    throw e;
  }
}

/** The Pretrained of a model and its tokenizer: the task from the model's class. */
function withModel(model: Pretrained['model'], tokenizer: Tokenizer | null): Pretrained {
  if (model instanceof GPT) return { task: 'text-generation', model, tokenizer };
  if (model instanceof Llama) return { task: 'text-generation', model, tokenizer };
  if (model instanceof BertForTokenClassification) return { task: 'token-classification', model, tokenizer };
  if (model instanceof BertForQuestionAnswering) return { task: 'question-answering', model, tokenizer };
  if (model instanceof BertForMaskedLM) return { task: 'fill-mask', model, tokenizer };
  if (model instanceof BertModel || model instanceof DistilBertModel) return { task: 'feature-extraction', model, tokenizer };
  return { task: 'text-classification', model, tokenizer };
}

/**
 * The directory's tokenizer (null when it has none), checked against the model: every id it can
 * give must have a row in the embedding, else training reads past the table and reports NaN.
 */
async function tokenizerFor(dir: string, model: Pretrained['model'], configFile: string): Promise<Tokenizer | null> {
  const file = (await exists(join(dir, 'tokenizer.json')))
    ? join(dir, 'tokenizer.json')
    : (await exists(join(dir, 'vocab.json'))) && (await exists(join(dir, 'merges.txt')))
      ? join(dir, 'vocab.json')
      : null;
  if (!file) return null;
  const tokenizer = await loadTokenizerFile(file);
  checkTokenizerFits(tokenizer, model.config.vocabSize, { where: 'fromPretrained', tokenizerFile: file, configFile });
  return tokenizer;
}

/**
 * Refuse a tokenizer that can give ids the model has no embedding for (the loss would read past
 * the table). The message names both files and both numbers.
 */
export function checkTokenizerFits(tokenizer: Tokenizer, vocabSize: number, o: { where: string; tokenizerFile: string; configFile: string }): void {
  const maxId = tokenizer.maxTokenId;
  if (maxId >= vocabSize) {
    throw new Error(
      `${o.where}: ${o.tokenizerFile} has token ids up to ${maxId} (${tokenizer.vocabSize} tokens), but ${o.configFile} has vocab_size ${vocabSize}; ids from ${vocabSize} on have no embedding`,
    );
  }
}

/**
 * A PEFT adapter directory (adapter_config.json + adapter_model.safetensors): the base model named
 * by base_model_name_or_path (a directory; relative paths resolve from the adapter's) with the
 * adapters loaded, as PEFT's AutoPeftModelForCausalLM does. A base that is itself an adapter
 * directory is loaded with its adapter merged, up to MAX_ADAPTER_DEPTH; a cycle is an error. The
 * tokenizer comes from the adapter directory when it has one, else from the base.
 */
async function fromAdapter(dir: string, adapters: string[]): Promise<Pretrained> {
  const chain = [...adapters, await realPath(dir)];
  const cfgFile = join(dir, 'adapter_config.json');
  const cfg = await readJsonObject(cfgFile, 'fromPretrained');
  const basePath = cfg.base_model_name_or_path;
  if (typeof basePath !== 'string' || !basePath) throw new Error(`fromPretrained: ${cfgFile} names no base_model_name_or_path`);
  const base = isAbsolute(basePath) ? basePath : resolve(dir, basePath);
  if (await exists(join(base, 'adapter_config.json'))) {
    const next = await realPath(base);
    const why = chain.includes(next) ? 'forms a cycle' : chain.length >= MAX_ADAPTER_DEPTH ? `stacks more than ${MAX_ADAPTER_DEPTH} adapters` : null;
    if (why) throw new Error(`fromPretrained: ${cfgFile}: base_model_name_or_path ${JSON.stringify(basePath)} ${why}: ${[...chain, next].join(' → ')}`);
  } else if (!(await exists(join(base, 'config.json')))) {
    throw new Error(`fromPretrained: the base model of the adapter in ${dir}, ${base}, has no config.json (${cfgFile} names it)`);
  }
  const pre = await loadPretrained(base, chain);
  if (pre.task !== 'text-generation') {
    disposeModel(pre.model);
    throw new Error(`fromPretrained: the base model of the adapter in ${dir}, ${base}, is a ${pre.task} model; adapters load on language models only`);
  }
  const { model, tokenizer } = pre;
  try {
    const { loadAdapter, mergeAndUnload, LoraLinear } = await import('../nn/lora.js');
    if ([...model.modules()].some((m) => m instanceof LoraLinear)) mergeAndUnload(model); // the base's own adapter
    await loadAdapter(model, dir);
    const own = (await exists(join(dir, 'tokenizer.json'))) ? await tokenizerFor(dir, model, join(base, 'config.json')) : null;
    return withModel(model, own ?? tokenizer);
  } catch (e) {
    disposeModel(model);
    throw e;
  }
}
