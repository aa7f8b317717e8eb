// A PostgreSQL server through `pg`: a Pool, so that concurrent requests of one server process run
// on several connections, and several server processes can share the database (the migrations
// serialize themselves on an advisory lock, migrations.ts).

import type { Pool as PoolType, PoolClient } from 'pg';
import { StoreError } from './errors.js';
import type { Sql, SqlClient } from './sql.js';

/** The URL with its password replaced, for messages and `location`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/** The URL without its password (`postgres://user@host:port/db`). */
function locationOf(u: URL): string {
  const user = u.username ? `${u.username}@` : '';
  return `${u.protocol}//${user}${u.host}${u.pathname}`;
}

/** Why connecting failed, in words, with what to do. */
function connectError(e: unknown, u: URL): StoreError {
  const err = e as Error & { code?: string };
  const where = `the PostgreSQL server at ${u.host || 'localhost'}`;
  const db = decodeURIComponent(u.pathname.slice(1)) || u.username || 'the default database';
  let message: string;
  switch (err.code) {
    case '28P01':
    case '28000':
      message = `${where} refused the login of user '${decodeURIComponent(u.username)}': ${err.message}. Check the user and password in the URL.`;
      break;
    case '3D000':
      message = `${where} has no database '${db}': create it first (createdb ${db}, or CREATE DATABASE ${db}), or name another in the URL.`;
      break;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      message = `cannot reach ${where} (${err.code}: ${err.message}): is it running, and are the host and port in the URL right?`;
      break;
    default:
      message = `cannot connect to ${where}: ${err.message}. Check that it runs and that the URL (postgres://user:password@host:port/database) is right.`;
  }
  return new StoreError('unavailable', message, { cause: e });
}

/** Opens a pool on a postgres:// (or postgresql://) URL and checks that one connection works. */
export async function openPostgres(url: string): Promise<SqlClient> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError('invalid', `the database URL '${redactUrl(url)}' is not a URL: give postgres://user:password@host:port/database`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new StoreError('invalid', `the database URL must begin with postgres:// or postgresql://, got '${redactUrl(url)}' (for the embedded database, give a data directory instead)`);
  }
  // Loaded here: a server on the embedded database never needs `pg`.
  const { default: pg } = await import('pg');
  const pool: PoolType = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 10_000, max: 10 });
  // An idle connection the server drops (a restart) is an 'error' event; without a listener it
  // would end the process. The pool discards that connection and opens another on the next query.
  pool.on('error', () => {});
  try {
    await pool.query('select 1');
  } catch (e) {
    await pool.end().catch(() => {});
    throw connectError(e, u);
  }
  return postgresClient(pool, locationOf(u));
}

function on(q: Pick<PoolClient, 'query'>): Sql {
  return {
    async query<R>(text: string, params?: readonly unknown[]) {
      return (await q.query(text, params as unknown[] | undefined)).rows as R[];
    },
    async exec(text: string) {
      await q.query(text); // without parameters: the simple protocol, which runs several statements
    },
  };
}

function postgresClient(pool: PoolType, location: string): SqlClient {
  let closing: Promise<void> | null = null;
  const self = on(pool);
  return {
    kind: 'postgres',
    location,
    query: self.query,
    exec: self.exec,
    async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('begin');
        const result = await fn(on(client));
        await client.query('commit');
        return result;
      } catch (e) {
        // A connection whose rollback fails is in an unknown state: released as broken, not reused.
        await client.query('rollback').catch((r: Error) => {
          broken = r;
        });
        throw e;
      } finally {
        client.release(broken);
      }
    },
    close() {
      closing ??= pool.end();
      return closing;
    },
  };
}
