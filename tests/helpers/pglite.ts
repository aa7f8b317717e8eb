// PGlite data directories for tests, copied from one made once per test process: creating a
// database (PostgreSQL's initdb inside PGlite, then the store's migrations) takes seconds, copying
// a closed one a fraction of one. The copy is a database as openStore leaves it on close.
import { rmSync } from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/serve/store/index.js';
import { tempDir } from './tmp.js';

let template: Promise<string> | null = null;

/** A new, migrated, empty PGlite data directory (`<temp dir>/data`), removed after the test file. */
export async function pgliteDataDir(prefix = 'nabla-db-'): Promise<string> {
  template ??= (async () => {
    // Not a tempDir: those go when the file that made them ends, and this one outlives it
    // (the files of a worker share the process).
    const root = await mkdtemp(join(tmpdir(), 'nabla-db-template-'));
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'data');
    await (await openStore({ data: dir })).close();
    return dir;
  })();
  const dest = join(await tempDir(prefix), 'data');
  await cp(await template, dest, { recursive: true });
  return dest;
}
