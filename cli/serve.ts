// `nabla serve DIR`: an OpenAI-compatible HTTP server over a language model (src/serve). It
// listens first (GET /health answers 503 while the model loads), prints one line with the URL
// when the model is ready, and on SIGTERM or SIGINT stops taking requests, lets the running ones
// finish within --grace seconds, and exits 0. Conversations of the chat page (/) are kept in a
// store: an embedded database in --data DIR (default ./nabla-data), or a PostgreSQL server (--db).

import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliHelpers } from './lm.js';

export function registerServeCommand(program: Command, h: CliHelpers): void {
  program
    .command('serve')
    .description('serve a language model over HTTP with an OpenAI-compatible API (completions, chat, embeddings)')
    .argument('<dir>', 'a model directory: a `nabla train gpt` checkpoint, a Hugging Face GPT-2, Llama, Qwen2 or Mistral directory, or a PEFT adapter directory')
    .option('--name <name>', "the model's id in the API (default: the directory's name)")
    .option('--host <host>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', h.int('--port', 0), 8080)
    .option('--api-key <key>', 'require Authorization: Bearer KEY on every route but /health (default: $NABLA_API_KEY, else none)')
    .option('--parallel <n>', 'requests decoding together (each holds a cache of --ctx positions)', h.int('--parallel'), 4)
    .option('--max-queue <n>', 'requests that may wait for a slot; past it the server answers 429', h.int('--max-queue', 0), 64)
    .option('--ctx <n>', "positions per request, prompt + generated (default: the model's context)", h.int('--ctx'))
    .option('--body-limit <bytes>', 'largest request body; past it the server answers 413', h.int('--body-limit'), 2 ** 20)
    .option('--grace <seconds>', 'on SIGTERM/SIGINT, how long running requests may take to finish', h.positive('--grace'), 30)
    .option('--backend <name>', 'compute backend: wasm, js or webgpu (default: wasm where it loads)')
    .option('--threads <n>', 'CPU threads for the wasm backend (default: all cores, at most 16)', h.int('--threads'))
    .option('--data <dir>', 'keep conversations and feedback in an embedded database in this directory (created when missing; default ./nabla-data)')
    .option('--db <url>', 'keep them in a PostgreSQL server instead: postgres://user:password@host:port/database (default: $NABLA_DB_URL)')
    .option('--no-store', 'keep no conversations: the chat page and /v1/conversations are off; /v1/chat/completions works')
    .action(async (dir: string, o) => {
      if (o.port > 65535) throw new Error(`serve: --port must be at most 65535, got ${o.port}`);
      const db: string | undefined = o.db ?? (process.env.NABLA_DB_URL || undefined);
      if (o.data !== undefined && o.db !== undefined) throw new Error('serve: give --data DIR (an embedded database) or --db URL (a PostgreSQL server), not both');
      if (!o.store && (o.data !== undefined || o.db !== undefined)) throw new Error('serve: --no-store keeps no conversations; leave out --data and --db with it');
      await h.chooseBackend(o.backend, o.threads);
      // Loaded here, not at the top: the other commands do not pay for Fastify's start-up.
      const [{ createServer }, { loadServedModel }] = await Promise.all([import('../src/serve/app.js'), import('../src/serve/load.js')]);
      const apiKey: string | null = o.apiKey ?? process.env.NABLA_API_KEY ?? null;
      const name: string = o.name ?? basename(resolve(dir));
      // The store first: a database that cannot be opened is refused before anything listens.
      const store = o.store ? await (await import('../src/serve/store/index.js')).openStore(o.data === undefined && db ? { db } : { data: o.data ?? './nabla-data' }) : null;
      let server: Awaited<ReturnType<typeof createServer>>;
      try {
        server = await createServer({ name, apiKey, bodyLimit: o.bodyLimit, store });
      } catch (e) {
        await store?.close();
        throw e;
      }

      // Signals first, so a SIGTERM while the model loads is a clean exit too.
      let stopping: Promise<void> | null = null;
      let stopped!: () => void;
      const done = new Promise<void>((r) => {
        stopped = r;
      });
      const stop = (signal: string) => {
        if (stopping) {
          console.error(`nabla serve: ${signal} again: exiting now`);
          process.exit(1);
        }
        console.error(`nabla serve: ${signal}: finishing the running requests (at most ${o.grace} s), then exiting`);
        stopping = server.close(o.grace * 1000).then(stopped, (e) => {
          console.error(`nabla serve: ${(e as Error).message}`);
          stopped();
        });
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
      try {
        const url = await server.listen({ host: o.host, port: o.port });
        console.error(`nabla serve: loading ${dir}; ${url}/health answers 503 until it is ready`);
        const served = await loadServedModel(dir, { parallel: o.parallel, ctx: o.ctx, maxQueue: o.maxQueue });
        if (stopping) {
          await served.engine.close(0);
        } else {
          server.setModel(served);
          const key = apiKey ? ', API key required' : '';
          const kept = store
            ? `chat page at ${url}/, conversations stored in ${store.location} (${store.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`
            : 'no conversations stored (--no-store)';
          console.log(
            `nabla serve: ${name} ready at ${url}/v1 (${served.engine.parallel} parallel, context ${served.engine.ctx}, chat template: ${served.chatTemplate.from}${key}; ${kept})`,
          );
        }
        await done;
      } catch (e) {
        await server.close(0).catch(() => {});
        throw e;
      } finally {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        // After the server: close() has stored the answers its shutdown stopped.
        await store?.close().catch((e: Error) => console.error(`nabla serve: closing the conversation store: ${e.message}`));
      }
    });
}
