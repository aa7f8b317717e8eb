// LoRA (Hu et al. 2021, arXiv:2106.09685): low-rank adapters on Linear and Hugging Face Conv1D
// layers, with Hugging Face PEFT's names, initialization, scaling, merging and adapter files.
//
// Layout choice: PEFT moves a wrapped layer's weight to `<path>.base_layer.weight`. Here the
// wrapper exposes the base layer's own Parameter objects as its `weight` and `bias` fields and
// keeps the base module out of the module tree, so `model.stateDict()` keeps every base weight
// under its original (Hugging Face) name — `h.0.attn.c_attn.weight` — and only adds
// `<path>.lora_A.weight` / `<path>.lora_B.weight`. A merged and unloaded model therefore saves
// exactly the keys of the model it came from. Adapter files use PEFT's keys
// (`base_model.model.<path>.lora_A.weight`), see `adapterStateDict`.

import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { Linear, Identity } from './layers/linear.js';
import { Dropout } from './layers/dropout.js';
import { zeros_ } from './init.js';
import { add, mul, sub } from '../ops/binary.js';
import { matmul } from '../ops/matmul.js';
import { cast } from '../ops/unary.js';
import { transpose, contiguous } from '../ops/movement.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { RE2JS } from 're2js';
import { readSafetensorsFile, readSafetensorsHeader, saveSafetensors } from '../io/safetensors.js';
import { readJsonObject, writeFileAtomic } from '../platform/fs.js';

/** PEFT's file names inside an adapter directory. */
export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
/** PEFT's file name of the adapter's weights (safetensors) inside an adapter directory. */
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';
/** PeftModelForCausalLM wraps LoraModel (`base_model`) which wraps the user's model (`model`). */
const KEY_PREFIX = 'base_model.model.';

/**
 * Options of {@link LoraLinear}: the adapter's rank, scaling, dropout and rsLoRA (PEFT's LoraConfig
 * fields).
 */
export interface LoraLinearOptions {
  /** Rank of the update (PEFT's r; default 8). */
  r?: number;
  /** lora_alpha; the update is scaled by alpha / r (default 8, PEFT's default). */
  alpha?: number;
  /** Dropout on the adapter's input during training (lora_dropout; default 0). */
  dropout?: number;
  /** Rank-stabilized LoRA: scale by alpha / √r instead of alpha / r. */
  useRslora?: boolean;
}

/** A layer LoRA can wrap: an nn.Linear, or a module with `fanInFanOut === true` and a weight [in, out] (HF Conv1D). */
interface WeightModule extends Module {
  weight: Parameter;
  bias?: Parameter | null;
  fanInFanOut?: boolean;
}

function isFanInFanOut(m: Module): boolean {
  return (m as WeightModule).fanInFanOut === true;
}

/** Whether LoRA supports this module: Linear, or a Conv1D-style module with a 2-D weight. */
export function isLoraTargetable(m: Module): boolean {
  if (m instanceof LoraLinear) return false;
  if (m instanceof Linear) return true;
  const w = (m as WeightModule).weight;
  return isFanInFanOut(m) && w instanceof Parameter && w.ndim === 2;
}

function checkHyper(where: string, r: number, alpha: number, dropout: number): void {
  if (!Number.isInteger(r) || r <= 0) throw new Error(`${where}: r must be a positive integer, got ${r}`);
  if (!Number.isFinite(alpha)) throw new Error(`${where}: alpha must be a finite number, got ${alpha}`);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`${where}: dropout must be in [0, 1), got ${dropout}`);
}

/**
 * A Linear or Conv1D with a trainable low-rank update, as PEFT's lora.Linear:
 * y = base(x) + lora_B(lora_A(dropout(x))) · scaling, with lora_A [r, in] ~ kaiming_uniform(a=√5)
 * (U(±1/√in)), lora_B [out, r] = 0 (so the output equals the base at init), scaling = alpha / r.
 * `weight` and `bias` are the base layer's own parameters (same objects), in the base's layout.
 * @example const l = new LoraLinear(new Linear(16, 32), { r: 4, alpha: 8 })
 */
