// `nabla finetune` as a function: transfer learning from a pre-trained GPT, as continued
// language-model training on a text (trainGpt from the model's weights), as a text classifier
// (finetuneClassifier) or as a chat model (finetuneChat, in chat-sft.ts), either of the whole model
// or of LoRA adapters (PEFT's layout, saved alone with the base's path beside them, or merged into
// a whole model). Every task is a configuration of the one Trainer (train/trainer.ts).

import { saveCheckpoint, checkSaveTarget } from '../io/checkpoint.js';
import { injectLora, mergeAndUnload, type InjectLoraOptions, type LoraModel } from '../nn/lora.js';
import { languageModelFrom } from '../models/pretrained.js';
import type { GPT } from '../models/gpt.js';
import { disposeModel } from '../models/gpt2-files.js';
import type { Tokenizer } from '../text/tokenizer.js';
import { portablePath } from '../platform/fs.js';
import { trainGpt, type GptTrainOptions, type GptTrainResult } from './gpt.js';
import { finetuneClassifier, type ClassifyOptions, type ClassifyResult } from './classify.js';

export { finetuneChat, readChatJsonl, tokenizeChat, IGNORE_INDEX, type ChatExample, type ChatTokens, type FinetuneChatOptions, type FinetuneChatResult } from './chat-sft.js';

/** LoRA settings of a fine-tuning run (see injectLora). */
export type FinetuneLora = Pick<InjectLoraOptions, 'r' | 'alpha' | 'dropout' | 'targetModules'>;

/** Continue language-model training of the model in `model` on `text` (GptTrainOptions: steps, lr, callbacks...). */
export interface FinetuneLmOptions extends Omit<GptTrainOptions, 'init' | 'resume' | 'prepare' | 'writeModel' | 'save'> {
  /** The pre-trained model's directory (nabla checkpoint, Hugging Face GPT-2, or a PEFT adapter on its base). */
  model: string;
  /** Where the result goes (written at each evaluation, as a checkpoint). */
  save: string;
  /** Train rank-r adapters instead of the whole model. */
  lora?: FinetuneLora | null;
  /** With lora: merge the adapters into the weights at the end and save a whole model (default: the adapters alone). */
  merge?: boolean;
}

/** Train a classifier head (and the model, or its adapters) on labelled texts, then save it. */
export interface FinetuneClassifyOptions extends Omit<ClassifyOptions, 'prepare'> {
  /** Where the classifier goes (a whole model: adapters are merged, a classifier has no PEFT base to load with). */
  save: string;
  lora?: FinetuneLora | null;
}

/** The learning rate a run uses when none is given: higher for adapters, which start from zero. */
export const finetuneLr = (task: 'lm' | 'classify', lora: boolean): number => (lora ? 1e-3 : task === 'lm' ? 3e-4 : 1e-4);

/**
 * Fine-tune a language model on a text. With `lora`, only the adapters train, and each checkpoint
 * holds them alone in PEFT's layout with the base's path relative to them where it can be (so the
 * pair can move together); `merge` then folds them into a whole model.
 * @example await finetuneLm({ model: 'runs/gpt', text: 'data/tinyshakespeare.txt', save: 'runs/ft', steps: 100, lora: { r: 8 } })
 */
export async function finetuneLm(o: FinetuneLmOptions): Promise<GptTrainResult & { merged: boolean }> {
  const { model: dir, lora, merge, ...rest } = o;
  let adapters: LoraModel | null = null;
  const opts: GptTrainOptions = {
    ...rest,
    init: dir,
    lr: o.lr ?? finetuneLr('lm', !!lora),
    warmup: o.warmup ?? 20,
    steps: o.steps ?? 500,
    ...(lora
      ? {
          prepare: (m: GPT) => {
            adapters = injectLora(m, lora);
          },
          writeModel: async (_m: GPT, out: string, tok: Tokenizer) => {
            await adapters!.saveAdapter(out, { baseModelNameOrPath: await portablePath(o.save, dir) });
            await tok.save(out);
          },
        }
      : {}),
  };
  const r = await trainGpt(opts);
  if (!lora || !merge) return { ...r, merged: false };
  const { model, tokenizer } = await languageModelFrom(o.save, 'finetune');
  try {
    mergeAndUnload(model);
    // replaces the adapter directory in one rename, as every checkpoint write
    await saveCheckpoint(o.save, { model, config: {}, writeModel: (d) => (model as GPT).savePretrained(d, { tokenizer }) });
  } finally {
    disposeModel(model); // a library call in a long-lived process must not keep a whole model
  }
  return { ...r, merged: true };
}

/**
 * Fine-tune a pre-trained GPT to classify texts (GPT2ForSequenceClassification's head on the last
 * token), the whole model or LoRA adapters with the head, then save the classifier to `save`.
 * @example const r = await finetuneClassify({ model: 'runs/gpt', data: 'reviews.jsonl', save: 'runs/sentiment', epochs: 3 })
 */
export async function finetuneClassify(o: FinetuneClassifyOptions): Promise<ClassifyResult & { saved: string }> {
  const { lora, save, ...rest } = o;
  await checkSaveTarget(save, 'finetune --save'); // before training, not after it
  let adapters: LoraModel | null = null;
  const r = await finetuneClassifier({
    ...rest,
    lr: o.lr ?? finetuneLr('classify', !!lora),
    prepare: lora
      ? (m) => {
          adapters = injectLora(m, lora);
          m.score.weight.requiresGrad = true; // the new head trains in full
        }
      : undefined,
  });
  if (adapters) mergeAndUnload(adapters);
  await saveCheckpoint(save, { model: r.model, config: {}, writeModel: (d) => r.model.savePretrained(d, { tokenizer: r.tokenizer }) });
  return { ...r, saved: save };
}
