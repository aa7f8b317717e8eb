// Advisory lock files: one writer per checkpoint path. The lock is a file created with O_EXCL that
// names its holder (pid and host); a lock whose process is gone (killed) is taken over. Locks are
// re-entrant within a process and removed at exit.

import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';

interface Held {
  count: number;
}
const held = new Map<string, Held>();
let exitHook = false;

function holderOf(path: string): { pid: number; host: string } | null {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; host?: unknown };
    return typeof j.pid === 'number' && typeof j.host === 'string' ? { pid: j.pid, host: j.host } : null;
  } catch {
    return null; // unreadable or half-written: treated as held by an unknown process
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the lock file `path` for this process, or throw `busy(pid)` when another live process holds
 * it. Returns the function that releases it (once per successful call).
 */
export function acquireLock(path: string, busy: (holder: string) => Error): () => void {
  const once = () => {
    let done = false;
    return () => {
      if (!done) {
        done = true;
        release(path);
      }
    };
  };
  const mine = held.get(path);
  if (mine) {
    mine.count++;
    return once();
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const h = holderOf(path);
      const stale = h !== null && h.host === hostname() && h.pid !== process.pid && !alive(h.pid);
      if (!stale || attempt > 0) throw busy(h ? `process ${h.pid} on ${h.host}` : 'another process');
      try {
        unlinkSync(path);
      } catch {
        /* taken over by someone else in between: retry decides */
      }
    }
  }
  held.set(path, { count: 1 });
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const p of held.keys()) {
        try {
          unlinkSync(p);
        } catch {
          /* already gone */
        }
      }
    });
  }
  return once();
}

function release(path: string): void {
  const h = held.get(path);
  if (!h) return;
  if (--h.count > 0) return;
  held.delete(path);
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
