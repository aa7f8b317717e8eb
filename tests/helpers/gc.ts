// Leak checks count live buffers; tensors other tests left to the garbage collector are given back
// by FinalizationRegistry callbacks at arbitrary moments. settleGarbage() runs the collector (the
// webgpu test project starts node with --expose-gc) and lets those callbacks run first, so a count
// taken after it changes only by what the test itself does.
export async function settleGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}
