// The picture packages are optional peer dependencies: a missing one is an error that says what to install.
import { describe, it, expect } from 'vitest';
import { importOptional, loadVizPackages, VIZ_PACKAGES } from '../../src/viz/assets.js';

describe('optional picture packages', () => {
  it('a missing package names itself and the npm install command for all of them', async () => {
    const name = 'nabla-test-no-such-package';
    const err = await importOptional(name, () => import(/* @vite-ignore */ name)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`viz: pictures need the optional packages ${VIZ_PACKAGES.join(', ')}, and '${name}' is not installed: npm install ${VIZ_PACKAGES.join(' ')}`);
  });

  it('other failures of an installed package pass through unchanged', async () => {
    const boom = new Error('boom');
    await expect(importOptional('vega', () => Promise.reject(boom))).rejects.toBe(boom);
    expect(await importOptional('fast-png', () => import('fast-png'))).toHaveProperty('encode');
  });

  it('loadVizPackages loads them all (here, where they are installed as devDependencies)', async () => {
    await expect(loadVizPackages()).resolves.toBeUndefined();
  });
});
