// The schema as versioned migrations. `nabla_migrations` records the versions applied; openStore
// applies the missing ones in one transaction that first takes an advisory lock, so several
// processes opening one PostgreSQL server at once apply each migration once: the first takes the
// lock and migrates, the others wait for it, then find nothing left to do. A migration, once
// released, is never edited: a change to the schema is a new version.

import { StoreError } from './errors.js';
import type { SqlClient } from './sql.js';

/** One step of the schema. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The key of the advisory lock the migrations hold ('nabla' in ASCII); any constant shared by every nabla works. */
export const MIGRATION_LOCK = 0x6e61626c61;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'conversations, messages and feedback',
    sql: `
      create table conversations (
        id uuid primary key default gen_random_uuid(),
        title text not null default '',
        model text not null,
        system_prompt text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index conversations_updated on conversations (updated_at desc, id desc);
      create index conversations_created on conversations (created_at, id);

      create table messages (
        id uuid primary key default gen_random_uuid(),
        conversation_id uuid not null references conversations (id) on delete cascade,
        -- The order of the messages: two written in one millisecond (or one transaction) share created_at.
        seq bigint generated always as identity,
        role text not null check (role in ('system', 'user', 'assistant')),
        content text not null,
        model text,
        sampling jsonb,
        prompt_tokens integer check (prompt_tokens >= 0),
        completion_tokens integer check (completion_tokens >= 0),
        timings jsonb,
        finish_reason text,
        created_at timestamptz not null default now()
      );
      create index messages_conversation on messages (conversation_id, seq);

      -- One row per answer: its rating and/or the better answer someone wrote.
      create table feedback (
        message_id uuid primary key references messages (id) on delete cascade,
        rating text check (rating in ('up', 'down')),
        correction text,
        updated_at timestamptz not null default now()
      );
    `,
  },
];

/** Applies the migrations the database lacks; returns the versions applied by this call. */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const latest = migrations.at(-1)?.version ?? 0;
  try {
    return await client.transaction(async (tx) => {
      // Held until this transaction ends; every other opener's transaction waits here.
      await tx.query(`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await tx.exec('create table if not exists nabla_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())');
      const rows = await tx.query<{ version: number }>('select version from nabla_migrations order by version');
      const done = new Set(rows.map((r) => Number(r.version)));
      const newest = Math.max(0, ...done);
      if (newest > latest) {
        throw new StoreError(
          'unavailable',
          `the database ${client.location} has schema version ${newest}, newer than this nabla knows (${latest}): it was written by a newer nabla; upgrade nabla to open it`,
        );
      }
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await tx.exec(m.sql);
        await tx.query('insert into nabla_migrations (version, name) values ($1, $2)', [m.version, m.name]);
        applied.push(m.version);
      }
      return applied;
    });
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError('unavailable', `cannot bring the schema of ${client.location} up to version ${latest}: ${(e as Error).message}`, { cause: e });
  }
}
