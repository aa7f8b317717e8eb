// Node 20 and 21 have WebAssembly relaxed SIMD (fused multiply-add, about 20% faster matmul) behind
// a V8 flag; from Node 22 it is on by default. Programs of our own (the CLI, the benchmark) turn it
// on for their process before the wasm backend compiles its kernels; the library never does.

declare const process: { versions?: { node?: string }; getBuiltinModule?: (id: string) => any } | undefined;

/** Enable relaxed SIMD in this Node process if it needs the flag; returns whether it was set. */
export function enableRelaxedSimd(): boolean {
  const major = Number(typeof process !== 'undefined' ? process?.versions?.node?.split('.')[0] : NaN);
  if (!(major >= 20 && major < 22)) return false;
  const v8 = process?.getBuiltinModule?.('node:v8') as { setFlagsFromString(f: string): void } | undefined;
  if (!v8) return false;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return true;
}
