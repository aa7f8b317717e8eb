// nabla's WebAssembly kernels (AssemblyScript). Built offline by tools/build-wasm.mjs into four
// variants: SIMD, SIMD + threads, and both again with relaxed SIMD (fused multiply-add).
// Memory is imported from the host, which owns allocation; kernels take byte addresses.

export { gemm, matmulScratchBytes } from './matmul';
export { gemvN, gemvT } from './gemv';
export { where_f32, cast, copy4, copy4to, fill4 } from './elementwise';
export { unary_f32, binary_f32 } from './op-loops';
export { reduce_f32 } from './reduce';
export { philox_uniform_f32 } from './philox';
export { adam_f32 } from './optim';

/** First byte after the module's static data: the host's heap starts here. */
export function heapBase(): usize {
  return __heap_base;
}
export { runTask } from './tasks';
export { softmax_rows_f32 } from './softmax';
export { unfold_f32, fold_f32 } from './window';
export { layer_norm_f32, layer_norm_backward_f32, cross_entropy_f32, cross_entropy_backward_f32, gelu_f32, gelu_backward_f32 } from './fused';
export { attentionScratchBytes } from './attention';
export { slot_attention_f32 } from './slot-attention';
