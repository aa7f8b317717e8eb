// The conversation store of `nabla serve`: openStore() opens the embedded database (PGlite, in a
// data directory) or a PostgreSQL server (a postgres:// URL), brings its schema up to date, and
// returns the ConversationStore both share.

import { migrate } from './migrations.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import { SqlStore } from './sql-store.js';
import { StoreError } from './errors.js';
import type { ConversationStore } from './types.js';

export * from './types.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { conversationExamples } from './examples.js';
export { MIGRATIONS, type Migration } from './migrations.js';

/**
 * Opens a conversation store and applies the migrations it lacks (versioned, idempotent; several
 * processes opening one server at once apply each once). Exactly one of:
 * - `data`: a directory for the embedded PGlite database, created when missing. One process at a
 *   time: a second opener is refused (PGlite cannot share a directory).
 * - `db`: a postgres:// URL. Several processes may share it.
 *
 * Failures are StoreErrors that say what to do: a URL that is not one, a server that cannot be
 * reached or refuses the login, a directory that is not a PGlite one or is in use.
 *
 * @example
 * const store = await openStore({ data: './nabla-data' });
 * const c = await store.createConversation({ model: 'gpt2', systemPrompt: 'You answer briefly.' });
 * await store.addMessage({ conversationId: c.id, role: 'user', content: 'Where is my order?' });
 * for await (const example of store.exportExamples()) console.log(JSON.stringify(example));
 * await store.close();
 */
export async function openStore(o: { data?: string; db?: string }): Promise<ConversationStore> {
  if ((o.data === undefined) === (o.db === undefined)) {
    throw new StoreError('invalid', 'openStore: give exactly one of data (a directory for the embedded database) or db (a postgres:// URL)');
  }
  for (const k of ['data', 'db'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) throw new StoreError('invalid', `openStore: ${k} must be a non-empty string, got ${JSON.stringify(o[k])}`);
  }
  const client = o.db !== undefined ? await openPostgres(o.db) : await openPglite(o.data!);
  try {
    await migrate(client);
  } catch (e) {
    await client.close().catch(() => {});
    throw e;
  }
  return new SqlStore(client);
}
