// Checkpoints: a directory with the model's weights (safetensors), its config, and the training state
// (optimizer, step, RNG) so a resumed run continues where it stopped. Written atomically: the whole
// directory is built under a temporary name, marked complete, and renamed into place; one writer at
// a time (a lock file); only a directory that is a checkpoint is ever replaced; loaders and the next
// save recover the newest complete copy when a save was cut short.

import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { mkdirSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Module, StateDict } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import { flattenOptimizerState, unflattenOptimizerState } from '../optim/optimizer.js';
import { safetensorsBytes, readSafetensorsFile } from './safetensors.js';
import { acquireLock } from '../platform/lock.js';
import { pathExists as exists, readJsonObject } from '../platform/fs.js';

export const CHECKPOINT_FORMAT = 'nabla-checkpoint';
/**
 * The file that marks a complete checkpoint, written last: `{ format, version, seq, saved }`. Only a
 * directory that has it (or a checkpoint of an older version, see isCheckpoint) is ever replaced.
 */
export const CHECKPOINT_MARKER = 'nabla-checkpoint.json';

interface Marker {
  format: string;
  version: number;
  seq: number;
  saved: string;
}

/**
 * What {@link loadCheckpoint} returns: the model's config and weights, and the trainer and
 * optimizer state when they were saved.
 */
export interface CheckpointContents {
  /** The model's config, including a `type` that names the model class (e.g. 'mlp'). */
  config: Record<string, unknown>;
  stateDict: StateDict;
  /** Anything else to restore a run: epoch, step, RNG state, logs. */
  trainerState?: Record<string, unknown>;
  optimizerState?: ReturnType<Optimizer['stateDict']>;
}

/**
 * What {@link saveCheckpoint} writes: the model (its state dict, unless writeModel), its config,
 * the optimizer's state and the trainer's state.
 */
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

/** The largest JSON file of a checkpoint read (trainer_state.json holds the run's history). */
const MAX_JSON_BYTES = 64 * 2 ** 20;

/** A checkpoint's JSON file as an object; errors name the file and what is wrong. */
const readJsonFile = (p: string): Promise<Record<string, unknown>> => readJsonObject(p, 'loadCheckpoint', MAX_JSON_BYTES);

/** The object in a JSON file, or null when it is missing or unreadable (for probing what a directory is). */
async function probeJson(p: string): Promise<Record<string, unknown> | null> {
  return readJsonFile(p).catch(() => null);
}

async function readMarker(dir: string): Promise<Marker | null> {
  const m = await probeJson(join(dir, CHECKPOINT_MARKER));
  return m && m.format === CHECKPOINT_FORMAT && typeof m.seq === 'number' ? (m as unknown as Marker) : null;
}

/**
 * Whether `dir` holds a nabla checkpoint: it has the marker file, or it was written before the
 * marker existed (config.json with format 'nabla-checkpoint', or a `train gpt` trainer_state.json).
 */
export async function isCheckpoint(dir: string): Promise<boolean> {
  if (await readMarker(dir)) return true;
  if ((await probeJson(join(dir, 'config.json')))?.format === CHECKPOINT_FORMAT) return true;
  const ts = await probeJson(join(dir, 'trainer_state.json'));
  return !!ts && typeof ts.step === 'number' && typeof ts.options === 'object';
}

/** The leftovers of interrupted saves to `dir`: `.NAME.tmp-*` (being written) and `.NAME.old-*` (being replaced). */
async function leftovers(dir: string): Promise<{ path: string; kind: 'tmp' | 'old' }[]> {
  const parent = dirname(dir),
    base = basename(dir);
  const names = await readdir(parent).catch(() => [] as string[]);
  const out: { path: string; kind: 'tmp' | 'old' }[] = [];
  for (const n of names) {
    if (!n.startsWith(`.${base}.`)) continue;
    const m = /^\.(tmp|old)-\d+-[a-z0-9]+$/.exec(n.slice(base.length + 1));
    if (m) out.push({ path: join(parent, n), kind: m[1] as 'tmp' | 'old' });
  }
  return out;
}

