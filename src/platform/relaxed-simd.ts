// Node 20 and 21 have WebAssembly relaxed SIMD (fused multiply-add, about 20% faster matmul) behind
// a V8 flag; from Node 22 it is on by default. When the relaxed build of the kernels does not
// validate, the wasm backend calls this to set the flag and tries again, so `import 'nabla'` gets
// the fastest build with no call. The flag is process-wide and only adds Wasm instructions.

declare const process: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } | undefined;

/** Enable relaxed SIMD in this Node process if it needs the flag; returns whether it was set. */
export function enableRelaxedSimd(): boolean {
  const major = Number(typeof process !== 'undefined' ? process?.versions?.node?.split('.')[0] : NaN);
  if (!(major >= 20 && major < 22)) return false;
  const v8 = process?.getBuiltinModule?.('node:v8') as { setFlagsFromString(f: string): void } | undefined;
  if (!v8) return false;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return true;
}
