// NABLA_SMOKE=1: shrink the training recipes to a few seconds (the documentation's snippets, CI,
// a quick check that a command line works). This is the one place the variable is read.
//
//   train mnist   1 epoch on the first 2,000 training images, 1,000 test images
//   train gpt     20 steps of batch 8, validation every 10 steps over 2 batches, 24 sampled tokens
//   finetune      the same steps as train gpt; --task classify: 1 epoch
//   keras fit     1 epoch (model.fit in code, as the README's Keras snippet)
//
// Each cap is an upper bound: smaller values the caller gives are kept. Results are not meaningful
// (accuracy, loss); only that every path runs.

/** The variable's name; any value but '', '0' or 'false' turns smoke mode on. */
export const SMOKE_ENV = 'NABLA_SMOKE';

/** Per recipe, the upper bound of each option in smoke mode. */
export const SMOKE_CAPS = {
  'train mnist': { epochs: 1, limit: 2000, testLimit: 1000 },
  'train gpt': { steps: 20, batchSize: 8, evalEvery: 10, evalIters: 2, sampleTokens: 24 },
  'finetune classify': { epochs: 1 },
  'keras fit': { epochs: 1 },
} as const;

/** A recipe that smoke mode shrinks. */
export type SmokeRecipe = keyof typeof SMOKE_CAPS;

/** Whether NABLA_SMOKE is set (always false in a browser). */
export function isSmoke(): boolean {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[SMOKE_ENV];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

const warned = new Set<string>();

/**
 * The options with the recipe's smoke caps applied when NABLA_SMOKE is set, else the options
 * unchanged. An option left unset takes the cap (the recipes' defaults are all larger); `keep`
 * names options to leave alone (e.g. those a resumed run must not change).
 *
 * @example const o = smokeCaps('train mnist', { epochs: 8 }); // { epochs: 1, limit: 2000, testLimit: 1000 } under NABLA_SMOKE=1
 */
export function smokeCaps<T extends object>(recipe: SmokeRecipe, opts: T, keep: readonly string[] = []): T {
  if (!isSmoke()) return opts;
  const out = { ...opts } as Record<string, unknown>;
  for (const [k, cap] of Object.entries(SMOKE_CAPS[recipe])) {
    if (keep.includes(k)) continue;
    const v = out[k];
    out[k] = typeof v === 'number' ? Math.min(v, cap) : cap;
  }
  if (!warned.has(recipe)) {
    warned.add(recipe);
    const caps = Object.entries(SMOKE_CAPS[recipe])
      .filter(([k]) => !keep.includes(k))
      .map(([k, v]) => `${k} ≤ ${v}`)
      .join(', ');
    console.warn(`${SMOKE_ENV} is set: ${recipe} is shrunk to a smoke run (${caps})`);
  }
  return out as T;
}