export class LoraLinear extends Module {
  /** The base layer's weight: [out, in] for Linear, [in, out] when fanInFanOut (HF Conv1D). */
  weight: Parameter;
  bias: Parameter | null;
  lora_dropout: Module;
  lora_A: Linear;
  lora_B: Linear;
  readonly r: number;
  readonly alpha: number;
  readonly scaling: number;
  readonly useRslora: boolean;
  /** True when the base weight is stored [in, out] (PEFT's fan_in_fan_out). */
  readonly fanInFanOut: boolean;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** True after merge(): the update lives in `weight` and forward computes the base only. */
  merged = false;
  // Private, so the module tree (state dict, parameters) does not see the base module twice.
  readonly #base: WeightModule;

  constructor(base: Module, opts: LoraLinearOptions = {}) {
    super();
    if (!isLoraTargetable(base)) {
      throw new Error(`LoraLinear: the base layer must be a Linear or a Conv1D-style module (fanInFanOut = true, 2-D weight), got ${base.constructor.name}`);
    }
    const b = base as WeightModule;
    const r = opts.r ?? 8,
      alpha = opts.alpha ?? 8,
      p = opts.dropout ?? 0;
    checkHyper('LoraLinear', r, alpha, p);
    this.#base = b;
    this.fanInFanOut = isFanInFanOut(base);
    const [d0, d1] = b.weight.shape;
    this.inFeatures = this.fanInFanOut ? d0 : d1;
    this.outFeatures = this.fanInFanOut ? d1 : d0;
    this.r = r;
    this.alpha = alpha;
    this.useRslora = opts.useRslora ?? false;
    this.scaling = this.useRslora ? alpha / Math.sqrt(r) : alpha / r;
    this.weight = b.weight;
    this.bias = b.bias ?? null;
    // PEFT: nn.Dropout(p) if p > 0 else nn.Identity()
    this.lora_dropout = p > 0 ? new Dropout(p) : new Identity();
    const dtype = b.weight.dtype;
    // nn.Linear's own init is kaiming_uniform(a=√5), which is PEFT's init of lora_A.
    this.lora_A = new Linear(this.inFeatures, r, { bias: false, dtype });
    this.lora_B = new Linear(r, this.outFeatures, { bias: false, dtype });
    zeros_(this.lora_B.weight);
  }

  /** The wrapped module (not part of the module tree; its parameters are this module's weight and bias). */
  get baseLayer(): Module {
    return this.#base;
  }

  forward(x: Tensor): Tensor {
    const base = this.#base;
    base.training = this.training; // the base is outside the tree, so train()/eval() do not reach it
    const y = base.forward(x);
    if (this.merged) return y;
    const h = this.lora_B.forward(this.lora_A.forward(this.lora_dropout.forward(x)));
    return add(y, mul(h, this.scaling));
  }

  /** scaling · B·A in the base weight's layout ([out, in], or [in, out] when fanInFanOut); PEFT's get_delta_weight. */
  deltaWeight(): Tensor {
    const ba = matmul(this.lora_B.weight, this.lora_A.weight); // (out, in)
    return mul(this.fanInFanOut ? transpose(ba, 0, 1) : ba, this.scaling);
  }

  /** W += scaling·B·A; forward then computes the base only. */
  merge(): void {
    if (this.merged) return;
    noGrad(() => scope(() => this.weight.assignStorage(contiguous(add(this.weight, cast(this.deltaWeight(), this.weight.dtype))))));
    this.merged = true;
  }

  /** W −= scaling·B·A (exact up to float rounding), undoing merge(). */
  unmerge(): void {
    if (!this.merged) return;
    noGrad(() => scope(() => this.weight.assignStorage(contiguous(sub(this.weight, cast(this.deltaWeight(), this.weight.dtype))))));
    this.merged = false;
  }

