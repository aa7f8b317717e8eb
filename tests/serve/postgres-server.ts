// A throwaway PostgreSQL server for the tests of the store's server path: Debian's postgresql
// (initdb and postgres on PATH, or in /usr/lib/postgresql/N/bin), a new cluster in a temporary
// directory, listening on 127.0.0.1 on a free port, trust authentication, stopped and removed
// after. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user (the
// package creates it), else as `nobody`. postgresUnavailable() says, without starting anything,
// why a server cannot be had here (the test is then skipped with that reason in its title).

import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

/** The directory holding initdb and postgres, or null. */
function binDir(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  for (const v of versions.sort((a, b) => Number(b) - Number(a))) {
    const dir = join(root, v, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  return null;
}

/** The uid and gid of a user in /etc/passwd, or null. */
function userIds(name: string): { uid: number; gid: number } | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no /etc/passwd: not a system this helper runs a server on
  }
  return null;
}

/** Who the server runs as: nobody to switch to when not root; as root, the postgres user or nobody. */
function runAs(): { uid: number; gid: number } | null | 'self' {
  if (process.getuid?.() !== 0) return 'self';
  return userIds('postgres') ?? userIds('nobody');
}

/** Why no PostgreSQL server can be started here, or null when one can. */
export function postgresUnavailable(): string | null {
  if (process.platform === 'win32') return 'PostgreSQL server tests run on Linux and macOS only';
  if (!binDir()) return "no PostgreSQL (initdb and postgres not on PATH nor in /usr/lib/postgresql/*/bin): install Debian's postgresql, as .ci/run does";
  if (runAs() === null) return 'running as root with neither a postgres nor a nobody user to run the server as (PostgreSQL refuses root)';
  return null;
}

/** A running throwaway server. */
export interface PostgresServer {
  /** The cluster's data directory (a PostgreSQL data directory, for tests that need one). */
  dataDir: string;
  port: number;
  /** A URL for a database on this server (created by createDatabase, or 'postgres'). */
  url(database: string): string;
  /** Creates a new empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs one query on a database as the superuser. */
  query<R = Record<string, unknown>>(database: string, text: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

function run(cmd: string, args: string[], o: { uid?: number; gid?: number; cwd: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...o, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${out}`))));
  });
}

/** Starts a new cluster (about a second). Call postgresUnavailable() first. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir()!;
  const user = runAs();
  const ids: { uid?: number; gid?: number } = user === 'self' || user === null ? {} : user;
  const root = mkdtempSync(join(tmpdir(), 'nabla-pg-'));
  if (ids.uid !== undefined) chownSync(root, ids.uid, ids.gid!);
  const dataDir = join(root, 'data');
  const opts = { ...ids, cwd: root }; // the server's user may not enter the test's working directory
  // --no-sync: a cluster that lives for one test file need not survive a power cut.
  await run(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'nabla', '-E', 'UTF8', '--locale=C', '--no-sync'], opts);
  const port = await freePort();
  let log = '';
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=60', '-c', 'shared_buffers=16MB'],
    { ...opts, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (d) => (log += d));
  server.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  const url = (database: string) => `postgres://nabla@127.0.0.1:${port}/${database}`;
  const query = async <R>(database: string, text: string, params?: unknown[]): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as R[];
    } finally {
      await client.end();
    }
  };
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGINT'); // fast shutdown: ends the sessions, writes a checkpoint
      const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(root, { recursive: true, force: true });
  };
  const t0 = Date.now();
  for (;;) {
    try {
      await query('postgres', 'select 1');
      break;
    } catch (e) {
      if (server.exitCode !== null || Date.now() - t0 > 30_000) {
        await stop();
        throw new Error(`the throwaway PostgreSQL server did not start (${(e as Error).message}): ${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    dataDir,
    port,
    url,
    query,
    async createDatabase(name) {
      await query('postgres', `create database ${name}`);
      return url(name);
    },
    stop,
  };
}
