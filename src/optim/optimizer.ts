// Optimizer base (torch.optim.Optimizer): parameter groups, zeroGrad, saveable state, in-place updates.

import type { Tensor } from '../tensor/tensor.js';
import { isFloat } from '../tensor/dtype.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { zerosLike } from '../tensor/creation.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { contiguous, clone } from '../ops/movement.js';
import { cast } from '../ops/unary.js';
import { isTensor } from '../ops/util.js';
import { detach } from '../autograd/tape.js';

/**
 * A parameter group as given to a constructor: its parameters, plus hyperparameters that override
 * the optimizer's defaults for this group (PyTorch's per-group dicts).
 * @example new SGD([{ params: body }, { params: head, lr: 0.1 }], { lr: 0.01, momentum: 0.9 })
 */
export interface ParamGroup {
  params: Iterable<Tensor>;
  lr?: number;
  weightDecay?: number;
  [key: string]: unknown;
}

/** Hyperparameters every optimizer has. */
export interface Hyperparams {
  lr: number;
  /** Set by the first LR scheduler attached to the optimizer (PyTorch's `initial_lr`). */
  initialLr?: number;
}

/** A group as the optimizer holds it: every hyperparameter filled in. Schedulers change `lr`. */
export type ResolvedParamGroup<H extends Hyperparams = Hyperparams> = H & { params: Tensor[]; [key: string]: unknown };

/** Per-parameter state: tensors (moment buffers) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** A group in a saved state: hyperparameters plus the indices of its parameters. */
export type SavedParamGroup = { params: number[]; lr: number; [key: string]: unknown };

/**
 * torch's optimizer.state_dict(): state keyed by parameter index (counted over all groups, in
 * order) and the groups' hyperparameters. The tensors are the optimizer's own (not copies): write
 * them out before the next step(), which replaces and frees them.
 */
export interface OptimizerState {
  state: Record<string, ParamState>;
  paramGroups: SavedParamGroup[];
}

/** JSON-serializable part of an optimizer state (see flattenOptimizerState). */
export interface OptimizerStateMeta {
  state: Record<string, Record<string, number>>;
  paramGroups: SavedParamGroup[];
}

/**
 * Base class of the optimizers (torch.optim.Optimizer): parameter groups with their own
 * hyperparameters, per-parameter state, `step()`, `zeroGrad()` and a saveable `stateDict()`.
 * Parameters are updated in place: the tensor objects stay the same, their values are replaced.
 */
