// Optimizer base: parameter groups, zeroGrad, saveable state, and the in-place update helper.

import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { zerosLike } from '../tensor/creation.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { contiguous } from '../ops/movement.js';
import { detach } from '../autograd/tape.js';

/** Hyperparameters of a group; optimizers add their own (momentum, betas, ...). */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [key: string]: unknown;
}

export type GroupInput = { params: Iterable<Tensor>; [key: string]: unknown };

/** Per-parameter state: tensors (moment buffers) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

export interface OptimizerState {
  state: Record<string, ParamState>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  /** State per parameter, keyed by the parameter object. */
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: Iterable<Tensor> | GroupInput[], defaults: Record<string, unknown> & { lr: number }) {
    const list = [...(params as Iterable<Tensor | GroupInput>)];
    if (list.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    const groups: GroupInput[] = isGroup(list[0]) ? (list as GroupInput[]) : [{ params: list as Tensor[] }];
    for (const g of groups) {
      const group = { ...defaults, ...g, params: [...g.params] } as ParamGroup;
      for (const p of group.params) {
        if (!p.isLeaf) throw new Error(`${this.constructor.name}: can only optimize leaf tensors (parameters)`);
      }
      this.validate(group);
      this.paramGroups.push(group);
    }
  }

  /** Check a group's hyperparameters (negative learning rates and the like). */
  protected validate(group: ParamGroup): void {
    if (!(group.lr >= 0)) throw new Error(`${this.constructor.name}: invalid learning rate ${group.lr}`);
  }

  /** Apply one update to every parameter with a gradient. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (!p.grad) continue;
          let st = this.state.get(p);
          if (!st) { st = {}; this.state.set(p, st); }
          const s = st;
          scope(() => this.update(p, p.grad!, s, group));
        }
      }
    });
  }

  /** Update one parameter (inside noGrad and scope): use setParam and setState to keep results. */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, group: ParamGroup): void;

  /** Replace p's values in place (same object, so modules and state keep pointing at it). */
  protected setParam(p: Tensor, value: Tensor): void {
    p.assignStorage(contiguous(value));
  }

  /**
   * Store a state tensor, kept across scopes; the previous one is freed. The state gets its own
   * handle on the storage, so storing the gradient itself (first momentum step) is safe when the
   * gradient is later disposed: storages are never written in place, only swapped.
   */
  protected setState(state: ParamState, key: string, value: Tensor): Tensor {
    const old = state[key];
    const kept = detach(contiguous(value)).keep();
    state[key] = kept;
    if (typeof old === 'object' && old !== kept) old.dispose();
    return kept;
  }

  /** Clear gradients: dispose them (setToNone, the default as in PyTorch 2) or fill with zeros. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        if (setToNone) { p.grad.dispose(); p.grad = null; }
        else { const z = zerosLike(p.grad).keep(); p.grad.dispose(); p.grad = z; }
      }
    }
  }

  /** State keyed by parameter index (over all groups, in order), as torch's state_dict(). */
  stateDict(): OptimizerState {
    const state: Record<string, ParamState> = {};
    const paramGroups: OptimizerState['paramGroups'] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const st = this.state.get(p);
        if (st) state[String(index)] = { ...st };
        ids.push(index++);
      }
      const { params: _p, ...hyper } = g;
      paramGroups.push({ ...hyper, params: ids });
    }
    return { state, paramGroups };
  }

  /** Restore from stateDict() output; checks group and parameter counts and state shapes. */
  loadStateDict(sd: OptimizerState): void {
    const name = this.constructor.name;
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the state has ${sd.paramGroups.length} parameter groups, the optimizer ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i].params.length) {
        throw new Error(`${name}.loadStateDict: group ${i} has ${g.params.length} parameters in the state, ${this.paramGroups[i].params.length} in the optimizer`);
      }
    });
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, i) => g.params.forEach((id, j) => byIndex.set(id, this.paramGroups[i].params[j])));
    for (const [id, st] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(id));
      if (!p) throw new Error(`${name}.loadStateDict: state for parameter ${id}, which no group lists`);
      for (const v of Object.values(st)) {
        if (typeof v === 'object' && v.size > 1 && !shapesEqual(v.shape, p.shape)) {
          throw new Error(`${name}.loadStateDict: state of parameter ${id} has shape ${fmtShape(v.shape)}, the parameter ${fmtShape(p.shape)}`);
        }
      }
    }
    for (const st of this.state.values()) for (const v of Object.values(st)) if (typeof v === 'object') v.dispose();
    this.state.clear();
    for (const [id, st] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(id))!;
      const copy: ParamState = {};
      // Own handles on the storages, so the source state can be disposed or stepped independently.
      for (const [k, v] of Object.entries(st)) copy[k] = typeof v === 'object' ? noGrad(() => detach(contiguous(v.to(p.dtype))).keep()) : v;
      this.state.set(p, copy);
    }
    sd.paramGroups.forEach((g, i) => {
      const { params: _p, ...hyper } = g;
      Object.assign(this.paramGroups[i], hyper);
    });
  }
}

function isGroup(v: unknown): v is GroupInput {
  return typeof v === 'object' && v !== null && 'params' in v && !('storage' in v);
}

/**
 * Split an optimizer state into tensors (named `state.<index>.<key>`, for a safetensors file) and
 * JSON-serializable metadata (numbers and hyperparameters).
 */
export function flattenOptimizerState(s: OptimizerState): { tensors: Record<string, Tensor>; meta: { state: Record<string, Record<string, number>>; paramGroups: OptimizerState['paramGroups'] } } {
  const tensors: Record<string, Tensor> = {};
  const state: Record<string, Record<string, number>> = {};
  for (const [id, st] of Object.entries(s.state)) {
    state[id] = {};
    for (const [k, v] of Object.entries(st)) {
      if (typeof v === 'number') state[id][k] = v;
      else tensors[`state.${id}.${k}`] = v;
    }
  }
  return { tensors, meta: { state, paramGroups: s.paramGroups } };
}

export function unflattenOptimizerState(tensors: Record<string, Tensor>, meta: ReturnType<typeof flattenOptimizerState>['meta']): OptimizerState {
  const state: Record<string, ParamState> = {};
  for (const [id, nums] of Object.entries(meta.state)) state[id] = { ...nums };
  for (const [name, t] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.(.+)$/.exec(name);
    if (!m) throw new Error(`optimizer state: unexpected tensor name '${name}'`);
    (state[m[1]] ??= {})[m[2]] = t;
  }
  return { state, paramGroups: meta.paramGroups };
}
