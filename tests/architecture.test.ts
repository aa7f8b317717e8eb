// The shape of the source tree (docs/architecture.md): no import cycle anywhere in src, and arrows
// that point one way: tensor ← ops (with dispatch) ← autograd ← nn, optim ← train, models. Type-only
// imports count too. The graph comes from madge (the TypeScript compiler's resolution).

import { describe, expect, it } from 'vitest';
import madge from 'madge';

const graph = madge('src', { fileExtensions: ['ts'], tsConfig: 'tsconfig.json' });

/** Every import edge as [from, to], paths relative to src/ (e.g. 'nn/module.ts'). */
async function edges(): Promise<[string, string][]> {
  const deps = (await graph).obj();
  return Object.entries(deps).flatMap(([from, tos]) => tos.map((to): [string, string] => [from, to]));
}

/** The edges from files under one of `from` into files under one of `to`. */
async function imports(from: string[], to: string[]): Promise<string[]> {
  const under = (f: string, dirs: string[]) => dirs.some((d) => f === d || f.startsWith(`${d}/`));
  return (await edges()).filter(([a, b]) => under(a, from) && under(b, to)).map(([a, b]) => `${a} → ${b}`);
}

describe('architecture', () => {
  it('src has no import cycle', async () => {
    expect((await graph).circular().map((c) => c.join(' > '))).toEqual([]);
  });

  it('the tensor layer imports nothing above it', async () => {
    expect(await imports(['tensor'], ['ops', 'autograd', 'nn', 'optim', 'train', 'recipes', 'models', 'keras', 'data', 'io', 'text', 'viz', 'metrics'])).toEqual([]);
  });

  it('backends implement kernels and import no op, gradient, layer or model', async () => {
    const kernels = (await edges()).map(([a]) => a).filter((f) => f.startsWith('backends/'));
    const up = await imports([...new Set(kernels)], ['ops', 'autograd', 'nn', 'optim', 'train', 'recipes', 'models', 'keras', 'data', 'io', 'text', 'viz', 'metrics']);
    expect(up).toEqual([]);
  });

  it('ops and autograd import no layer, optimizer, training code or model', async () => {
    expect(await imports(['ops', 'autograd'], ['nn', 'optim', 'train', 'recipes', 'models', 'keras', 'data', 'io', 'text', 'viz', 'metrics'])).toEqual([]);
  });

  it('nn and optim reach kernels only through ops (no backend imports)', async () => {
    expect(await imports(['nn', 'optim'], ['backends'])).toEqual([]);
  });

  it('layers and optimizers import no training code, model or facade', async () => {
    expect(await imports(['nn', 'optim'], ['train', 'recipes', 'models', 'keras'])).toEqual([]);
  });
});
