// Whether operations are recorded on the tape: noGrad() for evaluation and optimizer updates.

let enabled = true;

/** Whether operations are being recorded for autograd (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Run `fn` without recording operations for autograd (PyTorch's torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Run `fn` with recording on, e.g. inside noGrad (PyTorch's torch.enable_grad()). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = mode;
  try {
    const r = fn();
    if (r instanceof Promise) {
      // Restore only when the promise settles, so awaited work stays in the mode it was started in.
      return r.finally(() => { enabled = prev; }) as T;
    }
    enabled = prev;
    return r;
  } catch (e) {
    enabled = prev;
    throw e;
  }
}
