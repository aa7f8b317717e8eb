// The embedded database: PGlite (PostgreSQL compiled to WebAssembly, run in this process) with its
// data directory on disk. Two things PGlite leaves to its user are done here:
//
// - Durability. PGlite starts PostgreSQL with fsync off (-F), and the Emscripten file system it
//   mounts for Node (NODEFS) has no fsync, so a commit is written to the OS but not flushed to the
//   disk: it survives a killed process, not a power cut. Here fsync is on, the WAL is flushed with
//   fsync() (PGlite's fdatasync() is a no-op that never reaches the file), and NODEFS's fsync calls
//   Node's fs.fsyncSync: a resolved commit is on the disk, as with a PostgreSQL server.
// - One process at a time. PGlite is PostgreSQL's single-user mode: one connection, in one process.
//   It does not lock its data directory (a second process opens it too and both write the same
//   files: the database is corrupted), so the store keeps a lock file, `nabla.lock`, with the
//   owner's process id; an opener finds it held by a live process and refuses, or finds it left
//   by a dead one (a SIGKILL) and takes it over.

import { existsSync, fsyncSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PGlite as PGliteType } from '@electric-sql/pglite';
import { StoreError } from './errors.js';
import type { Sql, SqlClient } from './sql.js';

/** The lock file in a data directory; PostgreSQL ignores files it does not know in its data directory. */
export const LOCK_FILE = 'nabla.lock';

/** Data directories open in this process (a second PGlite on one directory corrupts it as surely as a second process). */
const openHere = new Set<string>();

interface LockOwner {
  pid: number;
  /** The owner's start time (Linux /proc: clock ticks since boot), so a reused process id is not taken for the owner. */
  start: string | null;
}

/** A process's start time from /proc, or null where there is no /proc (macOS, Windows) or no such process. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the fields after the command name in parentheses begin at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  const start = owner.start === null ? null : processStart(owner.pid);
  return start === null || start === owner.start;
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof o.pid === 'number' ? { pid: o.pid, start: typeof o.start === 'string' ? o.start : null } : { pid: -1, start: null };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { pid: -1, start: null }; // unreadable: a lock file cut short by a crash while it was written
  }
}

function inUse(dir: string, pid: number): StoreError {
  return new StoreError(
    'unavailable',
    `the data directory ${dir} is in use by another process (pid ${pid}). PGlite runs PostgreSQL in one process and does not lock its directory, ` +
      'so a second process would corrupt it: stop that process first, or keep the conversations in a PostgreSQL server (--db postgres://...) ' +
      `to share them between several processes. If no such process runs, delete ${join(dir, LOCK_FILE)}.`,
  );
}

/** Takes the directory's lock file, or throws when a live process holds it; returns the function that gives it back. */
function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, start: processStart(process.pid) };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx' }); // exclusive: of two openers, one creates it
      return () => {
        if (readOwner(path)?.pid === me.pid) unlinkSync(path);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError('unavailable', `cannot write the lock file ${path}: ${(e as Error).message}`, { cause: e });
    }
    const owner = readOwner(path);
    if (owner === null) continue; // given back meanwhile
    if (owner.pid !== process.pid && alive(owner)) throw inUse(dir, owner.pid);
    // Left by a dead process (or by a failed open in this one). Moved aside, not deleted: of two
    // openers that both found it stale, the one whose rename comes second moves the winner's new
    // lock, sees that, and puts it back.
    const aside = `${path}.${process.pid}.stale`;
    try {
      renameSync(path, aside);
    } catch {
      continue;
    }
    const moved = readOwner(aside);
    if (moved && (moved.pid !== owner.pid || moved.start !== owner.start)) {
      try {
        linkSync(aside, path);
      } catch {
        // A third opener holds it now; it will be found on the next attempt.
      }
      unlinkSync(aside);
      if (moved.pid !== process.pid && alive(moved)) throw inUse(dir, moved.pid);
      continue;
    }
    unlinkSync(aside);
  }
  throw new StoreError('unavailable', `cannot take the lock file ${path}: other processes keep taking it; open the data directory from one process only`);
}

/** What an Emscripten NODEFS stream holds: the Node file descriptor behind it. */
interface NodefsStream {
  nfd: number;
}
type StreamOps = { fsync?: (stream: NodefsStream) => number };