  override extraRepr(): string {
    const b = this.#base;
    return (
      `base=${b.constructor.name}(${b.extraRepr()}), r=${this.r}, lora_alpha=${this.alpha}, scaling=${this.scaling}, ` +
      `fan_in_fan_out=${this.fanInFanOut ? 'True' : 'False'}, merged=${this.merged ? 'True' : 'False'}`
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Injection into a model

/**
 * Options of {@link injectLora}: which modules get adapters, and the adapters' settings (those of
 * {@link LoraLinearOptions}).
 */
export interface InjectLoraOptions extends LoraLinearOptions {
  /**
   * Which modules get adapters, as PEFT's target_modules: a list of names, each matching a module
   * whose dotted path equals it or ends with `.name` (`'c_attn'`, `'attn.c_proj'`); or one string,
   * a regular expression that must match the whole dotted path (`'.*\\.attn\\.c_(attn|proj)'`), in
   * RE2's syntax (matched in linear time; no backreferences or lookaround).
   */
  targetModules: string[] | string;
  /** Only 'none' (PEFT's default): biases stay frozen and are not saved with the adapter. */
  bias?: 'none';
}

/** The adapter's settings with every default filled in. */
export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  targetModules: string[] | string;
  bias: 'none';
  /** True when some adapted layer stores its weight [in, out] (HF Conv1D), as PEFT records it. */
  fanInFanOut: boolean;
}

/** Where a module sits in its parent: `parent[key]` or `parent[key][index]`. */
interface Slot {
  parent: Module;
  key: string;
  index?: number;
}

function slotsByModule(model: Module): Map<Module, { name: string; slot: Slot }[]> {
  const out = new Map<Module, { name: string; slot: Slot }[]>();
  const walk = (parent: Module, prefix: string): void => {
    for (const [childName, child] of parent.namedChildren()) {
      const name = prefix ? `${prefix}.${childName}` : childName;
      let slot: Slot;
      // biome-ignore lint/suspicious/noExplicitAny: a child module's field, found by name
      if ((parent as any)[childName] === child) slot = { parent, key: childName };
      else {
        const dot = childName.lastIndexOf('.');
        slot = { parent, key: childName.slice(0, dot), index: Number(childName.slice(dot + 1)) };
      }
      const list = out.get(child) ?? [];
      list.push({ name, slot });
      out.set(child, list);
      walk(child, name);
    }
  };
  walk(model, '');
  return out;
}

function setSlot(s: Slot, m: Module): void {
  // biome-ignore lint/suspicious/noExplicitAny: replaces a child module's field, found by name
  if (s.index === undefined) (s.parent as any)[s.key] = m;
  // biome-ignore lint/suspicious/noExplicitAny: an element of a module-array field
  else (s.parent as any)[s.key][s.index] = m;
}

/** Compiled target_modules patterns (RE2: linear-time matching, so no pattern can hang a load). */
const patterns = new Map<string, RE2JS>();

/**
 * A target_modules string compiled with RE2 (re2js, pure JS). Python's re, which PEFT uses, also
 * has backreferences and lookaround; RE2 refuses them, as they need backtracking.
 */
function targetPattern(pattern: string, where: string): RE2JS {
  let re = patterns.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw new Error(`${where} ${JSON.stringify(pattern)} is not a valid regular expression for RE2 (linear-time matching: no backreferences or lookaround): ${(e as Error).message}`);
    }
    if (patterns.size >= 64) patterns.clear();
    patterns.set(pattern, re);
  }
  return re;
}

/**
 * PEFT's check_target_module_exists: a string is a regular expression that must match the whole
 * name (Python's re.fullmatch), run by RE2 in linear time; a list matches a name equal to an entry
 * or ending with `.entry`.
 */
export function matchesTarget(targetModules: string[] | string, name: string): boolean {
  if (typeof targetModules === 'string') return targetPattern(targetModules, 'matchesTarget: targetModules').matches(name);
  return targetModules.some((t) => name === t || name.endsWith(`.${t}`));
}

/** Check target_modules' type, and compile a pattern (once) so a bad one fails before anything changes. */
function checkTargets(t: unknown, where: string): asserts t is string[] | string {
  const ok = typeof t === 'string' ? t.length > 0 : Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string');
  if (!ok) throw new Error(`${where} must be a non-empty string or list of strings, got ${JSON.stringify(t)}`);
  if (typeof t === 'string') targetPattern(t, where);
}