export abstract class Optimizer<H extends Hyperparams = Hyperparams> {
  /** The hyperparameters a group gets when it does not set its own. */
  readonly defaults: H;
  readonly paramGroups: ResolvedParamGroup<H>[] = [];
  /** State per parameter (created at its first step), keyed by the parameter object. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: Iterable<Tensor> | Iterable<ParamGroup>, defaults: H) {
    const name = this.constructor.name;
    this.defaults = defaults;
    if (isTensor(params) || params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      throw new Error(
        `${name}: params must be an iterable of tensors or of parameter groups, got ${isTensor(params) ? `a single tensor of shape ${fmtShape(params.shape)}` : String(params)}`,
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroup>)];
    if (list.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const tensors = list.filter(isTensor).length;
    if (tensors !== 0 && tensors !== list.length) throw new Error(`${name}: params mixes tensors and parameter groups; pass one kind`);
    const groups = tensors ? [{ params: list as Tensor[] }] : (list as ParamGroup[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Add a group (torch's add_param_group), e.g. to unfreeze layers while training. */
  addParamGroup(group: ParamGroup): void {
    const name = this.constructor.name;
    const gi = this.paramGroups.length;
    if (group === null || typeof group !== 'object' || !('params' in group)) {
      throw new Error(`${name}: param group ${gi} must be an object with a params field`);
    }
    const raw = group.params as unknown;
    const params = isTensor(raw) ? [raw] : [...(raw as Iterable<Tensor>)];
    const taken = new Set<Tensor>(this.paramGroups.flatMap((g) => g.params));
    const mine = new Set<Tensor>();
    params.forEach((p, j) => {
      const where = `${name}: parameter ${j} of param group ${gi}`;
      if (!isTensor(p)) throw new Error(`${where} is not a tensor (got ${typeof p})`);
      p.assertAlive(name);
      if (!p.isLeaf) throw new Error(`${where} is not a leaf tensor; optimize parameters (or their detach()), not results of ops`);
      if (!isFloat(p.dtype)) throw new Error(`${where} has dtype ${p.dtype}; only floating-point tensors can be optimized`);
      if (mine.has(p)) throw new Error(`${where} appears twice in the group`);
      if (taken.has(p)) throw new Error(`${where} (${p.name ?? `shape ${fmtShape(p.shape)}`}) already belongs to another param group`);
      mine.add(p);
    });
    const resolved: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults)) resolved[k] = copyValue(v);
    for (const [k, v] of Object.entries(group)) if (k !== 'params' && v !== undefined) resolved[k] = copyValue(v);
    resolved.params = params;
    this.validate(resolved as ResolvedParamGroup<H>, gi);
    this.paramGroups.push(resolved as ResolvedParamGroup<H>);
  }

  /** Check a group's hyperparameters; subclasses add theirs (use `invalid` for the message). */
  protected validate(group: ResolvedParamGroup<H>, index: number): void {
    if (!(typeof group.lr === 'number' && group.lr >= 0)) this.invalid('learning rate', group.lr, index, 'lr >= 0');
  }

  /** Throw `Adam: invalid epsilon -1 in param group 0, expected eps >= 0`. */
  protected invalid(what: string, value: unknown, groupIndex: number, expected: string): never {
    const shown = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    throw new Error(`${this.constructor.name}: invalid ${what} ${shown} in param group ${groupIndex}, expected ${expected}`);
  }

  /** Apply one update to every parameter that has a gradient (others are skipped, as in PyTorch). */
  step(): void {
    noGrad(() => {
      this.paramGroups.forEach((group, gi) => {
        group.params.forEach((p, j) => {
          const grad = p.grad;
          if (!grad) return;
          if (!shapesEqual(grad.shape, p.shape)) {
            throw new Error(`${this.constructor.name}.step: parameter ${j} of param group ${gi} has shape ${fmtShape(p.shape)} but its grad has shape ${fmtShape(grad.shape)}`);
          }
          const existing = this.state.get(p);
          const st: ParamState = existing ?? {};
          scope(() => this.update(p, grad, st, group));
          // Like PyTorch, a parameter has state only once its optimizer keeps something for it.
          if (!existing && Object.keys(st).length > 0) this.state.set(p, st);
        });
      });
    });
  }

  /**
   * Update one parameter. Runs inside noGrad and a scope: build the new values with ordinary ops,
   * keep state with setState and write the parameter with setParam.
   */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, group: ResolvedParamGroup<H>): void;

  /** Replace p's values (p stays the same object, so modules and state keep pointing at it). */
  protected setParam(p: Tensor, value: Tensor): void {
    const v = value.dtype === p.dtype ? value : cast(value, p.dtype);
    p.assignStorage(contiguous(v));
  }

  /**
   * Store a state tensor that survives the step's scope; the one it replaces is freed. The state
   * gets its own handle on the storage: storages are swapped, never written in place, so sharing
   * one with a temporary is safe once the temporary is disposed.
   */
  protected setState(state: ParamState, key: string, value: Tensor): Tensor {
    const old = state[key];
    const kept = detach(contiguous(value)).keep();
    state[key] = kept;
    if (typeof old === 'object') old.dispose();
    return kept;
  }

  /** A state tensor, or zeros shaped like p where there is none yet (PyTorch's lazy state init). */
  protected stateOrZeros(state: ParamState, key: string, p: Tensor): Tensor {
    const v = state[key];
    return typeof v === 'object' ? v : zerosLike(p);
  }

  /** A copy of a gradient for state that must not share its storage (torch.clone(grad).detach()). */
  protected own(t: Tensor): Tensor {
    return clone(t);
  }

  /**
   * Clear gradients: dispose them and set `p.grad = null` (setToNone, PyTorch 2's default), or
   * replace them with zeros.
   */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        const grad = p.grad;
        if (!grad) continue;
        if (setToNone) {
          grad.dispose();
          p.grad = null;
        } else {
          const z = noGrad(() => zerosLike(grad)).keep();
          grad.dispose();
          p.grad = z;
        }
      }
    }
  }

  /** State keyed by parameter index over all groups in order, as torch's state_dict(). */
  stateDict(): OptimizerState {
    const state: Record<string, ParamState> = {};
    const paramGroups: SavedParamGroup[] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const st = this.state.get(p);
        if (st) state[String(index)] = { ...st };
        ids.push(index++);
      }
      const saved: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') saved[k] = copyValue(v);
      saved.params = ids;
      paramGroups.push(saved as SavedParamGroup);
    }
    return { state, paramGroups };
  }

  /**
   * Restore from stateDict() output (possibly of another optimizer object over parameters of the
   * same shapes). Checks group and parameter counts and state shapes before changing anything;
   * state tensors are cast to their parameter's dtype (except `step`), hyperparameters replaced.
   */
  loadStateDict(sd: OptimizerState): void {
    const name = `${this.constructor.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || sd.state === null || typeof sd.state !== 'object') {
      throw new Error(`${name}: expected { state, paramGroups } as returned by stateDict()`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}: the state has ${sd.paramGroups.length} param groups, the optimizer ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, i) => {
      const mine = this.paramGroups[i].params;
      if (!Array.isArray(g.params) || g.params.length !== mine.length) {
        throw new Error(`${name}: param group ${i} has ${Array.isArray(g.params) ? g.params.length : 'no'} parameters in the state, ${mine.length} in the optimizer`);
      }
      g.params.forEach((id, j) => {
        if (byIndex.has(id)) throw new Error(`${name}: parameter index ${id} is listed twice in the state's param groups`);
        byIndex.set(id, mine[j]);
      });
    });
    for (const [id, st] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(id));
      if (!p) throw new Error(`${name}: the state has an entry for parameter ${id}, which no param group lists`);
      for (const [k, v] of Object.entries(st)) {
        if (typeof v === 'number') continue;
        if (!isTensor(v)) throw new Error(`${name}: state '${k}' of parameter ${id} is ${typeof v}, expected a tensor or a number`);
        v.assertAlive(`${name}: state '${k}' of parameter ${id}`);
        if (k === 'step') continue;
        if (!shapesEqual(v.shape, p.shape)) {
          throw new Error(`${name}: state '${k}' of parameter ${id} has shape ${fmtShape(v.shape)}, the parameter ${fmtShape(p.shape)}`);
        }
      }
    }
    const merged = sd.paramGroups.map((g, i) => {
      const m: Record<string, unknown> = { ...this.paramGroups[i] };
      for (const [k, v] of Object.entries(g)) if (k !== 'params') m[k] = copyValue(v);
      m.params = this.paramGroups[i].params;
      this.validate(m as ResolvedParamGroup<H>, i);
      return m as ResolvedParamGroup<H>;
    });

    // Build the new state before freeing the old one: sd may be this optimizer's own stateDict().
    const next = new Map<Tensor, ParamState>();
    noGrad(() => {
      for (const [id, st] of Object.entries(sd.state)) {
        const p = byIndex.get(Number(id))!;
        const copy: ParamState = {};
        for (const [k, v] of Object.entries(st)) {
          if (typeof v === 'number') copy[k] = v;
          else if (k === 'step')
            copy[k] = v.itemSync(); // a PyTorch checkpoint keeps step as a tensor
          else copy[k] = scope(() => detach(contiguous(v.dtype === p.dtype ? v : cast(v, p.dtype))).keep());
        }
        next.set(p, copy);
      }
    });
    for (const st of this.state.values()) for (const v of Object.values(st)) if (typeof v === 'object') v.dispose();
    this.state.clear();
    for (const [p, st] of next) this.state.set(p, st);
    merged.forEach((m, i) => Object.assign(this.paramGroups[i], m));
  }
}