/**
 * The newest complete copy of the checkpoint at `dir`: `dir` itself when it is there (a save
 * renames a complete copy into place), else the copy with the highest marker sequence left by a
 * save that was cut between its two renames; null when there is none.
 */
export async function newestCheckpointCopy(dir: string): Promise<string | null> {
  if ((await readMarker(dir)) || (await exists(join(dir, 'config.json'))) || (await exists(join(dir, 'adapter_config.json')))) return dir;
  let best: { path: string; seq: number; saved: string } | null = null;
  for (const { path, kind } of await leftovers(dir)) {
    const m = await readMarker(path);
    // Copies from before the marker existed: only a replaced (.old) one is known to be complete.
    const rank = m ? { seq: m.seq, saved: m.saved } : kind === 'old' && (await exists(join(path, 'config.json'))) ? { seq: -1, saved: '' } : null;
    if (rank && (!best || rank.seq > best.seq || (rank.seq === best.seq && rank.saved > best.saved))) best = { path, ...rank };
  }
  return best?.path ?? null;
}

/** Remove a copy so that no moment of the removal looks complete: the marker goes first. */
async function removeCopy(path: string): Promise<void> {
  await rm(join(path, CHECKPOINT_MARKER), { force: true });
  await rm(path, { recursive: true, force: true });
}

/**
 * Check that a checkpoint may be written at `dir`, before any work is done: it must not exist, or be
 * an empty directory, or hold a nabla checkpoint (which the save replaces). Anything else (a file,
 * a directory of the user's, the current directory or one above it) is refused.
 */
export async function checkSaveTarget(dir: string, where = 'saveCheckpoint'): Promise<void> {
  const abs = resolve(dir);
  const cwd = process.cwd();
  if (abs === cwd || cwd.startsWith(abs.endsWith(sep) ? abs : abs + sep)) {
    throw new Error(`${where}: cannot save a checkpoint to ${dir}: it is the current directory or one above it; name a new directory, e.g. ${join(dir, 'run')}`);
  }
  let s: Stats;
  try {
    s = await stat(abs);
  } catch {
    return; // a new directory
  }
  if (!s.isDirectory()) throw new Error(`${where}: cannot save a checkpoint to ${dir}: it is a file, not a directory; name a new directory`);
  if ((await readdir(abs)).length === 0 || (await isCheckpoint(abs))) return;
  throw new Error(
    `${where}: ${dir} already exists and is not a nabla checkpoint (it has no ${CHECKPOINT_MARKER}); ` +
      'a checkpoint replaces its directory, so name a new or empty directory, or move the files away',
  );
}

/**
 * Make this process the only writer of the checkpoint at `dir` until the returned function is
 * called (a lock file beside it, `.NAME.lock`); a second process is refused with a clear error.
 * saveCheckpoint takes it itself; a training run takes it for its whole length.
 */
export function lockCheckpoint(dir: string, where = 'saveCheckpoint'): () => void {
  const abs = resolve(dir);
  const lock = join(dirname(abs), `.${basename(abs)}.lock`);
  mkdirSync(dirname(abs), { recursive: true });
  return acquireLock(
    lock,
    (holder) =>
      new Error(`${where}: ${dir} is being written by ${holder} (lock file ${lock}); wait for that run to end or save elsewhere. ` + 'If no such run exists, delete the lock file'),
  );
}

/** Saves in progress in this process, by path: a second save to the same path waits for the first. */
const saving = new Map<string, Promise<unknown>>();

/**
 * Save model weights + config (+ optimizer and trainer state) into `dir`, replacing the checkpoint
 * there only once the new one is complete. `dir` must be new, empty or a checkpoint (checkSaveTarget).
 * A save cut short (a crash, a kill) leaves the previous checkpoint loadable; the next save cleans up.
 * @example await io.saveCheckpoint('runs/mnist', { model, config, optimizer, trainerState: { epoch } })
 */