/** The PostgreSQL start parameters: PGlite's, with fsync on (its default -F turns it off) and the WAL flushed by fsync(). */
function startParams(defaults: readonly string[]): string[] {
  return [...defaults.filter((p) => p !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
}

/** The PostgreSQL messages worth repeating in an error (PGlite's own error says only that it failed). */
function serverMessages(lines: string[]): string {
  const kept = lines.map((l) => l.replace(/^.*?\b(FATAL|PANIC|ERROR|DETAIL|HINT):\s+/, '$1: ')).filter((l) => /^(FATAL|PANIC|ERROR|DETAIL|HINT): /.test(l) || /could not/.test(l));
  return kept.length ? ` PostgreSQL said: ${kept.join(' ').trim()}` : '';
}

/**
 * Opens (creating when missing) the PGlite database in `dir`: an empty or missing directory gets
 * a new database; a directory with other files must be a PGlite data directory (PG_VERSION).
 */
export async function openPglite(dir: string): Promise<SqlClient> {
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new StoreError('invalid', `the data directory ${root} is a file; give a directory (it is created when missing)`);
  mkdirSync(root, { recursive: true });
  const files = readdirSync(root).filter((f) => !f.startsWith(LOCK_FILE));
  if (files.length > 0 && !files.includes('PG_VERSION')) {
    throw new StoreError(
      'invalid',
      `${root} is not a PGlite data directory (it holds ${files.length} other file(s) and no PG_VERSION): give an empty or new directory, or the one an earlier \`nabla serve --data\` used`,
    );
  }
  if (openHere.has(root)) throw new StoreError('unavailable', `the data directory ${root} is already open in this process: open it once and share the store`);
  const unlock = lockDataDir(root);
  openHere.add(root);
  const stderr: string[] = [];
  let db: PGliteType;
  try {
    // Loaded here: the WebAssembly build is 10 MB that a server on PostgreSQL never needs.
    const [{ PGlite }, { NodeFS }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite/nodefs')]);
    class SyncedNodeFS extends NodeFS {
      override async init(pg: PGliteType, opts: Parameters<InstanceType<typeof NodeFS>['init']>[1]) {
        const r = await super.init(pg, opts);
        const preRun = r.emscriptenOpts.preRun ?? [];
        preRun.push((mod) => {
          const ops = (mod.NODEFS as unknown as { stream_ops?: StreamOps }).stream_ops;
          // PGlite 0.6 exposes NODEFS on its module; without it commits would not be flushed, so fail loudly.
          if (!ops) throw new Error('this PGlite has no NODEFS stream operations to give fsync to');
          ops.fsync = (stream) => {
            fsyncSync(stream.nfd);
            return 0;
          };
        });
        r.emscriptenOpts.preRun = preRun;
        return r;
      }
    }
    db = new PGlite({
      fs: new SyncedNodeFS(root),
      startParams: startParams(PGlite.defaultStartParams),
      onStderr: (text: string) => {
        stderr.push(text);
        if (stderr.length > 40) stderr.shift();
        return true;
      },
    });
    await db.waitReady;
  } catch (e) {
    openHere.delete(root);
    unlock();
    const version = existsSync(join(root, 'PG_VERSION')) ? readFileSync(join(root, 'PG_VERSION'), 'utf8').trim() : null;
    const what = version ? `its database (PostgreSQL ${version} files)` : 'a new database in it';
    throw new StoreError(
      'unavailable',
      `cannot open ${what} in the data directory ${root} with PGlite: ${(e as Error).message}.${serverMessages(stderr)} ` +
        'A directory written by a PostgreSQL server, or left half-created by a killed process, cannot be opened: give another directory (or remove this one).',
      { cause: e },
    );
  }
  return pgliteClient(db, root, () => {
    openHere.delete(root);
    unlock();
  });
}

function pgliteClient(db: PGliteType, root: string, release: () => void): SqlClient {
  let closing: Promise<void> | null = null;
  const on = (q: Pick<PGliteType, 'query' | 'exec'>): Sql => ({
    async query<R>(text: string, params?: readonly unknown[]) {
      return (await q.query<R>(text, params as unknown[] | undefined)).rows;
    },
    async exec(text: string) {
      await q.exec(text);
    },
  });
  const self = on(db);
  return {
    kind: 'pglite',
    location: root,
    query: self.query,
    exec: self.exec,
    transaction: (fn) => db.transaction((tx) => fn(on(tx))),
    close() {
      closing ??= (async () => {
        try {
          await db.close(); // a checkpoint: the next open replays no WAL
        } finally {
          release();
        }
      })();
      return closing;
    },
  };
}
