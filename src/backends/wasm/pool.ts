// The thread pool of the wasm backend: workers instantiate the same module over the shared memory
// and sit in its workerLoop; the host writes a job at `ctrl`, bumps the generation, takes units of
// work as thread 0 (wasm/assembly/tasks.ts) while workers take the others, and spins until every
// unit is done. A worker that has not started by then (a busy machine) takes none, so the host
// never waits for it: a pool on a loaded machine runs no slower than one thread. Workers join
// between jobs (an admission handshake, see wasm/assembly/threads.ts). In Node, setThreads sleeps
// until they have joined (a worker starts without the parent's event loop there), so the first op
// already runs on all of them; in a browser the pool works from the first op and grows as they
// start. Results do not depend on the thread count: every output element is computed by one unit
// of work, the same way whichever thread runs it.

import { isNode, startWorker, type WorkerHandle } from '../../platform/workers.js';
import { TASK_EXIT } from './codes.js';

const GEN = 0,
  DONE = 1,
  NTHREADS = 2,
  TASK = 3,
  ARGS = 4,
  FAILED = 60,
  ADMIT = 64;
/** The i64 slot of the job's number and next unit (i32 slots 62-63). */
const NEXT64 = 31;
/** A job's unit counter once it is over: past any job's units, so no claim on it succeeds. */
const CLOSED = 0x7fffffffn;
export const CTRL_BYTES = 1024;
export const MAX_THREADS = CTRL_BYTES / 4 - ADMIT;
/**
 * Threads a wasm backend starts with: every core, at most this many. Past it the jobs of a training
 * step (products of a few hundred rows, elementwise work bound by memory bandwidth) gain little,
 * while each job wakes every worker and waits for the last, and idle workers spin between jobs.
 * setThreads(n) goes higher.
 */
export const DEFAULT_MAX_THREADS = 16;
/** How long setThreads waits in Node for its workers to join (they take tens of milliseconds). */
const JOIN_MS = 2000;

// A worker that traps marks the job failed and counts itself done, so the host never waits forever.
const WORKER_BODY = `
  const instance = new WebAssembly.Instance(data.module, { env: { memory: data.memory } });
  try {
    instance.exports.workerLoop(data.ctrl, data.tid);
  } catch (e) {
    const c = new Int32Array(data.memory.buffer, data.ctrl, 64);
    Atomics.store(c, 60, data.tid);
    Atomics.add(c, 1, 1);
    throw e;
  }
`;

export interface PoolExports {
  /** Take and run units of the job at ctrl until none is left; returns the job's number of units. */
  runTask(ctrl: number, tid: number): number;
}

export class ThreadPool {
  private readonly workers: WorkerHandle[] = [];
  /** Workers admitted into the loop (ids 1..admitted, contiguous). */
  private admitted = 0;
  private wanted = 1;
  private failed: unknown = null;
  /** Jobs started: each job's number tags its unit counter. */
  private job = 0;

  constructor(
    private readonly module: WebAssembly.Module | null,
    private readonly memory: WebAssembly.Memory,
    private readonly exports: PoolExports,
    readonly ctrl: number,
  ) {
    if (ctrl % 8 !== 0) throw new Error(`wasm pool: the control block must be 8-byte aligned, got ${ctrl}`);
  }

  /** Views of the control block, remade when the memory grows (a grown memory has a new buffer). */
  private views: { buffer: ArrayBufferLike; i32: Int32Array; i64: BigInt64Array } | null = null;
  private view(): { i32: Int32Array; i64: BigInt64Array } {
    const buffer = this.memory.buffer;
    if (this.views?.buffer !== buffer) {
      this.views = { buffer, i32: new Int32Array(buffer, this.ctrl, CTRL_BYTES / 4), i64: new BigInt64Array(buffer, this.ctrl, CTRL_BYTES / 8) };
    }
    return this.views;
  }

  private get i32(): Int32Array {
    return this.view().i32;
  }

  /** Threads in use, counting the calling thread (1 until workers have started). */
  get threads(): number {
    this.admit();
    return Math.min(this.wanted, this.admitted + 1);
  }

