// The threaded variants: every kernel plus the worker loop and parallel tasks (needs atomics).
export * from './index';
export { workerLoop } from './threads';
