// `nabla feedback export`: the conversations `nabla serve` kept, as chat training examples (one
// OpenAI fine-tuning line, {"messages": [...]}, per answer): liked answers, and the corrections
// people wrote in place of the answers they disliked. The file is written whole or not at all: to a
// temporary file beside it, then renamed over it.

import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';

export function registerFeedbackCommand(program: Command): void {
  const feedback = program.command('feedback').description('the feedback people gave on the answers of `nabla serve`');
  feedback
    .command('export')
    .description('write chat training examples (JSONL, {"messages": [...]} per line) from liked answers and corrections')
    .option('--data <dir>', 'the data directory of the embedded database (`nabla serve --data`)', './nabla-data')
    .option('--db <url>', 'a PostgreSQL server instead: postgres://user:password@host:port/database')
    .requiredOption('--out <file>', 'the JSONL file to write')
    .addOption(new Option('--min-rating <r>', 'up: liked answers and corrections; none: also the answers nobody rated').choices(['up', 'none']).default('up'))
    .action(async (o: { data: string; db?: string; out: string; minRating: 'up' | 'none' }, cmd: Command) => {
      if (o.db !== undefined && cmd.getOptionValueSource('data') === 'cli') cmd.error('error: give --data DIR or --db URL, not both');
      if (o.db === undefined && !existsSync(o.data)) {
        throw new Error(`feedback export: no data directory at ${o.data}: give --data DIR (the one \`nabla serve --data\` used) or --db postgres://...`);
      }
      // Loaded here, not at the top: the other commands do not pay for loading a database.
      const { openStore } = await import('../src/serve/store/index.js');
      const store = await openStore(o.db !== undefined ? { db: o.db } : { data: o.data });
      const out = resolve(o.out);
      const tmp = `${out}.${process.pid}.tmp`;
      let count = 0;
      try {
        await mkdir(dirname(out), { recursive: true });
        const file = await open(tmp, 'w');
        try {
          // Written in batches: one write per line would be a system call per example.
          let batch = '';
          for await (const example of store.exportExamples({ minRating: o.minRating })) {
            batch += `${JSON.stringify(example)}\n`;
            count++;
            if (batch.length > 1 << 20) {
              await file.write(batch);
              batch = '';
            }
          }
          await file.write(batch);
          await file.sync(); // on the disk before the rename makes it the file
        } finally {
          await file.close();
        }
        await rename(tmp, out);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      } finally {
        await store.close();
      }
      const from = store.kind === 'pglite' ? `the data directory ${store.location}` : store.location;
      const which = o.minRating === 'up' ? 'liked answers and corrections' : 'liked, corrected and unrated answers';
      console.log(`Wrote ${count} example${count === 1 ? '' : 's'} (${which}) from ${from} to ${o.out}`);
    });
}
