// Containers: Sequential (children named 0, 1, ... as in PyTorch) and ModuleList.

import { Module } from '../module.js';

/**
 * Runs its modules in order, each on the previous one's output (nn.Sequential); children are named
 * `0`, `1`, ... as in PyTorch's state dicts.
 * @example const model = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10))
 */
export class Sequential extends Module {
  /** Children in order; registered as `layers.0`... would differ from PyTorch, so they are own fields `0`, `1`, ... */
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => this.add(m, i));
  }

  private add(m: Module, i: number): void {
    if (!(m instanceof Module)) throw new Error(`Sequential: argument ${i} is not a Module`);
    (this as unknown as Record<string, Module>)[String(i)] = m;
  }

  /** Append a module (named by its position). */
  append(m: Module): this {
    this.add(m, this.length);
    return this;
  }

  get length(): number {
    return [...this.children()].length;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const kids = [...this.children()];
    const k = i < 0 ? i + kids.length : i;
    if (k < 0 || k >= kids.length) throw new Error(`Sequential: index ${i} is out of range for ${kids.length} modules`);
    return kids[k];
  }

  // biome-ignore lint/suspicious/noExplicitAny: as Module.forward, whatever the layers pass along
  forward(x: any): any {
    for (const m of this.children()) x = m.forward(x);
    return x;
  }
}

/** A list of modules registered as `0`, `1`, ... (use for loops in your own forward). */
export class ModuleList extends Module {
  constructor(modules: Module[] = []) {
    super();
    modules.forEach((m, i) => {
      (this as unknown as Record<string, Module>)[String(i)] = m;
    });
  }
  get length(): number {
    return [...this.children()].length;
  }
  at(i: number): Module {
    return [...this.children()][i < 0 ? i + this.length : i];
  }
  [Symbol.iterator](): Iterator<Module> {
    return this.children();
  }
  forward(): never {
    throw new Error('ModuleList: has no forward; iterate over it in your own module');
  }
}
