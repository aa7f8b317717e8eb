// Threads for the wasm backend: start a worker running a small script, in Node (worker_threads)
// or in a browser (Web Workers), and the machine's core count. Node modules are reached through
// process.getBuiltinModule so that nothing here needs a bundler shim or an async import.

declare const process: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } | undefined;

export const isNode = typeof process !== 'undefined' && !!process?.versions?.node;

function nodeModule<T>(id: string): T | null {
  return isNode && typeof process?.getBuiltinModule === 'function' ? (process.getBuiltinModule(id) as T) : null;
}

/** Logical cores available to this process (1 when unknown). */
export function hardwareThreads(): number {
  const os = nodeModule<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** Whether workers sharing a WebAssembly memory can run here (browsers need cross-origin isolation). */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (isNode) return nodeModule('node:worker_threads') !== null;
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  return g.crossOriginIsolated === true && typeof g.Worker === 'function';
}

export interface WorkerHandle {
  terminate(): void;
  /** Called with the error if the worker dies. */
  onError(fn: (e: unknown) => void): void;
}

/**
 * Start a worker that runs `body` (plain JavaScript, the body of a function of `data`), with
 * `data` (structured-cloned: may hold a WebAssembly.Module and a shared WebAssembly.Memory).
 */
export function startWorker(body: string, data: unknown): WorkerHandle {
  const wt = nodeModule<{
    Worker: new (code: string, opts: object) => { unref(): void; terminate(): unknown; on(ev: 'error', fn: (e: Error) => void): void; postMessage(m: unknown): void };
  }>('node:worker_threads');
  if (wt) {
    // Not require(): the code runs as an ES module when the process was started with
    // --input-type=module (workers inherit the flags), and require is missing there.
    const code = `const { workerData } = process.getBuiltinModule('node:worker_threads');\n(function (data) {\n${body}\n})(workerData);`;
    const w = new wt.Worker(code, { eval: true, workerData: data });
    w.unref();
    return { terminate: () => void w.terminate(), onError: (fn) => w.on('error', fn) };
  }
  const g = globalThis as unknown as { Worker: typeof Worker; Blob: typeof Blob; URL: typeof URL };
  const code = `self.onmessage = (e) => { (function (data) {\n${body}\n})(e.data); };`;
  const url = g.URL.createObjectURL(new g.Blob([code], { type: 'text/javascript' }));
  const w = new g.Worker(url);
  w.postMessage(data);
  return { terminate: () => w.terminate(), onError: (fn) => w.addEventListener('error', fn) };
}
