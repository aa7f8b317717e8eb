// Checkpoints: a directory with the model's weights (safetensors), its config, and the training state
// (optimizer, step, RNG) so a resumed run continues where it stopped. Written atomically: the whole
// directory is built under a temporary name and renamed into place.

import { mkdir, readdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Module, StateDict } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import { flattenOptimizerState, unflattenOptimizerState } from '../optim/optimizer.js';
import { safetensorsBytes, tensorsFromSafetensors } from './safetensors.js';
import { readFileBytes } from '../platform/fs.js';

export const CHECKPOINT_FORMAT = 'nabla-checkpoint';

export interface CheckpointContents {
  /** The model's config, including a `type` that names the model class (e.g. 'mlp'). */
  config: Record<string, unknown>;
  stateDict: StateDict;
  /** Anything else to restore a run: epoch, step, RNG state, logs. */
  trainerState?: Record<string, unknown>;
  optimizerState?: ReturnType<Optimizer['stateDict']>;
}

export interface SaveCheckpointOptions {
  model: Module;
  config: Record<string, unknown>;
  optimizer?: Optimizer;
  trainerState?: Record<string, unknown>;
  /**
   * Write the model's own files into the (temporary) directory instead of model.safetensors and
   * config.json: e.g. a Hugging Face layout (`model.savePretrained(dir)`), tokenizer included.
   */
  writeModel?: (dir: string) => Promise<void>;
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}

/**
 * Save model weights + config (+ optimizer and trainer state) into `dir`, replacing any checkpoint
 * there only once the new one is complete.
 * @example await io.saveCheckpoint('runs/mnist', { model, config, optimizer, trainerState: { epoch } })
 */
export async function saveCheckpoint(dir: string, o: SaveCheckpointOptions): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = join(parent, `.${basename(dir)}.tmp-${tag}`);
  await mkdir(tmp, { recursive: true });
  try {
    if (!o.writeModel) await writeFile(join(tmp, 'model.safetensors'), await safetensorsBytes(o.model.stateDict(), { format: 'pt' }));
    const trainer: Record<string, unknown> = { ...(o.trainerState ?? {}) };
    if (o.optimizer) {
      const { tensors, meta } = flattenOptimizerState(o.optimizer.stateDict());
      await writeFile(join(tmp, 'optimizer.safetensors'), await safetensorsBytes(tensors));
      trainer.optimizer = meta;
    }
    await writeFile(join(tmp, 'trainer_state.json'), JSON.stringify(trainer, null, 2));
    // config.json last inside the temporary directory: its presence marks a complete checkpoint.
    if (o.writeModel) await o.writeModel(tmp);
    else await writeFile(join(tmp, 'config.json'), JSON.stringify({ format: CHECKPOINT_FORMAT, version: 1, ...o.config }, null, 2));
    const old = join(parent, `.${basename(dir)}.old-${tag}`);
    const hadOld = await exists(dir);
    if (hadOld) await rename(dir, old);
    await rename(tmp, dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Where a checkpoint lives (exported for loaders of other layouts, e.g. Hugging Face directories): `dir`, or the previous one if a save was cut between its two renames. */
export async function resolveDir(dir: string): Promise<string> {
  if (await exists(join(dir, 'config.json'))) return dir;
  const parent = dirname(dir);
  const prefix = `.${basename(dir)}.old-`;
  const olds = (await readdir(parent).catch(() => [] as string[])).filter((f) => f.startsWith(prefix));
  for (const o of olds) if (await exists(join(parent, o, 'config.json'))) return join(parent, o);
  if (await exists(dir)) throw new Error(`loadCheckpoint: ${dir} has no config.json; it is not a nabla checkpoint`);
  throw new Error(`loadCheckpoint: no checkpoint at ${dir}`);
}

/** The training state of a checkpoint (optimizer, step, RNG ...), without the model. */
export async function loadTrainingState(dir: string): Promise<Pick<CheckpointContents, 'trainerState' | 'optimizerState'> & { dir: string }> {
  const d = await resolveDir(dir);
  if (!(await exists(join(d, 'trainer_state.json')))) return { dir: d };
  let trainerState: Record<string, unknown>;
  try {
    trainerState = JSON.parse(await readFile(join(d, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`loadCheckpoint: ${join(d, 'trainer_state.json')} is not valid JSON: ${(e as Error).message}`);
  }
  let optimizerState: CheckpointContents['optimizerState'];
  const optPath = join(d, 'optimizer.safetensors');
  if (trainerState.optimizer && await exists(optPath)) {
    const opt = tensorsFromSafetensors(await readFileBytes(optPath), optPath);
    optimizerState = unflattenOptimizerState(Object.fromEntries(opt.tensors) as Record<string, Tensor>, trainerState.optimizer as never);
  }
  return { dir: d, trainerState, optimizerState };
}

/** Read a checkpoint written by saveCheckpoint (weights as kept tensors on the current backend). */
export async function loadCheckpoint(dir: string): Promise<CheckpointContents> {
  const d = await resolveDir(dir);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(join(d, 'config.json'), 'utf8'));
  } catch (e) {
    throw new Error(`loadCheckpoint: ${join(d, 'config.json')} is not valid JSON: ${(e as Error).message}`);
  }
  const modelPath = join(d, 'model.safetensors');
  const { tensors } = tensorsFromSafetensors(await readFileBytes(modelPath), modelPath);
  const stateDict: StateDict = Object.fromEntries(tensors);
  const { trainerState, optimizerState } = await loadTrainingState(d);
  return { config, stateDict, trainerState, optimizerState };
}
