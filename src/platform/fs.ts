// Node file helpers: atomic writes (temporary file, fsync, rename) and bounded reads of regular files
// only, with errors that name the path.

import { constants, type Stats } from 'node:fs';
import { mkdir, open, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join, relative, resolve } from 'node:path';

/** Whether something exists at `path` (a file, a directory, or a link to one). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Write `data` to `path` so that readers see either the old file or the complete new one: the
 * bytes go to a temporary file in the same directory, are flushed to disk, then renamed over path.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** What a path that is not a regular file is, in words. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function readError(path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new Error(`cannot read ${path}: no such file`);
  return new Error(`cannot read ${path}: ${(e as Error).message}`);
}

/** A regular file open for reading at given positions. */
export interface RegularFile {
  readonly path: string;
  /** Its size when opened. */
  readonly size: number;
  /** Exactly `length` bytes from `position`; an error if the file ends sooner (it shrank meanwhile). */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Open `path` (symlinks followed) for reading, refusing anything but a regular file: a FIFO would
 * block the read forever and a device (/dev/zero) never ends.
 */
export async function openRegularFile(path: string): Promise<RegularFile> {
  let s: Stats;
  try {
    s = await stat(path);
  } catch (e) {
    throw readError(path, e);
  }
  if (!s.isFile()) throw new Error(`cannot read ${path}: it is ${kindOf(s)}, not a regular file`);
  // O_NONBLOCK: should the path become a FIFO between stat and open, open does not wait for a writer.
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw readError(path, e);
  }
  try {
    s = await fh.stat();
    if (!s.isFile()) throw new Error(`cannot read ${path}: it is ${kindOf(s)}, not a regular file`);
  } catch (e) {
    await fh.close();
    throw e;
  }
  const handle = fh;
  return {
    path,
    size: s.size,
    async read(position: number, length: number): Promise<Uint8Array> {
      let out: Uint8Array;
      try {
        out = new Uint8Array(length);
      } catch {
        throw new Error(`cannot read ${path}: ${length} bytes do not fit in one array`);
      }
      for (let got = 0; got < length; ) {
        let n: number;
        try {
          n = (await handle.read(out, got, length - got, position + got)).bytesRead;
        } catch (e) {
          throw readError(path, e);
        }
        if (n === 0) throw new Error(`cannot read ${path}: it ended at byte ${position + got}, before byte ${position + length} (was it changed while being read?)`);
        got += n;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

/** n bytes in words: "16 MiB" for whole mebibytes, else "999-byte". */
function limitWords(n: number): string {
  return n >= 2 ** 20 && n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n}-byte`;
}

/**
 * The bytes of a regular file, with an error that names the path when it cannot be read, is not a
 * regular file, or is larger than `maxBytes`.
 */
export async function readFileBytes(path: string, opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
  const f = await openRegularFile(path);
  try {
    const max = opts.maxBytes ?? Infinity;
    if (f.size > max) throw new Error(`cannot read ${path}: it is ${f.size} bytes, more than the ${limitWords(max)} limit for this file`);
    return await f.read(0, f.size);
  } finally {
    await f.close();
  }
}

/** A regular file of at most `maxBytes` as UTF-8 text (invalid sequences become U+FFFD). */
export async function readTextFile(path: string, maxBytes: number): Promise<string> {
  return new TextDecoder('utf-8').decode(await readFileBytes(path, { maxBytes }));
}

/**
 * How a file written at `fromDir` should name `target`: relative to fromDir when both sit on one file
 * system (so the two can move together), absolute otherwise. fromDir's parent and target must exist.
 */
export async function portablePath(fromDir: string, target: string): Promise<string> {
  const a = resolve(fromDir),
    b = resolve(target);
  const [sa, sb] = await Promise.all([stat(dirname(a)), stat(b)]);
  return sa.dev === sb.dev ? relative(a, b) : b;
}

/** The canonical absolute path (symlinks resolved), or the absolute path when it does not exist. */
export async function realPath(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/**
 * A JSON file holding an object, read as readTextFile does; errors start with `where` and name the
 * file and what is wrong (unreadable, too large, not JSON, not an object).
 */
// biome-ignore lint/suspicious/noExplicitAny: JSON of any shape; each caller checks the fields it reads
export async function readJsonObject(path: string, where: string, maxBytes: number): Promise<Record<string, any>> {
  let text: string;
  try {
    text = await readTextFile(path, maxBytes);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error(`${where}: ${path} is not a JSON object`);
  // biome-ignore lint/suspicious/noExplicitAny: as the return type
  return j as Record<string, any>;
}