/** Named LoraLinear modules of a model, in module order. */
function loraModulesOf(model: Module): [string, LoraLinear][] {
  return [...model.namedModules()].filter((e): e is [string, LoraLinear] => e[1] instanceof LoraLinear);
}

/** requiresGrad of every parameter before injection, to restore on unload. */
const savedFlags = new WeakMap<Module, Map<Parameter, boolean>>();

/**
 * A model with LoRA adapters: the handle injectLora and loadAdapter return. The model itself is
 * changed in place (`lora.model` is the same object) and is used as before.
 */
export class LoraModel {
  constructor(
    readonly model: Module,
    readonly config: LoraConfig,
  ) {}

  /** The adapted layers with their dotted paths. */
  loraModules(): [string, LoraLinear][] {
    return loraModulesOf(this.model);
  }

  /** Parameters that require gradients (after injection: the adapters only). Pass these to the optimizer. */
  trainableParameters(): Parameter[] {
    return this.model.parameters().filter((p) => p.requiresGrad);
  }

  /** Trainable and total parameter elements (PEFT's print_trainable_parameters numbers). */
  parameterCounts(): { trainable: number; all: number; percent: number } {
    const all = this.model.numParams(),
      trainable = this.model.numParams(true);
    return { trainable, all, percent: all ? (100 * trainable) / all : 0 };
  }

  /** Fold every adapter into its base weight (W += scaling·B·A); forward then runs the base layers only. */
  merge(): void {
    checkNoTiedTargets(this.model, 'merge');
    for (const [, m] of this.loraModules()) m.merge();
  }

  /** Undo merge(). */
  unmerge(): void {
    for (const [, m] of this.loraModules()) m.unmerge();
  }

  /** PEFT's adapter state dict: `base_model.model.<path>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r]. */
  adapterStateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [name, m] of this.loraModules()) {
      sd[`${KEY_PREFIX}${name}.lora_A.weight`] = m.lora_A.weight;
      sd[`${KEY_PREFIX}${name}.lora_B.weight`] = m.lora_B.weight;
    }
    return sd;
  }

  /** The adapter_config.json object PEFT writes for this adapter (LoraConfig fields with PEFT's names). */
  adapterConfig(opts: { baseModelNameOrPath?: string | null } = {}): Record<string, unknown> {
    const c = this.config;
    const cfg: Record<string, unknown> = {
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: opts.baseModelNameOrPath ?? null,
      bias: c.bias,
      fan_in_fan_out: c.fanInFanOut,
      inference_mode: true,
      init_lora_weights: true,
      layer_replication: null,
      layers_pattern: null,
      layers_to_transform: null,
      loftq_config: {},
      lora_alpha: c.alpha,
      lora_dropout: c.dropout,
      megatron_config: null,
      megatron_core: 'megatron.core',
      modules_to_save: null,
      peft_type: 'LORA',
      r: c.r,
      rank_pattern: {},
      revision: null,
      target_modules: c.targetModules,
      task_type: 'CAUSAL_LM',
      use_dora: false,
      use_rslora: c.useRslora,
    };
    // PEFT writes json.dumps(config, indent=2, sort_keys=True)
    return Object.fromEntries(
      Object.keys(cfg)
        .sort()
        .map((k) => [k, cfg[k]]),
    );
  }

  /**
   * Write PEFT's adapter directory: adapter_config.json and adapter_model.safetensors, each via a
   * temporary file and a rename. Load it here with loadAdapter, or in Python with
   * `PeftModel.from_pretrained(base_model, dir)`.
   * @example await lora.saveAdapter('out/adapter', { baseModelNameOrPath: 'gpt2' })
   */
  async saveAdapter(dir: string, opts: { baseModelNameOrPath?: string | null } = {}): Promise<void> {
    if (this.loraModules().length === 0) throw new Error('saveAdapter: the model has no LoRA adapters (was it merged and unloaded?)');
    await saveSafetensors(join(dir, ADAPTER_WEIGHTS_NAME), this.adapterStateDict(), { format: 'pt' });
    await writeFileAtomic(join(dir, ADAPTER_CONFIG_NAME), JSON.stringify(this.adapterConfig(opts), null, 2));
  }

  /** Merge the adapters into the base weights and put the base layers back (PEFT's merge_and_unload). */
  mergeAndUnload(): Module {
    return mergeAndUnload(this.model);
  }

  /** Remove the adapters without merging: the model is the base model again (PEFT's unload). */
  unload(): Module {
    return unloadLora(this.model, false);
  }
}