export async function saveCheckpoint(dir: string, o: SaveCheckpointOptions): Promise<void> {
  const abs = resolve(dir);
  const before = saving.get(abs) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(() => saveNow(dir, abs, o));
  saving.set(abs, run);
  try {
    await run;
  } finally {
    if (saving.get(abs) === run) saving.delete(abs);
  }
}

async function saveNow(dir: string, abs: string, o: SaveCheckpointOptions): Promise<void> {
  const release = lockCheckpoint(dir);
  try {
    await checkSaveTarget(dir);
    // Finish what an interrupted save left: the newest complete copy becomes the checkpoint, the rest goes.
    const newest = await newestCheckpointCopy(abs);
    if (newest && newest !== abs) await rename(newest, abs);
    for (const { path } of await leftovers(abs)) await removeCopy(path);
    const seq = ((await readMarker(abs))?.seq ?? 0) + 1;

    const parent = dirname(abs);
    const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const tmp = join(parent, `.${basename(abs)}.tmp-${tag}`);
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
      if (o.writeModel) await o.writeModel(tmp);
      else await writeFile(join(tmp, 'config.json'), JSON.stringify({ format: CHECKPOINT_FORMAT, version: 1, ...o.config }, null, 2));
      // The marker last: its presence means every other file is complete.
      const marker: Marker = { format: CHECKPOINT_FORMAT, version: 1, seq, saved: new Date().toISOString() };
      await writeFile(join(tmp, CHECKPOINT_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
      const old = join(parent, `.${basename(abs)}.old-${tag}`);
      const hadOld = await exists(abs);
      if (hadOld) await rename(abs, old);
      await rename(tmp, abs);
      if (hadOld) await removeCopy(old);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  } finally {
    release();
  }
}

/** Where a checkpoint lives (exported for loaders of other layouts, e.g. Hugging Face directories): `dir`, or the newest complete copy if a save was cut between its two renames. */
export async function resolveDir(dir: string): Promise<string> {
  const found = await newestCheckpointCopy(dir);
  if (found) return found;
  if (await exists(dir)) throw new Error(`loadCheckpoint: ${dir} has no config.json; it is not a nabla checkpoint`);
  throw new Error(`loadCheckpoint: no checkpoint at ${dir}`);
}

/** The training state of a checkpoint (optimizer, step, RNG ...), without the model. */
export async function loadTrainingState(dir: string): Promise<Pick<CheckpointContents, 'trainerState' | 'optimizerState'> & { dir: string }> {
  const d = await resolveDir(dir);
  if (!(await exists(join(d, 'trainer_state.json')))) return { dir: d };
  const trainerState = await readJsonFile(join(d, 'trainer_state.json'));
  let optimizerState: CheckpointContents['optimizerState'];
  const optPath = join(d, 'optimizer.safetensors');
  if (trainerState.optimizer && (await exists(optPath))) {
    const opt = await readSafetensorsFile(optPath);
    optimizerState = unflattenOptimizerState(Object.fromEntries(opt.tensors) as Record<string, Tensor>, trainerState.optimizer as never);
  }
  return { dir: d, trainerState, optimizerState };
}

/** Read a checkpoint written by saveCheckpoint (weights as kept tensors on the current backend). */
export async function loadCheckpoint(dir: string): Promise<CheckpointContents> {
  const d = await resolveDir(dir);
  const config = await readJsonFile(join(d, 'config.json'));
  const modelPath = join(d, 'model.safetensors');
  const { tensors } = await readSafetensorsFile(modelPath);
  const stateDict: StateDict = Object.fromEntries(tensors);
  const { trainerState, optimizerState } = await loadTrainingState(d);
  return { config, stateDict, trainerState, optimizerState };
}
