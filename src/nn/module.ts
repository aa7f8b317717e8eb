// Module: PyTorch's nn.Module. Parameters, buffers and sub-modules assigned to fields are found in
// definition order, giving PyTorch's dotted names (`h.0.attn.c_attn.weight`) for state dicts.

import { Tensor } from '../tensor/tensor.js';
import { Parameter } from './parameter.js';
import { fmtShape, shapesEqual } from '../tensor/shape.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/memory.js';
import { cast } from '../ops/unary.js';
import { contiguous } from '../ops/movement.js';
import { DTYPES, type DType } from '../tensor/dtype.js';
import { toBackend } from '../ops/transfer.js';

/**
 * Tensors by dotted name (`h.0.attn.c_attn.weight`), as PyTorch's state_dict: parameters and
 * persistent buffers.
 */
export type StateDict = Record<string, Tensor>;

/**
 * Base class of layers and models (PyTorch's nn.Module). Subclasses assign parameters, buffers
 * and sub-modules to fields and implement `forward`; fields are found in definition order, which
 * gives PyTorch's dotted parameter names.
 * @example
 * class MLP extends Module {
 *   fc1 = new Linear(784, 128);
 *   fc2 = new Linear(128, 10);
 *   forward(x: Tensor): Tensor { return this.fc2.forward(relu(this.fc1.forward(x))); }
 * }
 */
export abstract class Module {
  /** True in training mode (dropout active, batch statistics used). */
  training = true;
  /** @internal names of fields that are buffers (saved in the state dict, not trained) */
  private readonly bufferNames = new Set<string>();

  // biome-ignore lint/suspicious/noExplicitAny: each module types its own forward (tensors, tuples, caches), as torch's
  abstract forward(...args: any[]): any;

  /** Same as forward (PyTorch's module(x)). */
  // biome-ignore lint/suspicious/noExplicitAny: the arguments and result of forward
  call(...args: any[]): any {
    return this.forward(...args);
  }

  /** Store a non-trainable tensor saved in the state dict (running statistics, masks). */
  registerBuffer(name: string, value: Tensor | null, persistent = true): void {
    (this as unknown as Record<string, unknown>)[name] = value ? value.keep() : null;
    if (persistent) this.bufferNames.add(name);
  }

  /** Direct sub-modules with their field names; arrays of modules are named `field.0`, `field.1`, ... */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, v] of Object.entries(this)) {
      if (v instanceof Module) yield [key, v];
      else if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (v[i] instanceof Module) yield [`${key}.${i}`, v[i]];
      }
    }
  }

  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** This module's own parameters (not its children's), in definition order. */
  private *ownParameters(): Generator<[string, Parameter]> {
    for (const [key, v] of Object.entries(this)) if (v instanceof Parameter) yield [key, v];
  }

  /** Every parameter with its dotted name; a parameter shared by two modules is listed once. */
  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    const seen = new Set<Parameter>();
    for (const [modName, m] of this.namedModules(prefix)) {
      for (const [key, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [modName ? `${modName}.${key}` : key, p];
      }
    }
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedBuffers(): Generator<[string, Tensor]> {
    for (const [modName, m] of this.namedModules()) {
      for (const key of m.bufferNames) {
        const t = (m as unknown as Record<string, unknown>)[key];
        if (t instanceof Tensor) yield [modName ? `${modName}.${key}` : key, t];
      }
    }
  }

  /** Parameters and persistent buffers by dotted name (shared tensors appear under every name, as in PyTorch). */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [modName, m] of this.namedModules()) {
      const pre = modName ? `${modName}.` : '';
      for (const [key, p] of m.ownParameters()) sd[pre + key] = p;
      for (const key of m.bufferNames) {
        const t = (m as unknown as Record<string, unknown>)[key];
        if (t instanceof Tensor) sd[pre + key] = t;
      }
    }
    return sd;
  }

  /**
   * Copy values from a state dict into this module's parameters and buffers (the objects stay the
   * same, so optimizers keep working). With strict, missing and unexpected keys are errors.
   */
  loadStateDict(sd: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    const strict = opts.strict ?? true;
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !src.has(k));
    const unexpectedKeys = [...src.keys()].filter((k) => !(k in own));
    const errors: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const v = src.get(k);
      if (v && !shapesEqual(v.shape, t.shape)) {
        errors.push(`size mismatch for ${k}: the checkpoint has shape ${fmtShape(v.shape)}, the model has ${fmtShape(t.shape)}`);
      }
    }
    if (strict && missingKeys.length) errors.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) errors.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (errors.length) throw new Error(`loadStateDict: ${errors.join('; ')}`);
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const v = src.get(k);
        if (v) scope(() => t.assignStorage(contiguous(cast(v, t.dtype))));
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Set training mode here and in every sub-module. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Set every parameter's gradient to null (disposing it). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Number of parameter elements (trainable only unless all). */
  numParams(trainableOnly = false): number {
    return this.parameters()
      .filter((p) => !trainableOnly || p.requiresGrad)
      .reduce((s, p) => s + p.size, 0);
  }

  /**
   * Convert parameters and floating buffers to a dtype in place (module.double(), module.float()),
   * or move them all to a backend by name (module.to('webgpu')), as torch's module.to.
   */
  to(target: DType | string): this {
    if (!(DTYPES as readonly string[]).includes(target)) {
      noGrad(() => {
        for (const t of [...this.parameters(), ...[...this.namedBuffers()].map(([, b]) => b)]) {
          if (t.device === target) continue;
          scope(() => t.assignStorage(toBackend(t, target), true));
          if (t.grad) {
            const g = t.grad;
            t.grad = toBackend(g, target).keep();
            g.dispose();
          }
        }
      });
      return this;
    }
    const dtype = target as DType;
    noGrad(() => {
      for (const t of [...this.parameters(), ...[...this.namedBuffers()].map(([, b]) => b)]) {
        if (t.dtype === dtype || (t.dtype !== 'float32' && t.dtype !== 'float64')) continue;
        // Swap the underlying storage: the Parameter object (and optimizer references) stay.
        scope(() => t.assignStorage(contiguous(cast(t, dtype)), true));
      }
    });
    return this;
  }

  double(): this {
    return this.to('float64');
  }
  float(): this {
    return this.to('float32');
  }

  /** Apply fn to every module (children first, then this), as torch's module.apply. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** One line of this module's settings for printing, e.g. `in_features=784, out_features=512`. */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const kids = [...this.namedChildren()];
    const name = this.constructor.name;
    if (kids.length === 0) return `${name}(${this.extraRepr()})`;
    const lines = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`);
    return `${name}(\n${lines.join('\n')}\n)`;
  }
}