function copyValue(v: unknown): unknown {
  return Array.isArray(v) ? v.map(copyValue) : v;
}

/**
 * Split an optimizer state into tensors named `state.<index>.<key>` (for a safetensors file) and
 * JSON-serializable metadata (step counts and hyperparameters).
 * @example const { tensors, meta } = flattenOptimizerState(opt.stateDict())
 */
export function flattenOptimizerState(s: OptimizerState): { tensors: Record<string, Tensor>; meta: OptimizerStateMeta } {
  const tensors: Record<string, Tensor> = {};
  const state: Record<string, Record<string, number>> = {};
  for (const [id, st] of Object.entries(s.state)) {
    state[id] = {};
    for (const [k, v] of Object.entries(st)) {
      if (typeof v === 'number') state[id][k] = v;
      else tensors[`state.${id}.${k}`] = v;
    }
  }
  const paramGroups = s.paramGroups.map((g) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(g)) out[k] = copyValue(v);
    return out as SavedParamGroup;
  });
  return { tensors, meta: { state, paramGroups } };
}

/** Inverse of flattenOptimizerState: tensors `state.<index>.<key>` plus the metadata. */
export function unflattenOptimizerState(tensors: Record<string, Tensor>, meta: OptimizerStateMeta): OptimizerState {
  if (meta === null || typeof meta !== 'object' || !Array.isArray(meta.paramGroups)) {
    throw new Error('unflattenOptimizerState: metadata must be { state, paramGroups } as made by flattenOptimizerState');
  }
  const state: Record<string, ParamState> = {};
  for (const [id, nums] of Object.entries(meta.state ?? {})) state[id] = { ...nums };
  for (const [key, t] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.(.+)$/.exec(key);
    if (!m) throw new Error(`unflattenOptimizerState: unexpected tensor name '${key}', expected state.<index>.<name>`);
    (state[m[1]] ??= {})[m[2]] = t;
  }
  return { state, paramGroups: meta.paramGroups };
}