  /** The number of threads asked for by setThreads. */
  get requested(): number {
    return this.wanted;
  }

  get error(): unknown {
    return this.failed;
  }

  /** Use n threads (the caller's included); starts workers as needed. */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
    if (n > 1 && !this.module) throw new Error('setThreads: this wasm build has no threads (no shared memory here); only 1 thread is possible');
    this.wanted = Math.min(n, MAX_THREADS);
    for (let tid = this.workers.length + 1; tid < this.wanted; tid++) {
      const w = startWorker(WORKER_BODY, { module: this.module, memory: this.memory, ctrl: this.ctrl, tid });
      w.onError((e) => {
        this.failed = e;
      });
      this.workers.push(w);
    }
    if (isNode) this.joinSync(JOIN_MS);
  }

  /**
   * Sleep until the workers asked for have joined, or `ms` pass (then the rest join later, between
   * jobs). Node only: a browser's main thread may not block, and its workers start through its
   * event loop. The wait is on the next worker's admission slot, which it sets when it starts.
   */
  private joinSync(ms: number): void {
    const t0 = Date.now();
    while (this.threads < this.wanted && Date.now() - t0 < ms) Atomics.wait(this.i32, ADMIT + this.admitted + 1, 0, 1);
  }

  /** Wait (asynchronously) until the workers asked for are running, or `ms` pass. */
  async ready(ms = 10000): Promise<number> {
    const t0 = Date.now();
    while (this.threads < this.wanted && Date.now() - t0 < ms && !this.failed) {
      await new Promise((r) => setTimeout(r, 2));
    }
    return this.threads;
  }

  /** Admit workers that have announced themselves (only ever called between jobs). */
  private admit(): void {
    if (this.admitted + 1 >= this.workers.length + 1) return;
    const c = this.i32;
    for (let tid = this.admitted + 1; tid <= this.workers.length; tid++) {
      if (Atomics.load(c, ADMIT + tid) !== 1) break;
      Atomics.store(c, ADMIT + tid, 2);
      Atomics.notify(c, ADMIT + tid);
      // The worker only reads the generation and confirms: a short spin.
      while (Atomics.load(c, ADMIT + tid) !== 3) {
        /* spin */
      }
      this.admitted = tid;
    }
  }

  /**
   * Run task `task` with i32 arguments on `nt` threads (at most `threads`, read by the caller
   * before it sized per-thread scratch); returns when every share is done.
   */
  run(task: number, args: readonly number[], nt: number): void {
    if (nt > this.admitted + 1) throw new Error(`wasm pool: ${nt} threads asked for, ${this.admitted + 1} running`);
    const { i32: c, i64 } = this.view();
    for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i];
    c[TASK] = task;
    c[NTHREADS] = nt;
    // The job's number and unit 0, stored after the arguments (atomically: a worker that reads this
    // number sees the arguments above).
    const job = BigInt(++this.job) << 32n;
    if (this.workers.length === 0) {
      i64[NEXT64] = job;
      this.exports.runTask(this.ctrl, 0);
      return;
    }
    Atomics.store(c, DONE, 0);
    Atomics.store(i64, NEXT64, job);
    if (nt > 1) {
      Atomics.add(c, GEN, 1);
      Atomics.notify(c, GEN);
    }
    const units = this.exports.runTask(this.ctrl, 0);
    while (Atomics.load(c, DONE) < units) {
      /* spin: only units a worker has taken are left, and they are short */
    }
    // Close the job before the next one's arguments are written: a worker that read this job's
    // number but has not taken a unit yet (the OS paused it) finds none left, whatever it reads
    // later, so it never runs a unit with half of the next job's arguments.
    Atomics.store(i64, NEXT64, job | CLOSED);
    const failed = Atomics.load(c, FAILED);
    if (failed !== 0) throw new Error(`wasm: worker thread ${failed} failed during a parallel kernel; results are invalid`);
  }

  /** Stop the workers (they leave their loop and exit). */
  close(): void {
    if (this.workers.length === 0) return;
    const c = this.i32;
    c[TASK] = TASK_EXIT;
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    this.admitted = 0;
    this.wanted = 1;
  }
}
