// A model directory → what the server serves: the language model and tokenizer (fromPretrained:
// a nabla checkpoint, a Hugging Face GPT-2 or Llama/Qwen2/Mistral directory, a PEFT adapter on its base), its chat
// template, and a generation engine with its slots allocated.

import { isAbsolute, join, resolve } from 'node:path';
import { readJsonObject } from '../platform/fs.js';
import type { GPT } from '../models/gpt.js';
import type { Llama } from '../models/llama.js';
import { disposeModel } from '../models/gpt2-files.js';
import { isAdapterDir, languageModelFrom } from '../models/pretrained.js';
import { loadChatTemplate } from '../text/chat-template.js';
import { type EngineOptions, createEngine } from './engine.js';
import type { ServedModel } from './generate.js';

/** A served model with the language model behind it (GPT-2 or a Llama-family decoder). */
export interface LoadedModel extends ServedModel {
  model: GPT | Llama;
}

/**
 * The directories a chat template may be in: the model's, then, for a PEFT adapter directory, its
 * base model's (following base_model_name_or_path as fromPretrained does).
 */
async function templateDirs(dir: string): Promise<string[]> {
  const dirs = [dir];
  for (let d = dir, depth = 0; depth < 8 && (await isAdapterDir(d)); depth++) {
    const cfg = await readJsonObject(join(d, 'adapter_config.json'), 'serve', 2 ** 20);
    const base = cfg.base_model_name_or_path;
    if (typeof base !== 'string' || !base) break;
    d = isAbsolute(base) ? base : resolve(d, base);
    dirs.push(d);
  }
  return dirs;
}

/**
 * Load `dir` for serving. A text classifier, or a directory without a tokenizer, is refused with
 * what it is and what to do instead.
 * @example const served = await loadServedModel('models/gpt2', { parallel: 8, ctx: 512 })
 */
export async function loadServedModel(dir: string, opts: EngineOptions = {}): Promise<LoadedModel> {
  const { model, tokenizer } = await languageModelFrom(dir, 'serve', { llama: true });
  try {
    const tokenOf = (id: number | null) => (id === null ? null : (tokenizer.idToToken(id) ?? null));
    const chatTemplate = await loadChatTemplate(await templateDirs(dir), { bosToken: tokenOf(model.config.bosTokenId), eosToken: tokenOf(model.config.eosTokenId) });
    const engine = createEngine(model, opts);
    return { model, tokenizer, chatTemplate, engine };
  } catch (e) {
    disposeModel(model);
    throw e;
  }
}