/** A tied weight (e.g. lm_head and wte) under a LoRA layer would change both when merged. */
function checkNoTiedTargets(model: Module, where: string): void {
  const sd = model.stateDict();
  for (const [name, m] of loraModulesOf(model)) {
    const own = `${name}.weight`;
    const other = Object.keys(sd).find((k) => sd[k] === m.weight && k !== own);
    if (other) throw new Error(`${where}: the weight of ${name} is shared with ${other}; merging would change both`);
  }
}

/**
 * Wrap the model's Linear / Conv1D layers named by `targetModules` with LoraLinear, in place, and
 * freeze every other parameter (PEFT's default: only the adapters train).
 * @example const lora = injectLora(gpt, { r: 8, alpha: 16, targetModules: ['c_attn', 'c_proj', 'c_fc'] })
 *          const opt = new AdamW(lora.trainableParameters(), { lr: 1e-3 })
 */
export function injectLora(model: Module, opts: InjectLoraOptions): LoraModel {
  return inject(model, opts, 'injectLora');
}

/** injectLora, with errors prefixed by `where` (loadAdapter names the adapter_config.json). */
function inject(model: Module, opts: InjectLoraOptions, where: string): LoraModel {
  const r = opts.r ?? 8,
    alpha = opts.alpha ?? 8,
    dropout = opts.dropout ?? 0;
  checkHyper(where, r, alpha, dropout);
  const bias = opts.bias ?? 'none';
  if (bias !== 'none') throw new Error(`${where}: bias '${bias}' is not supported; only 'none' (PEFT's default)`);
  const t = opts.targetModules;
  if (typeof t === 'string' ? t.length === 0 : !Array.isArray(t) || t.length === 0) {
    throw new Error(`${where}: targetModules must name at least one module (a list of names or a regex string)`);
  }
  checkTargets(t, `${where}: targetModules`);
  const existing = loraModulesOf(model);
  if (existing.length) {
    throw new Error(`${where}: the model already has LoRA adapters (${existing[0][0]}); call mergeAndUnload or unload first`);
  }
  const slots = slotsByModule(model);
  const targets: [Module, { name: string; slot: Slot }[]][] = [];
  for (const [m, places] of slots) {
    const hits = places.filter((p) => matchesTarget(t, p.name));
    if (!hits.length) continue;
    if (!isLoraTargetable(m)) {
      throw new Error(`${where}: target module ${hits[0].name} (${m.constructor.name}) is not supported; ` + 'LoRA applies to Linear and Conv1D-style modules (fanInFanOut = true)');
    }
    if (places.length > 1) {
      throw new Error(`${where}: module ${places[0].name} is shared (also at ${places[1].name}); LoRA on a shared module is not supported`);
    }
    targets.push([m, places]);
  }
  if (!targets.length) {
    const names = typeof t === 'string' ? `'${t}'` : JSON.stringify(t);
    throw new Error(
      `${where}: target modules ${names} not found in the model; its Linear/Conv1D modules are: ` +
        [...slots]
          .filter(([m]) => isLoraTargetable(m))
          .map(([, p]) => p[0].name)
          .slice(0, 20)
          .join(', '),
    );
  }
  const flags = new Map<Parameter, boolean>();
  for (const p of model.parameters()) {
    flags.set(p, p.requiresGrad);
    p.requiresGrad = false;
  }
  for (const [m, [{ slot }]] of targets) {
    setSlot(slot, new LoraLinear(m, { r, alpha, dropout, useRslora: opts.useRslora }));
  }
  savedFlags.set(model, flags);
  return new LoraModel(model, {
    r,
    alpha,
    dropout,
    useRslora: opts.useRslora ?? false,
    bias,
    targetModules: typeof t === 'string' ? t : [...new Set(t)],
    fanInFanOut: targets.some(([m]) => isFanInFanOut(m)),
  });
}

