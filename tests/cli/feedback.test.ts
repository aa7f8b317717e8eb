// `nabla feedback export` as a user runs it, on a data directory `nabla serve` could have written:
// the JSONL lines of the liked answers and corrections (or, with --min-rating none, the unrated
// answers too), written whole through a temporary file, and the count printed; mistakes in the
// options refused with what to give instead.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/serve/store/index.js';
import { bin, nabla } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { pgliteDataDir } from '../helpers/pglite.js';

const execFileP = promisify(execFile);

describe('nabla feedback export', () => {
  let root = '';
  let data = '';
  const sys = { role: 'system', content: 'You answer for the shop.' };
  const q1 = { role: 'user', content: 'Where is my order?' };
  const a1 = { role: 'assistant', content: 'It shipped on Monday.' };
  const q2 = { role: 'user', content: 'When does it arrive?' };
  const fixed = { role: 'assistant', content: 'In 3 to 5 working days.' };
  const q3 = { role: 'user', content: 'Thanks!' };
  const a3 = { role: 'assistant', content: 'You are welcome.' };

  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build (npm test does)`);
    root = await tempDir('nabla-feedback-cli-');
    data = join(root, 'nabla-data'); // the default name, for the run without --data
    await rename(await pgliteDataDir(), data); // a new database, made once per test process and copied
    const store = await openStore({ data });
    try {
      const c = await store.createConversation({ model: 'tiny', systemPrompt: sys.content });
      const add = (m: { role: string; content: string }) => store.addMessage({ conversationId: c.id, role: m.role as 'user' | 'assistant', content: m.content, model: 'tiny' });
      await add(q1);
      await store.setFeedback((await add(a1)).id, { rating: 'up' });
      await add(q2);
      await store.setFeedback((await add({ role: 'assistant', content: 'Tomorrow.' })).id, { rating: 'down', correction: fixed.content });
      await add(q3);
      await add(a3); // unrated
    } finally {
      await store.close();
    }
  });

  const lines = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));

  it('writes the liked answers and the corrections as chat examples, one JSON line each, and says how many', async () => {
    const out = join(root, 'out', 'examples.jsonl'); // its folder is created
    const r = await nabla('feedback', 'export', '--data', data, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Wrote 2 examples \(liked answers and corrections\) from the data directory .*nabla-data to .*examples\.jsonl\n$/);
    expect(readFileSync(out, 'utf8').endsWith('\n')).toBe(true);
    expect(lines(out)).toEqual([{ messages: [sys, q1, a1] }, { messages: [sys, q1, a1, q2, fixed] }]);
    expect(readdirSync(join(root, 'out'))).toEqual(['examples.jsonl']); // no temporary file left
  });

  it('adds the unrated answers with --min-rating none, reading ./nabla-data by default', async () => {
    // Run from the folder holding nabla-data, without --data.
    const r = await execFileP(process.execPath, [bin, 'feedback', 'export', '--out', 'all.jsonl', '--min-rating', 'none'], { cwd: root });
    expect(r.stdout).toMatch(/^Wrote 3 examples \(liked, corrected and unrated answers\)/);
    expect(lines(join(root, 'all.jsonl'))).toEqual([{ messages: [sys, q1, a1] }, { messages: [sys, q1, a1, q2, fixed] }, { messages: [sys, q1, a1, q2, fixed, q3, a3] }]);
  });

  it('refuses options it cannot follow, saying what to give', async () => {
    // Five refusals, none of which opens the database: run together.
    const [both, missing, rating, url, noOut] = await Promise.all([
      nabla('feedback', 'export', '--data', data, '--db', 'postgres://localhost/x', '--out', join(root, 'x.jsonl')),
      nabla('feedback', 'export', '--data', join(root, 'nowhere'), '--out', join(root, 'x.jsonl')),
      nabla('feedback', 'export', '--data', data, '--out', join(root, 'x.jsonl'), '--min-rating', 'down'),
      nabla('feedback', 'export', '--db', 'mysql://u:secret@h/db', '--out', join(root, 'x.jsonl')),
      nabla('feedback', 'export', '--data', data),
    ]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/give --data DIR or --db URL, not both/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no data directory at .*nowhere: give --data DIR/);
    expect(rating.code).not.toBe(0);
    expect(rating.stderr).toMatch(/--min-rating.*Allowed choices are up, none/);
    expect(url.code).toBe(1);
    expect(url.stderr).toMatch(/must begin with postgres:\/\//);
    expect(url.stderr).not.toContain('secret');
    expect(existsSync(join(root, 'x.jsonl'))).toBe(false);
    expect(noOut.stderr).toMatch(/required option '--out <file>'/);
  });
});
