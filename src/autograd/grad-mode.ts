// Turning the recording off and on around a computation: noGrad() for evaluation and optimizer
// updates, enableGrad() inside it. The mode itself lives with the recording (ops/tape.ts).

import { withGradMode } from '../ops/tape.js';

/** Run `fn` without recording operations for autograd (PyTorch's torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Run `fn` with recording on, e.g. inside noGrad (PyTorch's torch.enable_grad()). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