/** Put every LoraLinear's base layer back, optionally merging first; restore requiresGrad flags. */
function unloadLora(model: Module, merge: boolean): Module {
  if (merge) checkNoTiedTargets(model, 'mergeAndUnload');
  const slots = slotsByModule(model);
  const lora = loraModulesOf(model);
  for (const [, m] of lora) {
    if (merge) m.merge();
    else m.unmerge();
    for (const { slot } of slots.get(m) ?? []) setSlot(slot, m.baseLayer);
    for (const p of [m.lora_A.weight, m.lora_B.weight]) {
      p.grad?.dispose();
      p.grad = null;
      p.dispose();
    }
  }
  const flags = savedFlags.get(model);
  if (flags) {
    for (const p of model.parameters()) {
      const f = flags.get(p);
      if (f !== undefined) p.requiresGrad = f;
    }
    savedFlags.delete(model);
  }
  return model;
}

/**
 * Merge every adapter into its base weight and replace the LoraLinear modules by their base layers
 * (PEFT's merge_and_unload). The model's state dict then has exactly its original keys. The
 * adapter tensors are disposed, and parameters get back the requiresGrad they had before
 * injectLora (PEFT leaves them frozen).
 * @example const merged = mergeAndUnload(gpt); await merged.savePretrained('out/merged')
 */
export function mergeAndUnload(model: Module | LoraModel): Module {
  return unloadLora(model instanceof LoraModel ? model.model : model, true);
}

/** adapter_config.json is a small file (PEFT writes ~1 KB); more than this is not one. */
const ADAPTER_CONFIG_MAX_BYTES = 16 * 2 ** 20;

/** LoraConfig's numbers and flags, each checked (a file may hold anything). */
// biome-ignore lint/suspicious/noExplicitAny: adapter_config.json as read; each field is checked
function hyperparameters(cfg: Record<string, any>, path: string): Required<LoraLinearOptions> & { targetModules: string[] | string } {
  const where = `loadAdapter: ${path}`;
  const field = <T>(key: string, dflt: T, ok: (v: unknown) => boolean, what: string): T => {
    const v = Object.hasOwn(cfg, key) && cfg[key] !== null ? cfg[key] : dflt;
    if (!ok(v)) throw new Error(`${where}: ${key} must be ${what}, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
    return v as T;
  };
  const r = field('r', 8, (v) => Number.isSafeInteger(v) && (v as number) > 0, 'a positive integer');
  const alpha = field('lora_alpha', 8, (v) => typeof v === 'number' && Number.isFinite(v), 'a finite number');
  const dropout = field('lora_dropout', 0, (v) => typeof v === 'number' && v >= 0 && v < 1, 'a number in [0, 1)');
  const useRslora = field('use_rslora', false, (v) => typeof v === 'boolean', 'true or false');
  const targetModules = cfg.target_modules;
  checkTargets(targetModules, `${where}: target_modules`);
  return { r, alpha, dropout, useRslora, targetModules };
}

/** Settings of PEFT's LoraConfig that change the adapter's meaning and are not implemented here. */
// biome-ignore lint/suspicious/noExplicitAny: adapter_config.json as read
function checkSupported(cfg: Record<string, any>, path: string): void {
  const bad: string[] = [];
  if (cfg.peft_type !== 'LORA') throw new Error(`loadAdapter: ${path} has peft_type ${JSON.stringify(cfg.peft_type)}; only LORA adapters are supported`);
  if (cfg.use_dora) bad.push('use_dora');
  if (cfg.lora_bias) bad.push('lora_bias');
  if ((cfg.bias ?? 'none') !== 'none') bad.push(`bias '${cfg.bias}'`);
  if (cfg.rank_pattern && Object.keys(cfg.rank_pattern).length) bad.push('rank_pattern');
  if (cfg.alpha_pattern && Object.keys(cfg.alpha_pattern).length) bad.push('alpha_pattern');
  if (cfg.layers_to_transform != null) bad.push('layers_to_transform');
  if (cfg.modules_to_save?.length) bad.push('modules_to_save');
  if (cfg.exclude_modules?.length) bad.push('exclude_modules');
  if (cfg.layer_replication != null) bad.push('layer_replication');
  if (bad.length) throw new Error(`loadAdapter: ${path} uses ${bad.join(', ')}, which this LoRA implementation does not support`);
  if (cfg.target_modules == null) throw new Error(`loadAdapter: ${path} has no target_modules`);
}

/**
 * Inject the adapter saved in `dir` (PEFT's adapter_config.json + adapter_model.safetensors, from
 * saveAdapter or from PEFT's save_pretrained) into `model` and load its weights. As PEFT's
 * PeftModel.from_pretrained, the adapter is frozen and the model put in eval mode unless
 * `isTrainable`. Missing or unexpected keys and wrong shapes are errors; on an error the model
 * is left as it was.
 * @example const lora = await loadAdapter(gpt, 'out/adapter')
 */
export async function loadAdapter(model: Module, dir: string, opts: { isTrainable?: boolean } = {}): Promise<LoraModel> {
  const cfgPath = join(dir, ADAPTER_CONFIG_NAME);
  const cfg = await readJsonObject(cfgPath, 'loadAdapter', ADAPTER_CONFIG_MAX_BYTES);
  checkSupported(cfg, cfgPath);
  const hyper = hyperparameters(cfg, cfgPath);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_NAME);
  // The rank in the config against the file's shapes before anything is allocated: r sizes every adapter.
  const header = await readSafetensorsHeader(weightsPath);
  let adapters = 0;
  for (const [k, { shape }] of header.tensors) {
    const isA = k.endsWith('.lora_A.weight');
    if (!isA && !k.endsWith('.lora_B.weight')) continue;
    adapters++;
    const want = isA ? [hyper.r, shape[1]] : [shape[0], hyper.r];
    if (!shapesEqual(shape, want)) {
      throw new Error(
        `loadAdapter: ${weightsPath} does not fit ${cfgPath}: size mismatch for ${k}: the file has shape ${fmtShape(shape)}, the model needs ${fmtShape(want)} (r ${hyper.r})`,
      );
    }
  }
  if (!adapters) throw new Error(`loadAdapter: ${weightsPath} holds no LoRA weights (no '*.lora_A.weight' or '*.lora_B.weight')`);
  const { tensors } = await readSafetensorsFile(weightsPath);
  let lora: LoraModel | null = null;
  try {
    lora = inject(model, hyper, `loadAdapter: ${cfgPath}`);
    const own = lora.adapterStateDict();
    const errors: string[] = [];
    const missing = Object.keys(own).filter((k) => !tensors.has(k));
    const unexpected = [...tensors.keys()].filter((k) => !Object.hasOwn(own, k));
    if (missing.length) errors.push(`missing keys: ${missing.join(', ')}`);
    if (unexpected.length) errors.push(`unexpected keys: ${unexpected.join(', ')}`);
    for (const [k, p] of Object.entries(own)) {
      const v = tensors.get(k);
      if (v && !shapesEqual(v.shape, p.shape)) errors.push(`size mismatch for ${k}: the file has shape ${fmtShape(v.shape)}, the model needs ${fmtShape(p.shape)}`);
    }
    if (errors.length) throw new Error(`loadAdapter: ${weightsPath} does not fit the model: ${errors.join('; ')}`);
    noGrad(() => {
      for (const [k, p] of Object.entries(own)) scope(() => p.assignStorage(contiguous(cast(tensors.get(k)!, p.dtype))));
    });
    if (!opts.isTrainable) {
      for (const [, m] of lora.loraModules()) {
        m.lora_A.weight.requiresGrad = false;
        m.lora_B.weight.requiresGrad = false;
      }
      model.eval();
    }
    return lora;
  } catch (e) {
    if (lora) lora.unload();
    throw e;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
